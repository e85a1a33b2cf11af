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
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Chat, Message, Update, User

from benchmarks.common import ROOT, one_core, questions, save

PEOPLE = 1_000
UPDATES = 6_000
ROUNDS = 5


_update_ids = itertools.count(1)


def prepared_updates(first_person: int = 10_000) -> list[Update]:
    """Questions of the evaluation set from PEOPLE people, in turn.

    Each person sends 6 (plus one warm-up): like real people, nobody reaches the flood
    limit (8 in 10 s), which would make the bot ignore them and look faster than it is.
    """
    qs = questions()
    ids = _update_ids
    out = []
    for i in range(UPDATES):
        q = qs[i % len(qs)]
        uid = first_person + i % PEOPLE
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
    from bot.answers.store import import_content
    from bot.factory import App
    from localapi.offline import OfflineSession
    from storage.migrate import upgrade
    from tests.kit import make_settings

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
        # Rounds alternate so that machine noise falls on both alike; medians are reported.
        # Each round has its own people, each seen once before the timed part (language
        # cache filled, as for people who have used the bot before).
        echo_runs, bot_runs = [], []
        for round_ in range(ROUNDS):
            updates = prepared_updates(10_000 + round_ * PEOPLE)
            await run(dp, bot, updates[:PEOPLE])
            await run(echo, bot, updates[:PEOPLE])
            echo_runs.append(await run(echo, bot, updates))
            bot_runs.append(await run(dp, bot, updates))
        await app.close()
    echo_s, bot_s = statistics.median(echo_runs), statistics.median(bot_runs)
    save("dispatcher", {
        "updates": len(updates),
        "people": PEOPLE,
        "rounds": ROUNDS,
        "bot_updates_per_s": round(len(updates) / bot_s, 1),
        "echo_updates_per_s": round(len(updates) / echo_s, 1),
        "time_ratio_bot_to_echo": round(bot_s / echo_s, 2),
        "ratio_per_round": [round(b / e, 2) for b, e in zip(bot_runs, echo_runs, strict=True)],
        "database": "SQLite (embedded default)",
    })


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())
