"""The running bot for the travellers' tests, with a clock the test moves (never sleeps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select

from bot.travel.alert_board import BOARD
from tests.kit import Clock, RunningBot, rows_mentioning, running


class TravelBot(RunningBot):
    clock: Clock

    async def sweep(self) -> tuple[int, int]:
        return await self.dp["travellers"].sweep()


async def travel_bot(db_url: str, **extra: Any) -> AsyncIterator[TravelBot]:
    BOARD.replace([])
    try:
        async with running(db_url, TravelBot, clock=Clock(), long_scripts=True,
                           **{"default_language": "en", **extra}) as tb:
            await tb.dp["travellers"].stop()  # the test sweeps itself, after moving the clock
            yield tb
    finally:
        BOARD.replace([])


__all__ = ["Clock", "TravelBot", "rows_mentioning", "select", "travel_bot"]
