"""Outer middlewares: a unit of work per update, the person's language, flood control."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, Message, TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.feedback.question_log import QuestionLogBuffer
from bot.shared.i18n import language_from_telegram, pick_language
from storage.answers import QuestionRepo
from storage.db import holding
from storage.users import UserRepo

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UnitOfWork:
    """One database session per update, opened only if a handler asks for it.

    Repositories never commit; the middleware commits when the handler returns and
    rolls back when it raises. Before the update waits on Telegram or the send limiter
    (its first API call, see :class:`bot.outbound.ratelimit.LimiterMiddleware`) or on a
    connection of its own (the question log), :meth:`release` commits what was done so far
    and gives the connection back; later reads and writes of the update take a connection
    anew and are committed (or rolled back) at the end as before. So a connection is held
    only while the database is being used, never across a network round trip, and a
    handler that fails after its reply keeps what it wrote before the reply.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None
        self._owner = asyncio.current_task()
        self._after: list[Callable[[], Awaitable[object]]] = []

    def after_commit(self, action: Callable[[], Awaitable[object]]) -> None:
        """Run ``action`` once the update's work is committed (never after a rollback):
        for work that must see it from a session of its own, such as the publisher's."""
        self._after.append(action)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._factory()
        return self._session

    @property
    def users(self) -> UserRepo:
        return UserRepo(self.session)

    @property
    def questions(self) -> QuestionRepo:
        return QuestionRepo(self.session)

    async def release(self) -> None:
        """Commit the open transaction and give its connection back; the session stays.

        Only from the update's own task: a task it started (a broadcast run) shares the
        context but must not commit under a query the update may be running.
        """
        if (self._session is None or not self._session.in_transaction()
                or asyncio.current_task() is not self._owner):
            return
        await self._session.commit()

    async def finish(self, ok: bool) -> None:
        if self._session is not None:
            try:
                if ok:
                    await self._session.commit()
                else:
                    await self._session.rollback()
            finally:
                await self._session.close()
                self._session = None
        actions, self._after = self._after, []
        for action in actions if ok else ():
            await action()


