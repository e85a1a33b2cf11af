"""The delivery engine at Telegram's limits on a busy machine, the shared budget across
processes, and the ledger's claim cost at 100,000 rows.

1. ``broadcast``: one post to ``BENCH_CITIZENS`` (1,500) subscribers through the Publisher
   and the local Bot API server (flood limits on, 50-150 ms added to every answer, clock x1,
   SQLite), with ``BENCH_HOGS`` (2) busy-loop processes beside it. Anchor in the same run: a
   plain paced token-bucket sender (one slot every 1.02/30 s, requests in flight at once)
   sending the same number of messages to the same server.
2. ``shared``: 1 and then 3 OS processes, each with its own limiter on one Redis budget,
   sending as fast as they are allowed to distinct people; the server's record gives the
   combined rate and the most sends in any one-second window.
3. ``claims`` (PostgreSQL): a run of 100,000 ledger rows: time to write the ledger, time per
   claim of 32 rows (and per settle of them) early and late in the run, peak memory.

    python -m benchmarks benchmarks.bench_delivery      (BENCH_PARTS=broadcast,shared,claims)
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, peak_rss_mb, save

CITIZENS = int(os.environ.get("BENCH_CITIZENS", "1500"))
HOGS = int(os.environ.get("BENCH_HOGS", "2"))
LATENCY = (0.05, 0.15)
ALLOWED = 30.0
SHARED_MESSAGES = int(os.environ.get("BENCH_SHARED_MESSAGES", "600"))
CLAIM_ROWS = int(os.environ.get("BENCH_CLAIM_ROWS", "100000"))
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _hogs() -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(HOGS)]


def _stop(hogs: list[subprocess.Popen[bytes]]) -> None:
    for hog in hogs:
        hog.kill()
        hog.wait()


def _rate(stamps: list[float]) -> float:
    stamps = sorted(stamps)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


def _most_in_a_second(stamps: list[float]) -> int:
    stamps, most, first = sorted(stamps), 0, 0
    for last, at in enumerate(stamps):
        while at - stamps[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


# ---------------------------------------------------------------------- 1. broadcast


async def _engine(url: str) -> dict[str, Any]:
    from bot.outbound.delivery import EngineOptions
    from bot.publishing.publisher import Publisher
    from bot.shared.i18n import create_i18n
    from localapi import LocalBotAPI
    from tests.e2e.publishing_kit import add_post, build_world, database, ledger, make_bot
    from tests.kit import make_settings

    server = LocalBotAPI(flood_limits=True, latency=LATENCY)
    await server.start()
    token = server.register_bot(username="embassy_bot")
    async with database(url) as factory:
        world = await build_world(server, factory, citizens={"en": CITIZENS})
        post_id = await add_post(factory, world.author, channels=False, groups=False,
                                 citizens=["en"])
        bot = make_bot(server, token)
        settings = make_settings(url, api_url=server.base_url, default_language="en")
        publisher = Publisher(bot, factory, settings, create_i18n("en"), scheduler=False,
                              options=EngineOptions(workers=16))
        await publisher.start()
        cpu, wall = _cpu(), time.perf_counter()
        await publisher.enqueue(post_id)
        await publisher.wait_idle()
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        await publisher.stop()
        await bot.session.close()
        states: dict[str, int] = {}
        for row in await ledger(factory, post_id):
            states[row.state] = states.get(row.state, 0) + 1
    received = world.received()
    stamps = [c.at for c in server.calls if c.method == "sendMessage" and c.ok
              and int(c.params["chat_id"]) in received]
    await server.stop()
    rate = _rate(stamps)
    return {"rate_per_s": round(rate, 2), "of_allowed": round(rate / ALLOWED, 3),
            "lost": sum(1 for n in received.values() if n == 0),
            "duplicates": sum(n - 1 for n in received.values() if n > 1),
            "too_many_requests": server.stats.too_many_requests, "ledger": states,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 2)}


async def _anchor() -> dict[str, Any]:
    """A paced token-bucket sender: a slot every 1.02/30 s, each send its own task."""
    from localapi import LocalBotAPI
    from tests.e2e.publishing_kit import make_bot

    server = LocalBotAPI(flood_limits=True, latency=LATENCY)
    await server.start()
    token = server.register_bot(username="embassy_bot")
    people = [server.add_user(f"Citizen {i}", language_code="en", started=True)
              for i in range(CITIZENS)]
    bot = make_bot(server, token)
    interval = 1.02 / ALLOWED
    cpu, wall = _cpu(), time.perf_counter()
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for i, person in enumerate(people):
        delay = start + i * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(bot.send_message(person.id, "News")))
    await asyncio.gather(*tasks, return_exceptions=True)
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    await bot.session.close()
    stamps = [c.at for c in server.calls if c.method == "sendMessage" and c.ok]
    await server.stop()
    rate = _rate(stamps)
    return {"rate_per_s": round(rate, 2), "of_allowed": round(rate / ALLOWED, 3),
            "sent": len(stamps), "too_many_requests": server.stats.too_many_requests,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 2)}


def broadcast() -> dict[str, Any]:
    from storage.migrate import upgrade

    hogs = _hogs()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            engine = asyncio.run(_engine(url))
        anchor = asyncio.run(_anchor())
    finally:
        _stop(hogs)
    return {"setup": {"citizens": CITIZENS, "latency_s": LATENCY, "cpu_hogs": HOGS,
                      "database": "SQLite", "time_scale": 1},
            "engine": engine, "paced_anchor": anchor,
            "engine_over_anchor": round(engine["rate_per_s"] / anchor["rate_per_s"], 3)}


# ---------------------------------------------------------------------- 2. shared budget


async def _child(api: str, token: str, ids: list[int], prefix: str) -> None:
    from bot.outbound.budget import SharedBudget, budget_client
    from bot.outbound.ratelimit import LimiterMiddleware, SendLimiter, sending_at
    from tests.e2e.publishing_kit import make_bot

    class _Server:
        base_url = api

    bot = make_bot(_Server(), token)  # type: ignore[arg-type]
    redis = budget_client(REDIS_URL)
    bot.session.middleware(LimiterMiddleware(SendLimiter(shared=SharedBudget(redis, prefix))))
    with sending_at(0):
        await asyncio.gather(*(bot.send_message(i, "News") for i in ids))
    await bot.session.close()
    await redis.aclose()


async def _shared(processes: int) -> dict[str, Any]:
    from localapi import LocalBotAPI

    server = LocalBotAPI(flood_limits=True, latency=LATENCY)
    await server.start()
    token = server.register_bot(username="embassy_bot")
    people = [server.add_user(f"Citizen {i}", language_code="en", started=True).id
              for i in range(SHARED_MESSAGES)]
    prefix = f"bench:send:{uuid.uuid4().hex}"
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.bench_delivery", "child", server.base_url, token,
            prefix, ",".join(map(str, people[k::processes])), cwd=ROOT)
        for k in range(processes)
    ]
    codes = [await child.wait() for child in children]
    stamps = [c.at for c in server.calls if c.method == "sendMessage" and c.ok]
    await server.stop()
    # The first second holds each process's start-up: the rate is taken over the rest.
    rate = _rate(stamps)
    return {"processes": processes, "exit_codes": codes, "sent": len(stamps),
            "rate_per_s": round(rate, 2), "of_allowed": round(rate / ALLOWED, 3),
            "most_in_any_second": _most_in_a_second(stamps),
            "too_many_requests": server.stats.too_many_requests}


def shared() -> dict[str, Any]:
    return {"messages": SHARED_MESSAGES, "latency_s": LATENCY,
            "runs": [asyncio.run(_shared(n)) for n in (1, 3)]}


# ---------------------------------------------------------------------- 3. claims


async def _claims() -> dict[str, Any]:
    import asyncpg
    from sqlalchemy import insert, text, update

    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade
    from storage.models.publishing import Delivery, NewsSubscription, Post
    from storage.publishing.runs import PublishingRepo, Settled

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        factory = create_session_factory(engine)
        async with factory() as session, session.begin():
            for start in range(0, CLAIM_ROWS, 10_000):
                await session.execute(insert(NewsSubscription), [
                    {"user_id": 10_000_000 + i, "language": "en", "active": True}
                    for i in range(start, min(CLAIM_ROWS, start + 10_000))])
            post = Post(author_id=1, status="scheduled", texts={"en": "News"},
                        targets={"citizens": ["en"]}, fallbacks={})
            session.add(post)
        rss_before = peak_rss_mb()
        wall = time.perf_counter()
        async with factory() as session, session.begin():
            repo = PublishingRepo(session)
            run_id = await repo.open_run(post.id, "bench", 0)
            rows = await repo.write_ledger(run_id, {"citizens": ["en"]}, lambda _: True)
        ledger_s = time.perf_counter() - wall

        async def cycle() -> tuple[float, float]:
            t0 = time.perf_counter()
            async with factory() as session, session.begin():
                got = await PublishingRepo(session).claim_batch(
                    run_id, "bench", 32, timedelta(seconds=20))
            t1 = time.perf_counter()
            async with factory() as session, session.begin():
                await PublishingRepo(session).settle_many(
                    [Settled(d.id, "sent", 1) for d in got])
            return t1 - t0, time.perf_counter() - t1

        early = [await cycle() for _ in range(50)]
        async with factory() as session, session.begin():  # the run nearly done
            await session.execute(
                update(Delivery).where(Delivery.run_id == run_id, Delivery.state == "pending",
                                       Delivery.id < text(
                                           f"(SELECT max(id) - 5000 FROM deliveries "
                                           f"WHERE run_id = {run_id})"))
                .values(state="sent"))
        late = [await cycle() for _ in range(50)]
        async with engine.connect() as conn:  # what autovacuum does during a long run
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE deliveries"))
        vacuumed = [await cycle() for _ in range(50)]
        await engine.dispose()
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    def ms(samples: list[float]) -> float:
        return round(sorted(samples)[len(samples) // 2] * 1000, 2)

    return {"rows": rows, "ledger_write_s": round(ledger_s, 2),
            "claim_32_ms_early": ms([c for c, _ in early]),
            "settle_32_ms_early": ms([s for _, s in early]),
            "claim_32_ms_late": ms([c for c, _ in late]),
            "settle_32_ms_late": ms([s for _, s in late]),
            "claim_32_ms_late_after_vacuum": ms([c for c, _ in vacuumed]),
            "settle_32_ms_late_after_vacuum": ms([s for _, s in vacuumed]),
            "peak_rss_mb": peak_rss_mb(), "rss_before_ledger_mb": rss_before}


def main() -> None:
    parts = os.environ.get("BENCH_PARTS", "broadcast,shared,claims").split(",")
    result: dict[str, Any] = {}
    if "claims" in parts:
        result["claims_postgresql"] = asyncio.run(_claims())
    if "shared" in parts:
        result["shared_budget"] = shared()
    if "broadcast" in parts:
        result["broadcast"] = broadcast()
    save("delivery", result)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        _, _, api, token, prefix, ids = sys.argv
        asyncio.run(_child(api, token, [int(i) for i in ids.split(",")], prefix))
    else:
        main()
