"""Shared pieces of the editors' tests: a fake publisher, updates, a dispatcher harness."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.methods import GetChat, GetChatMember, TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatFullInfo,
    ChatMemberMember,
    ChatMemberOwner,
    Message,
    MessageEntity,
    MessageOriginUser,
    PhotoSize,
    Sticker,
    Update,
    User,
)
from sqlalchemy import select

from bot.factory import App
from bot.shared.roles import bootstrap_admins
from localapi.offline import OfflineSession
from storage.models import AuditEntry
from tests.conftest import make_settings

ADMIN = 1
EDITOR = 2
SECOND = 3
CITIZEN = 4
_ids = itertools.count(1000)


class FakePublisher:
    """Records what the editors' UI asks of the publishing backend."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def start(self) -> None:
        """Started by the backend's start-up hook when put into the dispatcher first."""

    async def stop(self) -> None:
        """Stopped by the backend's shutdown hook."""

    async def schedule(self, post_id: int, *, recorded: bool = False) -> None:
        assert recorded, "the editors' UI records its own decisions"
        self.calls.append(("schedule", post_id))

    async def unschedule(self, post_id: int, *, recorded: bool = False) -> None:
        assert recorded, "the editors' UI records its own decisions"
        self.calls.append(("unschedule", post_id))

    async def edit_published(self, post_id: int) -> tuple[int, int]:
        self.calls.append(("edit_published", post_id))
        return 3, 1

    async def report(self, post_id: int, lang: str) -> str:
        self.calls.append(("report", post_id))
        return f"<b>Report {post_id}</b> sent 10"


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


def person(uid: int, lang: str = "en") -> User:
    return User(id=uid, is_bot=False, first_name=f"User{uid}", language_code=lang)


def message(uid: int, text: str | None = None, *, chat: Chat | None = None,
            **fields: Any) -> Update:
    entities = fields.pop("entities", None)
    if text and text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    return Update(update_id=next(_ids), message=Message(
        message_id=next(_ids), date=datetime.now(UTC),
        chat=chat or Chat(id=uid, type="private"), from_user=person(uid), text=text,
        entities=entities, **fields,
    ))


def photo(uid: int) -> Update:
    return message(uid, photo=[PhotoSize(file_id="PHOTO1", file_unique_id="u1", width=9,
                                         height=9)])


def sticker(uid: int) -> Update:
    return message(uid, sticker=Sticker(file_id="S", file_unique_id="s", type="regular",
                                        width=1, height=1, is_animated=False,
                                        is_video=False))


def forwarded(uid: int, from_user: User) -> Update:
    return message(uid, "hello", forward_origin=MessageOriginUser(
        date=datetime.now(UTC), sender_user=from_user))


def press(uid: int, data: str) -> Update:
    return Update(update_id=next(_ids), callback_query=CallbackQuery(
        id=str(next(_ids)), from_user=person(uid), chat_instance="1", data=data,
        message=Message(message_id=1, date=datetime.now(UTC),
                        chat=Chat(id=uid, type="private"), text="x"),
    ))


class Harness:
    def __init__(self, app: App, dp: Dispatcher, bot: Bot, session: MembersSession,
                 publisher: FakePublisher) -> None:
        self.app, self.dp, self.bot, self.session = app, dp, bot, session
        self.publisher = publisher

    async def feed(self, update: Update) -> list[Any]:
        before = len(self.session.requests)
        await self.dp.feed_update(self.bot, update)
        return self.session.requests[before:]

    async def say(self, uid: int, text: str) -> list[Any]:
        return await self.feed(message(uid, text))

    async def press(self, uid: int, data: str) -> list[Any]:
        return await self.feed(press(uid, data))

    async def rows(self, query: Any) -> list[Any]:
        async with self.app.session_factory() as session:
            return list((await session.execute(query)).scalars().all())

    async def audit(self) -> list[AuditEntry]:
        return await self.rows(select(AuditEntry).order_by(AuditEntry.id))


def texts(calls: list[Any]) -> list[str]:
    """Every text or caption or alert the bot produced."""
    found = []
    for call in calls:
        for name in ("text", "caption"):
            value = getattr(call, name, None)
            if isinstance(value, str):
                found.append(value)
    return found


def buttons(call: Any) -> list[tuple[str, str | None]]:
    markup = getattr(call, "reply_markup", None)
    if markup is None:
        return []
    return [(b.text, b.callback_data or b.url) for row in markup.inline_keyboard for b in row]


def button(calls: list[Any], label: str) -> str:
    for call in reversed(calls):
        for text, data in buttons(call):
            if label in text and data:
                return data
    raise AssertionError(f"no button {label!r} in {[buttons(c) for c in calls]}")


async def make_harness(db_url: str, **settings: Any) -> Harness:
    # People in these tests read English; notices to others use DEFAULT_LANGUAGE.
    settings = {"default_language": "en", **settings}
    app = await App.create(make_settings(db_url, admin_ids=(ADMIN,), **settings))
    session = MembersSession()
    bot = Bot("42:OFFLINE", session=session)
    publisher = FakePublisher()
    dp = app.dispatcher()
    dp["publisher"] = publisher
    await bootstrap_admins(app.session_factory, app.settings)
    return Harness(app, dp, bot, session, publisher)


@pytest_asyncio.fixture
async def harness(db_url: str) -> AsyncIterator[Harness]:
    h = await make_harness(db_url)
    yield h
    await h.app.close()
