"""/stats on 300,000 logged questions: how long does it block the event loop?

An editor presses "7 days", then "90 days" through the real dispatcher (role check, unit
of work, the database's counting, the charts) while a ticker coroutine wakes every 5 ms and
records how late it woke. The longest lateness is the longest time any other update would
have waited behind the /stats request. Anchor, in the same run: the ticker's lateness with
nothing else running. Bot API calls wait 50–150 ms, as Telegram is that far away. Both
backends: SQLite (embedded default) and PostgreSQL when it is reachable.
Target: the longest block ≤ 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import ROOT, save
from localapi.offline import OfflineSession

QUESTIONS = int(os.environ.get("BENCH_STATS_QUESTIONS", "300000"))
ADMIN = 99
TICK = 0.005
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def seed(factory: Any, count: int) -> None:
    from sqlalchemy import insert

    from storage.models.feedback import QuestionLog
    from storage.models.officer import OfficerRequest

    rng = random.Random(7)
    now = datetime.now(UTC)
    topics = ["passport-lost", "visa", "consular-registration", "emergency-help", None]
    kinds = ["answer", "answer", "country", "unknown", "smalltalk"]
    chunk = 10_000
    async with factory() as session:
        for start in range(0, count, chunk):
            rows = [{
                "user_id": 1_000 + i % 5_000, "lang": ("kk", "ru", "en")[i % 3],
                "kind": rng.choice(kinds), "topic": rng.choice(topics),
                "country": rng.choice(["DE", "TR", "AE", None]), "text": f"question {i}",
                "created_at": now - timedelta(seconds=rng.randrange(89 * 86_400)),
            } for i in range(start, min(count, start + chunk))]
            await session.execute(insert(QuestionLog), rows)
        await session.execute(insert(OfficerRequest), [{
            "user_id": 1_000 + i, "lang": "en", "status": "closed", "thread_id": i + 1,
            "created_at": now - timedelta(hours=i), "first_reply_at": now - timedelta(hours=i - 2),
            "rating": 1 + i % 5,
        } for i in range(500)])
        await session.commit()


async def longest_block(work: Any) -> tuple[float, float]:
    """(longest lateness of a 5 ms ticker in seconds, wall seconds of ``work``)."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        loop = asyncio.get_running_loop()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(TICK)
            worst = max(worst, loop.time() - before - TICK)

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        await work()
    finally:
        wall = time.perf_counter() - started
        done.set()
        await tick
    return worst, wall


class DistantSession(OfflineSession):
    """Telegram is 50–150 ms away: every call waits that long, as over the network."""

    rng = random.Random(3)

    async def make_request(self, bot: Any, method: Any, timeout: int | None = None) -> Any:
        await asyncio.sleep(self.rng.uniform(0.05, 0.15))
        return await super().make_request(bot, method, timeout)


async def one_backend(url: str, name: str) -> dict[str, Any]:
    from aiogram import Bot

    from bot.answers.store import import_content
    from bot.factory import App
    from bot.feedback.callbacks import StatsPeriod
    from storage.migrate import upgrade
    from tests.kit import make_settings

    await asyncio.to_thread(upgrade, url)
    settings = make_settings(url, admin_ids=(ADMIN,), default_language="en")
    app = await App.create(settings)
    await import_content(app.session_factory, ROOT / "content")
    await seed(app.session_factory, QUESTIONS)
    await app.close()
    app = await App.create(settings)
    session = DistantSession()
    bot = Bot("42:BENCH", session=session)
    dp = app.dispatcher()
    from tests.kit.updates import press_update

    idle, _ = await longest_block(lambda: asyncio.sleep(2.0))
    cpu0 = time.process_time()
    stats = []
    for days in (7, 90):
        before = len(session.requests)
        block, wall = await longest_block(
            lambda d=days: dp.feed_update(bot, press_update(ADMIN, StatsPeriod(days=d).pack())))
        photos = sum(1 for r in session.requests[before:] if type(r).__name__ == "SendPhoto")
        stats.append({"days": days, "longest_block_ms": round(block * 1000, 1),
                      "wall_s": round(wall, 2), "photos": photos})
    cpu = time.process_time() - cpu0
    await app.close()
    return {"database": name, "questions": QUESTIONS, "runs": stats,
            "cpu_s_both_runs": round(cpu, 2),
            "anchor_idle_longest_block_ms": round(idle * 1000, 1)}


async def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(await one_backend(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite"))
    try:
        import asyncpg

        dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
        name = f"bench_stats_{os.getpid()}"
        conn = await asyncpg.connect(dsn, timeout=5)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
    except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional for a benchmark
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
    else:
        try:
            results.append(await one_backend(PG_URL.rsplit("/", 1)[0] + f"/{name}",
                                             "PostgreSQL"))
        finally:
            conn = await asyncpg.connect(dsn, timeout=5)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()
    save("stats", {"target_longest_block_ms": 50, "backends": results})



if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())
