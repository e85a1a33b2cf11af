"""Start-up hooks for the travellers' background work: trip reminders, trip retention and
the active-alert board, in one loop per process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.services.advice import send_queued_changes
from bot.services.alert_board import refresh_board
from bot.services.alerts import alert_lines
from bot.services.journeys import send_leg_reminders
from bot.services.ratelimit import BACKGROUND, sending_at
from bot.services.store import ContentStore
from bot.services.trips import TravellerTask
from storage.models import utcnow

log = logging.getLogger(__name__)


def sender(bot: Bot) -> Callable[[int, str], Any]:
    """Sends one reminder; False if the person can never get it (blocked, chat gone).

    A 429 is waited out and the reminder sent again by the bot's limiter middleware
    (:class:`bot.services.ratelimit.LimiterMiddleware`), below citizens' replies; any error
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


class BoardRefreshingTask(TravellerTask):
    publisher: Any = None  # set at start-up: queued advisory changes go out through it

    async def sweep(self) -> tuple[int, int]:
        result = await super().sweep()
        await send_leg_reminders(self.factory, self.store, self.i18n, self.settings,
                                 self.send, self.clock(), self.alert_lines)
        await refresh_board(self.factory, self.clock())
        await send_queued_changes(self.factory, self.publisher)
        return result


async def start_travellers(dispatcher: Any, bot: Bot, settings: Settings, store: ContentStore,
                           session_factory: async_sessionmaker[AsyncSession],
                           i18n: I18n) -> None:
    """Tests put ``travel_clock`` (a callable returning the time) into the dispatcher."""
    clock: Callable[[], datetime] = dispatcher.workflow_data.get("travel_clock") or utcnow
    task = BoardRefreshingTask(session_factory, store, i18n, settings, sender(bot),
                               clock=clock, alert_lines=alert_lines)
    task.publisher = dispatcher.workflow_data.get("publisher")
    dispatcher["travellers"] = task
    await task.start()


async def stop_travellers(dispatcher: Any) -> None:
    task = dispatcher.workflow_data.get("travellers")
    if task is not None:
        await task.stop()