class LanguageCache:
    """Chosen languages by user id, so most updates need no database round trip.

    Beside the chosen language it remembers the Telegram language last stored on the
    person's row, so that the row is written only when that changes. Entries expire so
    that a choice made through another process shows up within ``ttl`` seconds.
    """

    def __init__(self, size: int = 50_000, ttl: float = 300.0) -> None:
        self._items: OrderedDict[int, tuple[float, str | None, str | None]] = OrderedDict()
        self.size = size
        self.ttl = ttl

    def _live(self, user_id: int) -> tuple[float, str | None, str | None] | None:
        item = self._items.get(user_id)
        if item is None or item[0] < time.monotonic():
            return None
        self._items.move_to_end(user_id)
        return item

    def get(self, user_id: int) -> tuple[bool, str | None]:
        item = self._live(user_id)
        return (False, None) if item is None else (True, item[1])

    def stored_telegram(self, user_id: int) -> tuple[bool, str | None]:
        """(known, Telegram language on the person's row); unknown after ``put`` alone."""
        item = self._live(user_id)
        return (False, None) if item is None or item[2] is _UNKNOWN else (True, item[2])

    def put(self, user_id: int, language: str | None) -> None:
        item = self._items.get(user_id)
        self.remember(user_id, language, item[2] if item else _UNKNOWN)

    def remember(self, user_id: int, language: str | None, telegram: str | None) -> None:
        self._items[user_id] = (time.monotonic() + self.ttl, language, telegram)
        self._items.move_to_end(user_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def forget(self, user_id: int) -> None:
        self._items.pop(user_id, None)


_UNKNOWN: Any = object()


class DatabaseMiddleware(BaseMiddleware):
    """A unit of work per update.

    Questions are logged in batches (:mod:`bot.feedback.question_log`); any update other
    than a typed question (a button, a command) first writes the pending batch, so what
    it reads (a vote's question, statistics, a person's data to show or erase) is there.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession],
                 question_log: QuestionLogBuffer | None = None) -> None:
        self.factory = factory
        self.question_log = question_log

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self.question_log is not None and not _typed_question(event):
            try:
                await self.question_log.flush()
            except Exception:
                log.warning("question log flush failed", exc_info=True)
        uow = UnitOfWork(self.factory)
        data["uow"] = uow
        ok = False
        try:
            with holding(uow):
                result = await handler(event, data)
            ok = True
            return result
        finally:
            await uow.finish(ok)


def _typed_question(event: TelegramObject) -> bool:
    message = getattr(event, "message", None)
    text = getattr(message, "text", None)
    return isinstance(text, str) and bool(text) and not text.startswith("/")


class ChosenLanguageMiddleware(BaseMiddleware):
    """Puts the language the person chose (or None) into ``data["chosen_language"]``.

    A person writing in a private chat also gets their row in ``users``, with the language
    their Telegram reports (kk/ru/en, see :func:`bot.shared.i18n.language_from_telegram`), so that
    messages the bot writes to them first are in their language. The row is written at the
    first contact and when Telegram's language changes, in a short transaction of its own
    (never held while the update is handled); other updates need only the cache.
    """

    def __init__(self, cache: LanguageCache,
                 factory: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.cache = cache
        self.factory = factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chosen = None
        if user is not None and not user.is_bot:
            chosen = await self._chosen(user, data)
        data["chosen_language"] = chosen
        return await handler(event, data)

    async def _chosen(self, user: User, data: dict[str, Any]) -> str | None:
        found, chosen = self.cache.get(user.id)
        chat: Chat | None = data.get("event_chat")
        writes = self.factory is not None and chat is not None and chat.type == "private"
        if not writes:
            if not found:
                stored = await data["uow"].users.get(user.id)
                chosen = stored.language if stored else None
                self.cache.put(user.id, chosen)
            return chosen
        telegram = _telegram_language(user)
        known, stored_telegram = self.cache.stored_telegram(user.id)
        if found and known and stored_telegram == telegram:
            return chosen
        assert self.factory is not None
        try:
            async with self.factory() as session:
                users = UserRepo(session)
                row = await users.get(user.id)
                chosen = row.language if row else None
                # The read's transaction ends first: on SQLite, a write that follows a read
                # in one transaction fails at once if another writer came in between.
                await session.commit()
                if row is None or row.telegram_language != telegram:
                    await users.seen(user.id, telegram)
                    await session.commit()
        except Exception:
            log.warning("could not store the language of a person", exc_info=True)
            return chosen
        self.cache.remember(user.id, chosen, telegram)
        return chosen


def _telegram_language(user: User) -> str | None:
    """kk, ru or en from Telegram's ``language_code``; None when it sends none."""
    return language_from_telegram(user.language_code, "") or None


class FloodMiddleware(BaseMiddleware):
    """More than ``limit`` messages in ``window`` seconds: one polite reply, then silence.

    The person is ignored for ``cooldown`` seconds. State is per process: with several
    processes behind a webhook each keeps its own count, which still bounds the load.
    """

    def __init__(self, limit: int = 8, window: float = 10.0, cooldown: float = 30.0) -> None:
        self.limit, self.window, self.cooldown = limit, window, cooldown
        self._hits: dict[int, list[float]] = {}
        self._muted: dict[int, float] = {}

    def _sweep(self, now: float) -> None:
        if len(self._hits) > 100_000:
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
        if len(self._muted) > 10_000:
            self._muted = {k: v for k, v in self._muted.items() if v > now}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.from_user is None:
            return await handler(event, data)
        uid, now = event.from_user.id, time.monotonic()
        if self._muted.get(uid, 0.0) > now:
            return None
        hits = [t for t in self._hits.get(uid, []) if t > now - self.window]
        hits.append(now)
        self._hits[uid] = hits
        if len(hits) > self.limit:
            self._muted[uid] = now + self.cooldown
            self._hits[uid] = []
            self._sweep(now)
            await event.answer(
                _("You are writing very fast. Please wait a little, then ask again."))
            return None
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The language the person chose → Telegram's ``language_code`` → the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        default = self.i18n.default_locale
        telegram = language_from_telegram(user.language_code if user else None, default)
        return pick_language(data.get("chosen_language"), telegram, default)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        current = await self.get_locale(event=event, data=data)
        data[self.middleware_key] = self
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(current):
            return await handler(event, data)
