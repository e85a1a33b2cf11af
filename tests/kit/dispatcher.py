"""The dispatcher layer: the real dispatcher fed updates, its API calls kept by an offline
session (nothing goes over the network)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest_asyncio
from aiogram import Bot
from aiogram.methods import GetChat, GetChatMember, TelegramMethod
from aiogram.types import (
    Chat,
    ChatFullInfo,
    ChatMemberMember,
    ChatMemberOwner,
    Update,
    User,
)

from bot.factory import App
from localapi.offline import OfflineSession
from tests.kit.env import make_settings, seed_content
from tests.kit.rows import Rows
from tests.kit.updates import message, press


class MembersSession(OfflineSession):
    """The offline session, plus getChatMember/getChat answers from ``statuses``."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[tuple[int, int], str] = {}
        self.chats: dict[int | str, Chat] = {}

    async def make_request(self, bot: Bot, method: TelegramMethod[Any],
                           timeout: int | None = None) -> Any:
        if isinstance(method, GetChatMember):
            self.requests.append(method)
            person = User(id=method.user_id, is_bot=False, first_name="X")
            if self.statuses.get((int(method.chat_id), method.user_id)) == "creator":
                return ChatMemberOwner(user=person, is_anonymous=False)
            return ChatMemberMember(user=person)
        if isinstance(method, GetChat):
            self.requests.append(method)
            chat = self.chats[method.chat_id]
            return ChatFullInfo(id=chat.id, type=chat.type, title=chat.title,
                                accent_color_id=0, max_reaction_count=0,
                                accepted_gift_types={"unlimited_gifts": False,
                                                     "limited_gifts": False,
                                                     "unique_gifts": False,
                                                     "premium_subscription": False,
                                                     "gifts_from_channels": False})
        return await super().make_request(bot, method, timeout)


class OfflineBot(Rows):
    """An app's dispatcher with an offline bot: feed updates, read the calls and the rows."""

    def __init__(self, app: App, session: OfflineSession, dp: Any = None) -> None:
        super().__init__(app.session_factory)
        self.app, self.session = app, session
        self.bot = Bot("42:OFFLINE", session=session)
        self.dp = dp if dp is not None else app.dispatcher()

    async def feed(self, update: Update) -> list[Any]:
        """The API calls the dispatcher made while handling ``update``."""
        before = len(self.session.requests)
        await self.dp.feed_update(self.bot, update)
        return self.session.requests[before:]

    async def say(self, uid: int, text: str) -> list[Any]:
        return await self.feed(message(uid, text))

    async def press(self, uid: int, data: str) -> list[Any]:
        return await self.feed(press(uid, data))

    async def scalars(self, query: Any) -> list[Any]:
        """Rows as stored, once the batched question log is written (as it is within 0.5 s)."""
        await self.dp["question_log"].flush()
        return await super().scalars(query)


@asynccontextmanager
async def offline_bot(db_url: str, *, seed: bool = False, session: OfflineSession | None = None,
                      **settings: Any) -> AsyncIterator[OfflineBot]:
    """An :class:`OfflineBot` over a fresh app on ``db_url`` (``seed``: with the content)."""
    if seed:
        await seed_content(db_url)
    app = await App.create(make_settings(db_url, **settings))
    try:
        yield OfflineBot(app, session if session is not None else OfflineSession())
    finally:
        await app.close()


@pytest_asyncio.fixture
async def harness(db_url: str) -> AsyncIterator[OfflineBot]:
    """The dispatcher over the seeded content, on each backend (import it where it is used)."""
    async with offline_bot(db_url, seed=True) as bot:
        yield bot
