"""200 citizens asking 10 questions each at the same time, on SQLite and on PostgreSQL.

The real bot (``python bot.py run``, a child process, so its CPU time is its own) long-polls
the local Bot API server, which adds Telegram's 50-150 ms to every answer and enforces its
flood limits (30 messages/s overall, about 1/s per private chat). Each citizen asks a
question of the evaluation set, waits for the reply (at most ``REPLY_TIMEOUT`` seconds),
thinks ``THINK`` seconds and asks the next. A question is answered when the bot's reply
reaches the citizen's chat (the error handler's apology does not count); reply times are
from sending the question to the reply.

The bot sends at most 30 messages a second in all, so 2,000 replies take at least about
67 seconds however fast the bot is: replies queue in the bot's limiter, not in Telegram.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, ROOT, percentile, questions, save
from bot.config import LANGUAGES
from bot.shared.i18n import create_i18n
from localapi import LocalBotAPI
from localapi.records import OutEvent
from storage.migrate import upgrade
from tests.kit import seed_content
from tests.kit.env import PG_BASE
from tests.kit.env import pg_admin as _pg_admin

CITIZENS = int(os.environ.get("BENCH_CITIZENS", "200"))
QUESTIONS = int(os.environ.get("BENCH_QUESTIONS", "10"))
THINK = float(os.environ.get("BENCH_THINK", "1.5"))  # the bot mutes 8 messages in 10 s
REPLY_TIMEOUT = float(os.environ.get("BENCH_REPLY_TIMEOUT", "60"))
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
LATENCY = (0.05, 0.15)
CLK_TCK = os.sysconf("SC_CLK_TCK")
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
APOLOGIES = {create_i18n("en").gettext(APOLOGY, locale=lang) for lang in LANGUAGES}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


class Inbox:
    """Routes the bot's outgoing messages to the citizen waiting in that chat."""

    def __init__(self, server: LocalBotAPI) -> None:
        self.queue: asyncio.Queue[OutEvent] = server.subscribe()
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.apologies = 0
        self._task = asyncio.create_task(self._route())

    async def _route(self) -> None:
        while True:
            event = await self.queue.get()
            if event.kind != "sent":
                continue
            if event.message.get("text") in APOLOGIES:
                self.apologies += 1  # the error handler's "something went wrong" is no answer
                continue
            future = self.waiting.pop(event.chat_id, None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        return future

    def close(self) -> None:
        self._task.cancel()


async def citizen(server: LocalBotAPI, inbox: Inbox, index: int,
                  asked: list[dict[str, Any]], times: list[float]) -> int:
    rng = random.Random(index)
    lang = asked[index % len(asked)]["lang"]
    user = server.add_user(first_name=f"Citizen {index}", language_code=lang)
    mine = [q["q"] for q in asked if q["lang"] == lang]
    answered = 0
    await asyncio.sleep(rng.uniform(0, THINK))
    for _ in range(QUESTIONS):
        reply = inbox.expect(user.id)
        started = time.perf_counter()
        await server.send_message(user, rng.choice(mine))
        try:
            at = await asyncio.wait_for(reply, REPLY_TIMEOUT)
        except TimeoutError:
            inbox.waiting.pop(user.id, None)
        else:
            answered += 1
            times.append(at - started)
        await asyncio.sleep(THINK)
    return answered


async def _database(backend: str, folder: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'citizens.db'}"
        await asyncio.to_thread(upgrade, url)
        return url, None
    name = f"bench_citizens_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    await asyncio.to_thread(upgrade, url)
    return url, name


async def one_backend(backend: str, folder: Path) -> dict[str, Any]:
    url, pg_name = await _database(backend, folder)
    await seed_content(url)
    server = LocalBotAPI(flood_limits=True, latency=LATENCY)
    await server.start()
    token = server.register_bot(username="embassy_bot", first_name="Embassy")
    env = {**os.environ, "BOT_TOKEN": token, "BOT_API_URL": server.base_url,
           "DATABASE_URL": url, "DEFAULT_LANGUAGE": "en", "LOG_LEVEL": "WARNING"}
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", "run", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE)
    stderr: list[str] = []

    async def keep_log() -> None:
        assert bot.stderr is not None
        async for line in bot.stderr:
            stderr.append(line.decode(errors="replace").rstrip())

    logger = asyncio.create_task(keep_log())
    try:
        await server.wait_for_calls("getUpdates", timeout=60)
        inbox = Inbox(server)
        asked = questions()
        times: list[float] = []
        cpu0, wall0 = _cpu_seconds(bot.pid), time.perf_counter()
        answered = await asyncio.gather(*(citizen(server, inbox, i, asked, times)
                                          for i in range(CITIZENS)))
        wall, cpu = time.perf_counter() - wall0, _cpu_seconds(bot.pid) - cpu0
        logged_during = len(stderr)
        apologies = inbox.apologies
        inbox.close()
    finally:
        bot.send_signal(signal.SIGTERM)
        await bot.wait()
        await logger
        await server.stop()
        if pg_name:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"citizens-{backend}.log").write_text("\n".join(stderr) + "\n")
    during = stderr[:logged_during]
    pool_timeouts = sum("QueuePool limit" in line for line in during)
    return {
        "questions": CITIZENS * QUESTIONS,
        "answered": sum(answered),
        "reply_p50_ms": round(percentile(times, 0.50) * 1000) if times else None,
        "reply_p99_ms": round(percentile(times, 0.99) * 1000) if times else None,
        "reply_max_ms": round(max(times) * 1000) if times else None,
        "wall_seconds": round(wall, 1),
        "bot_cpu_seconds": round(cpu, 1),
        "apologies_instead_of_answers": apologies,
        "too_many_requests": server.stats.too_many_requests,
        "pool_timeouts_logged": pool_timeouts,
        "error_lines_logged": sum(" ERROR " in line for line in during),
    }


async def main() -> None:
    results: dict[str, Any] = {
        "setup": {"citizens": CITIZENS, "questions_each": QUESTIONS, "think_s": THINK,
                  "latency_s": LATENCY, "flood_limits": True,
                  "reply_timeout_s": REPLY_TIMEOUT,
                  "pool": {k: v for k, v in os.environ.items()
                           if k.startswith("DATABASE_") and k != "DATABASE_URL"}},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for backend in BACKENDS:
            results[backend] = await one_backend(backend, Path(tmp))
            print(backend, results[backend], flush=True)
    save("citizens", results)


if __name__ == "__main__":
    asyncio.run(main())
