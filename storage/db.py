"""Engine and session factory; SQLite for the embedded default, PostgreSQL to scale out.

A task never holds a database connection while it waits on something else (Telegram, the
send limiter, another connection): code about to wait calls :func:`release_held`, which asks
the unit of work registered for the current task (:func:`holding`) to finish its transaction
and give its connection back. Its session stays usable; the next query takes a connection anew.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class Holder(Protocol):
    async def release(self) -> None: ...


_holder: ContextVar[Holder | None] = ContextVar("connection_holder", default=None)


@contextlib.contextmanager
def holding(holder: Holder) -> Iterator[None]:
    """``holder`` (an update's unit of work) may hold a connection in this block."""
    token = _holder.set(holder)
    try:
        yield
    finally:
        _holder.reset(token)


async def release_held() -> None:
    """Commit and give back the connection the current task's unit of work holds, if any."""
    holder = _holder.get()
    if holder is not None:
        await holder.release()


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10,
                  max_overflow: int = 10, pool_timeout: float = 30.0) -> AsyncEngine:
    """``pool_size`` connections kept open, ``max_overflow`` more under load, and a wait of
    at most ``pool_timeout`` seconds for a free one."""
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        memory = path in ("", ":memory:")
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30},
                                     **({} if memory else pool))

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, **pool)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
