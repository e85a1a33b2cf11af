"""The running bot for the travellers' tests, with a clock the test moves (never sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select, text

from bot.shared.middlewares import FloodMiddleware
from localapi import LocalBotAPI
from storage.db import create_engine
from storage.models import utcnow
from tests.conftest import Conversation, start_bot


@dataclass
class Clock:
    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class TravelBot:
    server: LocalBotAPI
    settings: Any
    app: Any
    dp: Any
    clock: Clock

    def person(self, first_name: str, language_code: str | None = "en") -> Conversation:
        return Conversation(self.server, self.server.add_user(
            first_name=first_name, language_code=language_code))

    async def sweep(self) -> tuple[int, int]:
        return await self.dp["travellers"].sweep()

    async def rows(self, query: Any) -> list[Any]:
        async with self.app.session_factory() as session:
            return list((await session.execute(query)).all())

    async def scalars(self, query: Any) -> list[Any]:
        async with self.app.session_factory() as session:
            return list((await session.scalars(query)).all())

    async def eventually(self, query: Any, timeout: float = 5.0) -> list[Any]:
        """Rows once there are any: the bot commits right after it replies."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await self.scalars(query)
            if found or asyncio.get_running_loop().time() > deadline:
                return found
            await asyncio.sleep(0.05)

    async def settled(self, query: Any, expected: Any, timeout: float = 5.0) -> Any:
        """The value of a scalar query once it equals ``expected`` (or the last seen)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.app.session_factory() as session:
                value = (await session.execute(query)).scalar()
            if value == expected or asyncio.get_running_loop().time() > deadline:
                return value
            await asyncio.sleep(0.05)

    def failed_calls(self) -> list[str]:
        return [f"{c.method}: {c.response.get('description')}" for c in self.server.calls
                if not c.ok and c.method != "getUpdates"]


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


async def travel_bot(db_url: str, **extra: Any) -> AsyncIterator[TravelBot]:
    clock = Clock()

    def use_test_clock(dp: Any) -> None:
        dp["travel_clock"] = clock

    async with LocalBotAPI() as server, start_bot(
        db_url, server, setup=use_test_clock,
        dispatcher={"flood": FloodMiddleware(limit=1000)},  # long scripted conversations
        **{"default_language": "en", **extra},
    ) as s:
        await s.dp["travellers"].stop()  # the test sweeps itself, after moving the clock
        yield TravelBot(server, s.settings, s.app, s.dp, clock)


__all__ = ["Clock", "TravelBot", "rows_mentioning", "select", "travel_bot"]
