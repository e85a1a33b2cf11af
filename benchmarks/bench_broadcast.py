"""Broadcast: a post to 3,000 private subscribers and 30 groups through the local Bot API
server with Telegram's flood limits enforced and 50-150 ms added to every answer.

Part 1 runs the Publisher in this process and, while it broadcasts, has the same bot answer
a citizen every few seconds (the interactive path, through the shared limiter), measuring the
reply's wait. Part 2 runs the publisher as a child process, SIGKILLs it once half the
messages are out and starts it again.

The server's clock runs ``SCALE`` times faster than real time; the limiter runs on the same
scale, so rates below are in Telegram (server) seconds and the ratio to the allowed 30/s is
what production would see, up to the real-time costs (database writes) the scale compresses.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, save
from bot.outbound.delivery import EngineOptions
from bot.publishing.publisher import Publisher
from bot.shared.i18n import create_i18n
from localapi import LocalBotAPI
from storage.migrate import upgrade
from tests.e2e.publishing_kit import World, add_post, build_world, database, ledger, make_bot
from tests.kit import make_settings

SCALE = float(os.environ.get("BENCH_SCALE", "1"))  # ×1: see README (jitter at ×4)
CITIZENS = int(os.environ.get("BENCH_CITIZENS", "3000"))
GROUPS = 30
LATENCY = (0.05, 0.15)
ALLOWED = 30.0
WORKERS = int(os.environ.get("BENCH_WORKERS", "16"))


def _sends(server: LocalBotAPI, world: World) -> list[float]:
    targets = {*world.citizens, *world.groups}
    return sorted(c.at for c in server.calls
                  if c.ok and c.method == "sendMessage" and c.params.get("chat_id") is not None
                  and int(c.params["chat_id"]) in targets)


def _rate(stamps: list[float]) -> float:
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


async def _world(url: str) -> tuple[LocalBotAPI, str, World, int]:
    server = LocalBotAPI(flood_limits=True, time_scale=SCALE, latency=LATENCY)
    await server.start()
    token = server.register_bot(username="embassy_bot")
    async with database(url) as factory:
        world = await build_world(server, factory, citizens={"en": CITIZENS}, groups=GROUPS)
        post_id = await add_post(factory, world.author, channels=False, citizens=["en"])
    return server, token, world, post_id


async def _outcome(server: LocalBotAPI, world: World, url: str, post_id: int) -> dict[str, Any]:
    received = world.received()
    async with database(url) as factory:
        states: dict[str, int] = {}
        for row in await ledger(factory, post_id):
            states[row.state] = states.get(row.state, 0) + 1
    stamps = _sends(server, world)
    rate = _rate(stamps)
    return {
        "recipients": len(received),
        "messages_sent": len(stamps),
        "rate_per_s": round(rate, 2),
        "fraction_of_allowed": round(rate / ALLOWED, 3),
        "too_many_requests": server.stats.too_many_requests,
        "too_many_requests_to_recipients": sum(
            n for cid, n in server.stats.retry_after_per_chat.items() if cid in received),
        "lost": sum(1 for n in received.values() if n == 0),
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "ledger": states,
        "server_seconds": round(stamps[-1] - stamps[0], 1) if stamps else 0,
    }


async def in_process(url: str) -> dict[str, Any]:
    server, token, world, post_id = await _world(url)
    citizen = server.add_user("Asking citizen", language_code="en", started=True)
    settings = make_settings(url, api_url=server.base_url, default_language="en")
    bot = make_bot(server, token)
    waits: list[float] = []
    async with database(url) as factory:
        publisher = Publisher(bot, factory, settings, create_i18n("en"), time_scale=SCALE,
                              scheduler=False, options=EngineOptions(workers=WORKERS))
        await publisher.start()
        started = time.perf_counter()
        await publisher.enqueue(post_id)
        while publisher._runs:
            await server.sleep(3.0)
            if not publisher._runs:
                break
            asked = server.clock()
            await bot.send_message(citizen.id, "Your answer")
            waits.append(server.clock() - asked)
        await publisher.wait_idle()
        real = time.perf_counter() - started
        await publisher.stop()
    await bot.session.close()
    result = await _outcome(server, world, url, post_id)
    result["real_seconds"] = round(real, 1)
    result["reply_ms_during_broadcast"] = {
        "count": len(waits),
        "median": round(statistics.median(waits) * 1000) if waits else None,
        "max": round(max(waits) * 1000) if waits else None,
        "note": "includes the 50-150 ms answer latency",
    }
    await server.stop()
    return result


async def _spawn(server: LocalBotAPI, token: str, url: str,
                 post_id: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.broadcast_runner", "--db", url, "--api", server.base_url,
        "--token", token, "--scale", str(SCALE), "--post", str(post_id),
        "--workers", str(WORKERS), cwd=ROOT,
    )


async def killed_at_half(url: str) -> dict[str, Any]:
    server, token, world, post_id = await _world(url)
    total = len(world.citizens) + len(world.groups)
    process = await _spawn(server, token, url, post_id)
    while sum(world.received().values()) < total // 2:  # noqa: ASYNC110 - server counters
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    at_kill = sum(world.received().values())
    process = await _spawn(server, token, url, post_id)
    await process.wait()
    result = await _outcome(server, world, url, post_id)
    result["delivered_at_kill"] = at_kill
    result["exit_code_after_restart"] = process.returncode
    result["note"] = "rate spans the restart (process start-up included)"
    await server.stop()
    return result


def _database(folder: Path, name: str) -> str:
    url = f"sqlite+aiosqlite:///{folder / name}"
    upgrade(url)
    return url


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first = asyncio.run(in_process(_database(folder, "one.db")))
        second = asyncio.run(killed_at_half(_database(folder, "two.db")))
    save("broadcast", {
        "setup": {"citizens": CITIZENS, "groups": GROUPS, "latency_s": LATENCY,
                  "time_scale": SCALE, "allowed_rate_per_s": ALLOWED, "database": "SQLite"},
        "uninterrupted": first,
        "killed_at_half_and_restarted": second,
    })


if __name__ == "__main__":
    main()
