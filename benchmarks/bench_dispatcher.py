"""(b) Question updates per second through the real dispatcher, beside a bare echo bot.

Both dispatchers get the same prepared ``Update`` objects (questions of the evaluation
set, from 1,000 different people) and a network-free session, so what is measured is the
bot's own work per update: middlewares (unit of work, language, i18n, flood control),
routing, analysis, rendering, and the database writes for unanswered questions.
Target: ≥ 1,000 updates/s and no worse than 3× the echo handler's time per update.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Chat, Message, Update, User

from benchmarks.common import ROOT, one_core, questions, save

PEOPLE = 1_000
UPDATES = 6_000


def prepared_updates() -> list[Update]:
    qs = questions()
    ids = itertools.count(1)
    out = []
    for i in range(UPDATES):
        q = qs[i % len(qs)]
        uid = 10_000 + i % PEOPLE
        out.append(Update(update_id=next(ids), message=Message(
            message_id=next(ids), date=datetime.now(UTC), chat=Chat(id=uid, type="private"),
            from_user=User(id=uid, is_bot=False, first_name="P", language_code=q["lang"]),
            text=q["q"],
        )))
    return out


def echo_dispatcher() -> Dispatcher:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def run(dp: Dispatcher, bot: Bot, updates: list[Update]) -> float:
    started = time.perf_counter()
    for update in updates:
        await dp.feed_update(bot, update)
    return time.perf_counter() - started


async def main() -> None:
    one_core()
    from bot.factory import App
    from bot.localapi.offline import OfflineSession
    from bot.services.store import import_content
    from storage.migrate import upgrade
    from tests.conftest import make_settings

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, url)
        app = await App.create(make_settings(url))
        await import_content(app.session_factory, ROOT / "content")
        await app.close()
        app = await App.create(make_settings(url))
        bot = Bot("42:BENCH", session=OfflineSession(record=False))
        dp = app.dispatcher()
        echo = echo_dispatcher()
        updates = prepared_updates()
        warm = updates[:PEOPLE]
        await run(dp, bot, warm)  # every person seen once: language cache filled
        await run(echo, bot, warm)
        echo_s = await run(echo, bot, updates)
        bot_s = await run(dp, bot, updates)
        await app.close()
    save("dispatcher", {
        "updates": len(updates),
        "people": PEOPLE,
        "bot_updates_per_s": round(len(updates) / bot_s, 1),
        "echo_updates_per_s": round(len(updates) / echo_s, 1),
        "time_ratio_bot_to_echo": round(bot_s / echo_s, 2),
        "database": "SQLite (embedded default)",
    })


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())
