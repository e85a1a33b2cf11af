"""Background work of the dialogue: the SLA flag, the Monday digest, retention.

Each is a periodic job of :mod:`bot.shared.jobs` (``sla``, ``digests``,
``dialogue-retention``), run by one process at a time. Within a job each unit of work is
still claimed in the database first (the SLA flag by a conditional update, a digest by
inserting the key ``digest:<week>:<editor>``), so a job taken over from a process that died
halfway sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.store import ContentStore
from bot.answers.teach import teach_button
from bot.config import LANGUAGES, Settings
from bot.feedback.stats import build_digest, digest_week, render_digest
from bot.officer.desk import OfficerDesk, check_sla
from bot.shared.i18n import locale
from bot.shared.jobs import JobRunner
from bot.shared.tghtml import split
from storage.feedback import FeedbackRepo, QuestionLogRepo
from storage.jobs import JobDTO
from storage.models.base import utcnow
from storage.officer import DialogueRepo

log = logging.getLogger(__name__)
TICK = timedelta(minutes=1)
PURGE_EVERY = timedelta(hours=6)
DIGEST_HOUR = 9  # Monday, local time
DIGEST_EVERY = timedelta(minutes=5)  # how often the digest job looks whether one is due


async def send_digests(bot: Bot, factory: async_sessionmaker[AsyncSession], settings: Settings,
                       store: ContentStore, i18n: I18n, now: datetime | None = None
                       ) -> dict[int, str]:
    """On Monday from DIGEST_HOUR in TIMEZONE, the last week's digest to each editor once."""
    now = now or utcnow()
    local = now.astimezone(settings.tz)
    if local.weekday() != 0 or local.hour < DIGEST_HOUR:
        return {}
    week, since, until = digest_week(now, settings.tz)
    async with factory() as session:
        digest = await build_digest(session, since, until)
        staff = await DialogueRepo(session).staff()
    sent: dict[int, str] = {}
    for user_id, chosen in staff:
        async with factory() as session, session.begin():
            if not await DialogueRepo(session).claim(f"digest:{week}:{user_id}", now):
                continue
        lang = chosen if chosen in LANGUAGES else settings.default_language
        with locale(i18n, lang):
            text = render_digest(
                digest, {s: t.title.get(lang) for s, t in store.topics.items()},
                {iso: store.country_name(iso, lang) for iso in store.countries}, settings.tz)
            button = teach_button(digest.teachable) if digest.teachable else None
        markup = None if button is None else InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text=button.text, callback_data=button.data)]])
        try:
            chunks = split(text)
            for i, chunk in enumerate(chunks):
                await bot.send_message(user_id, chunk,
                                       reply_markup=markup if i == len(chunks) - 1 else None)
        except TelegramAPIError as exc:
            log.info("digest to %s not delivered: %s", user_id, exc)
            continue
        sent[user_id] = text
    return sent


async def purge_dialogue(factory: async_sessionmaker[AsyncSession], settings: Settings,
                         now: datetime | None = None) -> int:
    now = now or utcnow()
    requests = now - timedelta(days=settings.request_retention_days)
    questions = now - timedelta(days=settings.question_retention_days)
    async with factory() as session, session.begin():
        return (await DialogueRepo(session).purge(requests)
                + await FeedbackRepo(session).purge(requests, questions)
                + await QuestionLogRepo(session).purge(questions))


class DialogueJobs:
    """The dialogue's periodic jobs; safe to start in many processes at once."""

    KEYS = ("sla", "digests", "dialogue-retention")

    def __init__(self, bot: Bot, jobs: JobRunner, factory: async_sessionmaker[AsyncSession],
                 settings: Settings, store: ContentStore, i18n: I18n) -> None:
        self.bot, self.jobs = bot, jobs
        self.factory, self.settings, self.store, self.i18n = factory, settings, store, i18n

    async def sla(self, job: JobDTO | None = None) -> None:
        if self.settings.operators_chat_id is not None:
            await check_sla(OfficerDesk(self.bot, self.settings, self.store, self.i18n),
                            self.factory, utcnow())

    async def digests(self, job: JobDTO | None = None) -> None:
        await send_digests(self.bot, self.factory, self.settings, self.store, self.i18n)

    async def purge(self, job: JobDTO | None = None) -> None:
        await purge_dialogue(self.factory, self.settings)

    async def start(self) -> None:
        self.jobs.periodic("sla", TICK, self.sla)
        self.jobs.periodic("digests", DIGEST_EVERY, self.digests)
        self.jobs.periodic("dialogue-retention", PURGE_EVERY, self.purge)

    async def stop(self) -> None:
        for key in self.KEYS:
            self.jobs.unregister(key)
