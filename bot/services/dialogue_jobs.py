"""Background work of the dialogue: the SLA flag, the Monday digest, retention.

Several processes may share one PostgreSQL: each job claims its unit of work in the
database first (the SLA flag by a conditional update, a digest by inserting the key
``digest:<week>:<editor>``), so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LANGUAGES, Settings
from bot.i18n import locale
from bot.services.officer import OfficerDesk, check_sla
from bot.services.stats import build_digest, digest_week, render_digest
from bot.services.store import ContentStore
from bot.services.teach import teach_button
from bot.services.tghtml import split
from storage.models import utcnow
from storage.repo_dialogue import DialogueRepo

log = logging.getLogger(__name__)
TICK = timedelta(minutes=1)
PURGE_EVERY = timedelta(hours=6)
DIGEST_HOUR = 9  # Monday, local time


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
    async with factory() as session, session.begin():
        return await DialogueRepo(session).purge(
            now - timedelta(days=settings.request_retention_days),
            now - timedelta(days=settings.question_retention_days))


class DialogueJobs:
    """One loop per process; safe to run in many processes at once."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], settings: Settings,
                 store: ContentStore, i18n: I18n) -> None:
        self.factory, self.settings, self.store, self.i18n = factory, settings, store, i18n
        self._task: asyncio.Task[None] | None = None
        self._last_purge: datetime | None = None

    async def tick(self, bot: Bot, now: datetime | None = None) -> None:
        now = now or utcnow()
        if self.settings.operators_chat_id is not None:
            await check_sla(OfficerDesk(bot, self.settings, self.store, self.i18n),
                            self.factory, now)
        await send_digests(bot, self.factory, self.settings, self.store, self.i18n, now)
        if self._last_purge is None or now - self._last_purge >= PURGE_EVERY:
            await purge_dialogue(self.factory, self.settings, now)
            self._last_purge = now

    async def _loop(self, bot: Bot) -> None:
        while True:
            try:
                await self.tick(bot)
            except Exception:
                log.exception("dialogue jobs failed")
            await asyncio.sleep(TICK.total_seconds())

    async def start(self, bot: Bot) -> None:
        self._task = asyncio.create_task(self._loop(bot), name="dialogue-jobs")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
