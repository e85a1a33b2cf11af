"""Starting the bot process as a person does (``bot.py run``) in states that used to kill it:
posts that fell due while it was down on SQLite, an unreachable database or Bot API server."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.publishing.publisher import POST_JOB, post_job_key
from localapi import LocalBotAPI
from storage.jobs import JobRepo
from tests.e2e.publishing_kit import add_post, build_world, post_row
from tests.kit import ROOT, database, seed_content, until_async

TOKEN = "123456:SECRET-part-of-the-token"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
            "LOG_LEVEL": "INFO", **extra}


async def _store_overdue_jobs(factory: Any, due: dict[int, datetime]) -> None:
    """The job table as a bot that went down before these posts fell due left it."""
    async with factory() as session, session.begin():
        for post_id, when in due.items():
            await JobRepo(session).put(post_job_key(post_id), POST_JOB, when, {"post": post_id})


async def test_sqlite_start_up_with_overdue_posts_sends_them_and_keeps_running(
    sqlite_url: str, tmp_path: Path,
) -> None:
    await seed_content(sqlite_url)
    async with LocalBotAPI() as server, database(sqlite_url) as factory:
        token = server.register_bot(username="embassy_bot")
        world = await build_world(server, factory, citizens={"en": 30, "ru": 30}, groups=3)
        now = datetime.now(UTC)
        sent_soon = await add_post(factory, world.author, send_at=now - timedelta(minutes=5))
        sent_late = await add_post(factory, world.author, send_at=now - timedelta(minutes=20))
        missed = await add_post(factory, world.author, send_at=now - timedelta(hours=3))
        await _store_overdue_jobs(factory, {sent_soon: now - timedelta(minutes=5),
                                         sent_late: now - timedelta(minutes=20),
                                         missed: now - timedelta(hours=3)})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), "run", cwd=ROOT,
            env=_env(tmp_path, DATABASE_URL=sqlite_url, BOT_TOKEN=token,
                     BOT_API_URL=server.base_url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            sent = asyncio.ensure_future(_all_sent(server, [*world.citizens, *world.groups]))
            exited = asyncio.ensure_future(proc.wait())
            await asyncio.wait({sent, exited}, timeout=90, return_when=asyncio.FIRST_COMPLETED)
            assert not exited.done(), "the bot exited at start-up"
            await sent
            for post_id, status in ((sent_soon, "sent"), (sent_late, "sent"),
                                    (missed, "missed")):
                await _status(factory, post_id, status)
            assert proc.returncode is None, "the bot exited at start-up"
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            stderr = await asyncio.wait_for(proc.stderr.read(), 30)  # type: ignore[union-attr]
            await proc.wait()
            log = stderr.decode()
            print(log[-3000:])
        assert proc.returncode == 0, log[-3000:]
        assert "database is locked" not in log
        told = [m["html"] for m in server.messages(world.author) if m["outgoing"]]
        assert any(f"Post #{missed} was not sent" in text for text in told)


async def _all_sent(server: LocalBotAPI, recipients: list[int]) -> None:
    for chat in recipients:
        await server.wait_for_messages(chat, count=2, timeout=60)


async def _status(factory: Any, post_id: int, status: str) -> None:
    await until_async(lambda: post_row(factory, post_id), lambda p: p.status == status,
                      timeout=10)
    assert (await post_row(factory, post_id)).status == status


def _one_line_failure(tmp_path: Path, **env: str) -> str:
    env = _env(tmp_path, **env) | {"LOG_LEVEL": "WARNING"}  # no INFO lines of libraries
    proc = subprocess.run([sys.executable, str(ROOT / "bot.py"), "run"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_an_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    port = _free_port()
    line = _one_line_failure(
        tmp_path, BOT_TOKEN=TOKEN,
        DATABASE_URL=f"postgresql+asyncpg://postgres:hunter2@127.0.0.1:{port}/test")
    assert line == (f"Cannot use DATABASE_URL postgresql+asyncpg://postgres:***@127.0.0.1:{port}"
                    "/test: connection refused")


def test_a_missing_database_is_one_line(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    server: str = request.getfixturevalue("_pg_database")  # PostgreSQL itself is there
    missing = server.rsplit("/", 1)[0] + "/embassy_no_such_database"
    line = _one_line_failure(tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=missing)
    assert line == (f"Cannot use DATABASE_URL {missing}: "
                    'database "embassy_no_such_database" does not exist')


def test_an_unreachable_bot_api_server_is_one_line_without_the_token(
    tmp_path: Path, sqlite_url: str,
) -> None:
    api = f"http://127.0.0.1:{_free_port()}"
    line = _one_line_failure(tmp_path, BOT_TOKEN=TOKEN, BOT_API_URL=api,
                             DATABASE_URL=sqlite_url)
    assert line == f"Cannot reach BOT_API_URL {api}: connection refused"


def test_sandbox_with_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    port = _free_port()
    line = _one_line_failure(tmp_path, BOT_TOKEN="",
                             DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x")
    assert line.startswith("Cannot use DATABASE_URL ") and line.endswith(": connection refused")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
