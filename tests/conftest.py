"""Shared fixtures: databases (SQLite and PostgreSQL) and the running bot over HTTP; the
helpers every layer uses are in :mod:`tests.kit`.

With ``CI=true`` an unreachable PostgreSQL or Redis fails the run instead of skipping.
No test may reach the real Telegram: a guard refuses any connection to it.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from storage.migrate import upgrade
from tests.kit import RunningBot, running
from tests.kit.env import PG_BASE, pg_admin, truncate_pg, unavailable


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


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    name = f"embassy_test_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means the service is missing
        unavailable("PostgreSQL", exc)
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "embassy.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("_pg_database")
    asyncio.run(truncate_pg(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "embassy.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest_asyncio.fixture
async def running_bot(db_url: str) -> AsyncIterator[RunningBot]:
    """The real bot, long polling the local Bot API server over HTTP, on each backend."""
    async with running(db_url) as bot:
        yield bot
