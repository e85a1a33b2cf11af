"""An alert to 2,000 followers while a routine post to 3,000 subscribers is going out.

Both go through the Publisher and the local Bot API server with Telegram's flood limits
and 50-150 ms added to every answer. Run A sends the alert alone; run B starts the routine
post first, waits until it is well under way, then issues the alert. The figure that
matters is the time from the alert's hand-over (``enqueue``) to its last message, in
server seconds: with priority working it is about the same in both runs.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.common import save
from bot.answers.store import ContentStore
from bot.outbound.delivery import EngineOptions
from bot.publishing.publisher import Publisher
from bot.shared.i18n import create_i18n
from bot.travel import alerts
from bot.travel.trips import local_today
from localapi import LocalBotAPI
from storage.migrate import upgrade
from storage.models.base import utcnow
from storage.models.travel import CountryFollow
from tests.e2e.publishing_kit import add_post, build_world, database, make_bot
from tests.kit import CONTENT, make_settings

SCALE = float(os.environ.get("BENCH_SCALE", "4"))
FOLLOWERS = int(os.environ.get("BENCH_FOLLOWERS", "2000"))
SUBSCRIBERS = int(os.environ.get("BENCH_CITIZENS", "3000"))
HEAD_START = int(os.environ.get("BENCH_HEAD_START", "300"))  # routine messages before the alert
LATENCY = (0.05, 0.15)
WORKERS = int(os.environ.get("BENCH_WORKERS", "16"))


def _sent_at(server: LocalBotAPI, chats: set[int]) -> list[float]:
    return sorted(c.at for c in server.calls
                  if c.ok and c.method == "sendMessage" and c.params.get("chat_id") is not None
                  and int(c.params["chat_id"]) in chats)


async def run(url: str, with_routine: bool) -> dict[str, Any]:
    server = LocalBotAPI(flood_limits=True, time_scale=SCALE, latency=LATENCY)
    await server.start()
    token = server.register_bot(username="embassy_bot")
    store = ContentStore.from_files(CONTENT)
    settings = make_settings(url, api_url=server.base_url, default_language="en")
    followers = {server.add_user(f"F{i}", language_code="en", started=True).id:
                 ("kk", "ru", "en")[i % 3] for i in range(FOLLOWERS)}
    async with database(url) as factory:
        world = await build_world(server, factory,
                                  citizens={"en": SUBSCRIBERS if with_routine else 0})
        async with factory() as session, session.begin():
            rows = [{"user_id": uid, "country": "DE", "lang": lang}
                    for uid, lang in followers.items()]
            await session.execute(insert(CountryFollow), rows)
        routine = await add_post(factory, world.author, channels=False, groups=False,
                                 citizens=["en"]) if with_routine else None
        now = utcnow()
        async with factory() as session, session.begin():
            alert = await alerts.create(
                session, world.author, "DE", "leave_now", alerts.compose(
                    store, "DE", "leave_now", {"en": "Leave now."}, now + alerts.MAX_EXPIRY / 90,
                    settings.tz), now + alerts.MAX_EXPIRY / 90, pending=False)
            audience = await alerts.fix_audience(session, alert, local_today(now, settings.tz))
        bot = make_bot(server, token)
        publisher = Publisher(bot, factory, settings, create_i18n("en"), time_scale=SCALE,
                              scheduler=False, options=EngineOptions(workers=WORKERS))
        await publisher.start()
        if routine is not None:
            await publisher.enqueue(routine)
            while len(_sent_at(server, set(world.citizens))) < HEAD_START:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        handed = server.clock()
        await publisher.enqueue(alert.id, priority=alerts.ALERT_PRIORITY)
        await publisher.wait_idle()
        await publisher.stop()
        await bot.session.close()
    alert_stamps = _sent_at(server, set(followers))
    routine_stamps = _sent_at(server, set(world.citizens))
    routine_during = sum(1 for t in routine_stamps if handed <= t <= alert_stamps[-1])
    await server.stop()
    return {
        "alert_recipients": len(audience),
        "alert_messages_sent": len(alert_stamps),
        "seconds_to_last_alert_message": round(alert_stamps[-1] - handed, 1),
        "seconds_to_first_alert_message": round(alert_stamps[0] - handed, 2),
        "routine_messages_before_alert": sum(1 for t in routine_stamps if t < handed),
        "routine_messages_while_alert_sent": routine_during,
        "routine_messages_total": len(routine_stamps),
        "too_many_requests": server.stats.too_many_requests,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name, with_routine in (("alert_alone", False), ("alert_during_routine", True)):
            url = f"sqlite+aiosqlite:///{Path(tmp) / (name + '.db')}"
            upgrade(url)
            results[name] = asyncio.run(run(url, with_routine))
            print(name, results[name], flush=True)
    save("alert", {
        "setup": {"followers": FOLLOWERS, "routine_subscribers": SUBSCRIBERS,
                  "routine_head_start_messages": HEAD_START, "latency_s": LATENCY,
                  "time_scale": SCALE, "database": "SQLite", "units": "server seconds"},
        **results,
    })


if __name__ == "__main__":
    main()
