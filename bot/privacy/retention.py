"""Personal data is kept only as long as needed: periodic deletion of what has expired."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases.service import purge_cases
from bot.config import Settings
from storage.answers import QuestionRepo
from storage.models.base import utcnow

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


RETENTION = "retention"  # the periodic job: at start-up, then every PURGE_EVERY


async def purge_retained(factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Everything personal whose time is up: unanswered questions, then cases."""
    await purge_expired(factory, settings)
    await purge_cases(factory, settings)
