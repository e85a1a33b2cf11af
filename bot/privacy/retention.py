"""Personal data is kept only as long as needed: periodic deletion of what has expired."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases.service import purge_cases
from bot.config import Settings
from bot.shared.jobs import JobRunner
from storage.answers import QuestionRepo
from storage.jobs import JobDTO
from storage.models import utcnow

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
    """Runs :func:`purge_expired` as the periodic job ``retention`` (at start-up, then every
    few hours), in whichever process claims it."""

    KEY = "retention"

    def __init__(self, factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.factory, self.settings = factory, settings

    async def _job(self, job: JobDTO) -> None:
        await purge_expired(self.factory, self.settings)
        await purge_cases(self.factory, self.settings)

    async def start(self, jobs: JobRunner) -> None:
        jobs.periodic(self.KEY, PURGE_EVERY, self._job)
