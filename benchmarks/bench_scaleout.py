"""Question updates/s with 1, 2 and 3 webhook processes; failover seconds of a running job.

Throughput: N real bot processes (``python bot.py run``, webhook mode) on one PostgreSQL and
one Redis, behind the local Bot API server acting as Telegram plus a round-robin balancer
(``webhook_balance``), 50 ms added to every answer. ``PEOPLE`` people each ask one question
of the evaluation set at once, ``ROUNDS`` times (the next round once every reply of the
previous one arrived); updates/s = questions / wall time. Telegram's flood limits are off and
``SEND_RATE`` is high so that the bot's processing is measured, not Telegram's 30 replies a
second: ``ALLOW_PAID_BROADCAST=true`` lifts the bot's own 30/s cap per process (replies are
never sent as paid broadcasts; the flag only raises the limiter's rate to ``SEND_RATE``), as
the row without it shows. CPU is the bot processes' own (user + system, summed) over the
timed part. The 1-process figure is the anchor the others are compared with, measured in the
same run.

Failover: three processes, flood limits on, a post to ``FAILOVER_AUDIENCE`` subscribers
sent at ``SEND_RATE`` 20; once it is under way the process holding the run's job is
SIGKILLed, then the next holder too. For each kill: seconds until another process holds
the job, and until the first message it sends.

    python -m benchmarks benchmarks.bench_scaleout
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import select

from benchmarks.common import questions, save
from bot.publishing.publisher import POST_JOB, RUN_JOB, post_job_key
from localapi import LocalBotAPI
from storage.jobs import JobRepo
from storage.migrate import upgrade
from storage.models.base import utcnow
from storage.models.jobs import Job
from tests.e2e.publishing_kit import add_post, build_world, database
from tests.e2e.test_scaleout import REDIS_DB, Fleet, owner_pid
from tests.kit import seed_content
from tests.kit.env import PG_BASE
from tests.kit.env import pg_admin as _pg_admin
from tests.kit.env import truncate_pg as _truncate_pg

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "150"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
PROCESS_COUNTS = [int(n) for n in os.environ.get("BENCH_PROCESSES", "1,2,3").split(",")]
FAILOVER_AUDIENCE = int(os.environ.get("BENCH_FAILOVER_AUDIENCE", "1200"))
FAILOVER = os.environ.get("BENCH_FAILOVER", "1") == "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


async def _fresh(url: str) -> None:
    from redis.asyncio import Redis

    await _truncate_pg(url)
    await seed_content(url)
    client = Redis.from_url(REDIS_DB)
    await client.flushdb()
    await client.aclose()


async def _pool(server: LocalBotAPI, n: int) -> None:
    deadline = time.monotonic() + 120
    while len(server.webhook_info().get("urls", [])) < n:
        if time.monotonic() > deadline:
            raise TimeoutError("the bot processes did not all set their webhook")
        await asyncio.sleep(0.1)


async def throughput(url: str, processes: int, home: Path,
                     capped: bool = False) -> dict[str, Any]:
    await _fresh(url)
    asked = [q for q in questions() if q.get("topic")]
    server = LocalBotAPI(latency=(0.05, 0.05), webhook_balance="round_robin")
    await server.start()
    token = server.register_bot(username="embassy_bot", first_name="Embassy")
    fleet = Fleet(server, token, url, home, send_rate="1000",
                  ALLOW_PAID_BROADCAST="false" if capped else "true")
    try:
        for _ in range(processes):
            await fleet.spawn()
        await _pool(server, processes)
        people = [server.add_user(first_name=f"P{i}", language_code=asked[i % len(asked)]["lang"])
                  for i in range(PEOPLE)]

        async def one_round(r: int) -> None:
            for person in people:
                server.mark(person)
            for i, person in enumerate(people):
                await server.send_message(person, asked[(i + r * PEOPLE) % len(asked)]["q"])
            await asyncio.gather(*(server.wait_for_messages(p, timeout=120) for p in people))

        await one_round(0)  # warm-up: first contact, caches, connections
        cpu0 = sum(_cpu_seconds(pid) for pid in fleet.alive())
        began = time.monotonic()
        for r in range(1, ROUNDS + 1):
            await one_round(r)
        wall = time.monotonic() - began
        cpu = sum(_cpu_seconds(pid) for pid in fleet.alive()) - cpu0
    finally:
        await fleet.stop()
        await server.stop()
    total = PEOPLE * ROUNDS
    return {"processes": processes, "capped_at_30": capped, "questions": total,
            "wall_s": round(wall, 2),
            "updates_per_s": round(total / wall, 1), "bot_cpu_s": round(cpu, 2),
            "cpu_ms_per_update": round(cpu / total * 1000, 2)}


async def failover(url: str, home: Path) -> list[dict[str, float]]:
    await _fresh(url)
    server = LocalBotAPI(flood_limits=True, latency=(0.05, 0.05), webhook_balance="round_robin")
    await server.start()
    token = server.register_bot(username="embassy_bot", first_name="Embassy")
    fleet = Fleet(server, token, url, home, send_rate="20")
    found: list[dict[str, float]] = []
    try:
        async with database(url) as factory:
            world = await build_world(server, factory, citizens={"en": FAILOVER_AUDIENCE})
            for _ in range(3):
                await fleet.spawn()
            await _pool(server, 3)
            post_id = await add_post(factory, world.author, channels=False, groups=False)
            async with factory() as session, session.begin():
                await JobRepo(session).put(post_job_key(post_id), POST_JOB, utcnow(),
                                           {"post": post_id})

            async def holder() -> int | None:
                async with factory() as session:
                    owner = await session.scalar(select(Job.owner).where(
                        Job.kind == RUN_JOB, Job.owner.is_not(None)))
                return owner_pid(owner)

            for _ in range(2):
                while (victim := await holder()) is None or victim not in fleet.alive():  # noqa: ASYNC110 - the database
                    await asyncio.sleep(0.05)
                await asyncio.sleep(3)  # well under way
                victim = await holder()
                assert victim is not None
                fleet.kill(victim)
                killed = time.monotonic()
                await fleet.procs[victim].wait()
                sent_then = server.stats.total_sent
                while await holder() in (None, victim):  # noqa: ASYNC110 - the database
                    await asyncio.sleep(0.05)
                taken = time.monotonic() - killed
                while server.stats.total_sent <= sent_then + 8:  # noqa: ASYNC110 - past the in-flight
                    await asyncio.sleep(0.02)
                found.append({"job_taken_s": round(taken, 2),
                              "sending_again_s": round(time.monotonic() - killed, 2)})
    finally:
        await fleet.stop()
        await server.stop()
    return found


async def main() -> None:
    name = f"embassy_bench_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        with TemporaryDirectory() as folder:
            rows = [await throughput(url, n, Path(folder)) for n in PROCESS_COUNTS]
            anchor = rows[0]["updates_per_s"]
            for row in rows:
                row["vs_one_process"] = round(row["updates_per_s"] / anchor, 2)
            rows.append(await throughput(url, 1, Path(folder), capped=True))
            kills = await failover(url, Path(folder)) if FAILOVER else []
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    save("scaleout", {"people": PEOPLE, "rounds": ROUNDS, "throughput": rows,
                      "failover": kills})


if __name__ == "__main__":
    asyncio.run(main())
