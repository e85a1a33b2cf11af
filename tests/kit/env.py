"""Where things are and what the tests run on: paths, services, settings, seeded content."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bot.config import BotSettings, DatabaseSettings, Settings

ROOT = Path(__file__).resolve().parent.parent.parent
CONTENT = ROOT / "content"
DATA = ROOT / "tests" / "data"
PG_BASE = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# Each pytest-xdist worker (gw0, gw1, ...) gets its own Redis database, counting down from 15,
# so workers never see each other's keys; PostgreSQL databases are per session already.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER % 12}")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, exc: BaseException) -> None:
    """Skip the test for a missing service, or fail it in CI (``CI=true``)."""
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure)")
    pytest.skip(message)


async def pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_BASE.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def truncate_pg(url: str) -> None:
    """Empty every table of the PostgreSQL database at ``url`` (the migrations stay)."""
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
