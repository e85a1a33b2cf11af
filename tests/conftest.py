"""Shared fixtures: databases (SQLite and PostgreSQL), the app, the running bot over HTTP.

With ``CI=true`` an unreachable PostgreSQL or Redis fails the run instead of skipping.
No test may reach the real Telegram: a guard refuses any connection to it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.config import BotSettings, DatabaseSettings, Settings
from localapi import LocalBotAPI, User
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
PG_BASE = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# Each pytest-xdist worker (gw0, gw1, ...) gets its own Redis database, counting down from 15,
# so workers never see each other's keys; PostgreSQL databases are per session already.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER % 12}")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True, scope="session")
def _no_real_telegram() -> Iterator[None]:
    """Any attempt to resolve Telegram's host fails the test loudly."""
    original = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith("telegram.org"):
            raise AssertionError(f"a test tried to reach the real Telegram ({host})")
        return original(host, *args, **kwargs)

    socket.getaddrinfo = guarded  # type: ignore[assignment]
    yield
    socket.getaddrinfo = original  # type: ignore[assignment]


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure)")
    pytest.skip(message)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_BASE.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    name = f"embassy_test_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means the service is missing
        _unavailable("PostgreSQL", exc)
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_pg(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'"
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "embassy.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("_pg_database")
    asyncio.run(_truncate_pg(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "embassy.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def make_settings(db_url: str, api_url: str = "http://127.0.0.1:9", **extra: Any) -> Settings:
    return Settings(
        bot=BotSettings(token=None, api_url=api_url),
        db=DatabaseSettings(url=db_url),
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


async def seed_content(db_url: str, root: Path = CONTENT) -> None:
    from bot.answers.store import import_content
    from storage.db import create_engine, create_session_factory

    engine = create_engine(db_url)
    try:
        await import_content(create_session_factory(engine), root)
    finally:
        await engine.dispose()


@dataclass
class Conversation:
    """One person talking to the running bot through the local Bot API server."""

    server: LocalBotAPI
    user: User

    async def say(self, text: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        self.server.mark(self.user)
        await self.server.send_message(self.user, text)
        return await self.server.wait_for_messages(self.user, count=count, timeout=timeout)

    async def press(self, label: str, message: dict[str, Any] | None = None,
                    timeout: float = 10.0) -> dict[str, Any]:
        """Press the button whose text contains ``label`` on ``message`` (default: latest)."""
        message = message or self.server.last_bot_message(self.user)
        assert message is not None, "no bot message to press a button on"
        for row in self.server.buttons(message):
            for text, data in row:
                if label in text:
                    self.server.mark(self.user)
                    await self.server.press_button(self.user, message, data)
                    got = await self.server.wait_for_messages(self.user, timeout=timeout)
                    return got[-1]
        labels = [t for row in self.server.buttons(message) for t, _ in row]
        raise AssertionError(f"no button with {label!r}; buttons: {labels}")

    def buttons(self, message: dict[str, Any]) -> list[str]:
        return [t for row in self.server.buttons(message) for t, _ in row]


@dataclass
class RunningBot:
    server: LocalBotAPI
    settings: Settings
    app: Any

    def failed_calls(self) -> list[str]:
        """Every API call the bot made that the server refused, as "method: description"."""
        return [f"{c.method}: {c.response.get('description')}" for c in self.server.calls
                if not c.ok and c.method != "getUpdates"]

    def person(self, first_name: str, language_code: str | None) -> Conversation:
        user = self.server.add_user(first_name=first_name, language_code=language_code)
        return Conversation(self.server, user)


async def eventually(running_bot: RunningBot, query: Any, timeout: float = 5.0) -> list[Any]:
    """Rows of ``query`` once there are any: the bot commits right after it replies."""
    from storage.db import create_engine

    engine = create_engine(running_bot.settings.db.url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with engine.connect() as conn:
                rows = list((await conn.execute(query)).scalars().all())
            if rows or asyncio.get_running_loop().time() > deadline:
                return rows
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


@dataclass
class Started:
    """What :func:`start_bot` started: stop order and clean-up are its business."""

    server: LocalBotAPI
    settings: Settings
    app: Any
    dp: Any
    bot: Any


@asynccontextmanager
async def start_bot(
    db_url: str,
    server: LocalBotAPI,
    *,
    dispatcher: dict[str, Any] | None = None,
    setup: Callable[[Any], Any] | None = None,
    **extra: Any,
) -> AsyncIterator[Started]:
    """The real bot long-polling ``server`` (already started) over HTTP, until the block ends.

    ``extra`` are settings, ``dispatcher`` keyword arguments for the dispatcher factory,
    ``setup(dp)`` runs before polling starts (to put test doubles into the dispatcher).
    """
    from bot.factory import App, create_bot

    await seed_content(db_url)
    token = server.register_bot(username="embassy_bot", first_name="Embassy")
    settings = make_settings(db_url, api_url=server.base_url, **extra)
    app = await App.create(settings)
    bot = create_bot(settings, token=token)
    dp = app.dispatcher(**(dispatcher or {}))
    if setup is not None:
        setup(dp)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        await server.wait_for_calls("getUpdates", timeout=10)
        yield Started(server, settings, app, dp, bot)
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
        await bot.session.close()
        await app.close()


@pytest_asyncio.fixture
async def running_bot(db_url: str) -> AsyncIterator[RunningBot]:
    """The real bot, long polling the local Bot API server over HTTP, on each backend."""
    async with LocalBotAPI() as server, start_bot(db_url, server) as started:
        yield RunningBot(server, started.settings, started.app)
