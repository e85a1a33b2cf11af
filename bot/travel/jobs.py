"""The travellers' background work: trip reminders and trip retention (the periodic job
``travellers`` of :mod:`bot.shared.jobs`, one process at a time; :class:`BoardRefreshingTask`
is its sweep), and the active-alert board.

The board is this process's memory (country cards read it), so every process refreshes its
own, like the question log's buffer is flushed per process: a short loop per process, which
only reads. Everything that writes or sends is a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbound.ratelimit import BACKGROUND, sending_at
from bot.travel.advice import send_queued_changes
from bot.travel.alert_board import Board, refresh_board
from bot.travel.journeys import send_leg_reminders
from bot.travel.trips import TravellerTask
from storage.models.base import utcnow

log = logging.getLogger(__name__)


def sender(bot: Bot) -> Callable[[int, str], Any]:
    """Sends one reminder; False if the person can never get it (blocked, chat gone).

    A 429 is waited out and the reminder sent again by the bot's limiter middleware
    (:class:`bot.outbound.ratelimit.LimiterMiddleware`), below citizens' replies; any error
    left after that raises, so the reminder stays unsent and the next sweep tries it again.
    """
    async def send(chat_id: int, text: str) -> bool:
        try:
            with sending_at(BACKGROUND):
                await bot.send_message(chat_id, text)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info("reminder to %s not delivered: %s", chat_id, exc.message)
            return False
        return True

    return send


BOARD_EVERY = 60.0  # seconds between refreshes of this process's alert board


class BoardRefresher:
    """Reloads this process's board of active alerts now and then (reads only)."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], board: Board,
                 clock: Callable[[], datetime] = utcnow, every: float = BOARD_EVERY) -> None:
        self.factory, self.board, self.clock, self.every = factory, board, clock, every
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            try:
                await refresh_board(self.factory, self.board, self.clock())
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.warning("alert board not refreshed (%s)", type(exc).__name__)
            await asyncio.sleep(self.every)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="alert-board")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class BoardRefreshingTask(TravellerTask):
    publisher: Any = None  # set at start-up: queued advisory changes go out through it
    board: Board | None = None  # set at start-up: the dispatcher's alert board

    async def sweep(self) -> tuple[int, int]:
        result = await super().sweep()
        await send_leg_reminders(self.factory, self.store, self.i18n, self.settings,
                                 self.send, self.clock(), self.alert_lines)
        if self.board is not None:
            await refresh_board(self.factory, self.board, self.clock())
        await send_queued_changes(self.factory, self.publisher)
        return result
