"""Reading database rows, and waiting for the rows the bot writes after it replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, create_session_factory
from storage.models.people import AuditEntry
from tests.kit.waiting import until_async


class Rows:
    """Queries over ``session_factory``: the tests' one way to read what the bot stored."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def rows(self, query: Any) -> list[Any]:
        """Every result row (a tuple of the selected columns)."""
        async with self.session_factory() as session:
            return list((await session.execute(query)).all())

    async def scalars(self, query: Any) -> list[Any]:
        """The first column of every result row."""
        async with self.session_factory() as session:
            return list((await session.scalars(query)).all())

    async def scalar(self, query: Any) -> Any:
        async with self.session_factory() as session:
            return (await session.execute(query)).scalar()

    async def count(self, model: Any) -> int:
        return int(await self.scalar(select(func.count()).select_from(model)) or 0)

    async def get(self, model: Any, key: Any) -> Any:
        async with self.session_factory() as session:
            return await session.get(model, key)

    async def audit(self) -> list[AuditEntry]:
        return await self.scalars(select(AuditEntry).order_by(AuditEntry.id))

    async def eventually(self, query: Any, timeout: float = 5.0) -> list[Any]:
        """The scalars of ``query`` once there are any (or ``[]`` after ``timeout``)."""
        return await until_async(lambda: self.scalars(query), timeout=timeout)

    async def settled(self, query: Any, expected: Any, timeout: float = 5.0) -> Any:
        """A scalar query's value once it equals ``expected`` (or the last value seen)."""
        return await until_async(lambda: self.scalar(query), lambda v: v == expected,
                                 timeout=timeout)


@asynccontextmanager
async def database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory over ``url`` for the block, its engine disposed after."""
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def db_factory(url: str) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(create_engine(url))


async def rows_mentioning(url: str, value: int) -> dict[str, int]:
    """Every table with a row holding ``value`` in any integer column: table → count."""
    engine = create_engine(url)
    found: dict[str, int] = {}
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: {
                t: [col["name"] for col in inspect(c).get_columns(t)
                    if "INT" in str(col["type"]).upper()]
                for t in inspect(c).get_table_names() if t != "alembic_version"})
            for table, cols in tables.items():
                for col in cols:
                    n = (await conn.execute(
                        text(f'SELECT COUNT(*) FROM "{table}" WHERE "{col}" = :v'),
                        {"v": value})).scalar_one()
                    if n:
                        found[f"{table}.{col}"] = int(n)
    finally:
        await engine.dispose()
    return found
