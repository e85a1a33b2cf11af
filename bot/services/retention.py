"""Personal data is kept only as long as needed: periodic deletion of what has expired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.services.cases import purge_cases
from storage.models import utcnow
from storage.repositories import QuestionRepo

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=6)


async def purge_expired(
    factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime | None = None
) -> int:
    """Delete unanswered questions older than ``QUESTION_RETENTION_DAYS``."""
    cutoff = (now or utcnow()) - timedelta(days=settings.question_retention_days)
    async with factory() as session, session.begin():
        removed = await QuestionRepo(session).purge_before(cutoff)
    if removed:
        log.info("deleted %d expired unanswered questions", removed)
    return removed


class RetentionTask:
    """Runs :func:`purge_expired` at start-up and every few hours while the bot runs."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.factory, self.settings = factory, settings
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            try:
                await purge_expired(self.factory, self.settings)
                await purge_cases(self.factory, self.settings)
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(PURGE_EVERY.total_seconds())

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
