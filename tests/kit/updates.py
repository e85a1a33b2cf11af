"""Telegram updates built by hand for the dispatcher layer, and reading the calls it made."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from aiogram.types import (
    CallbackQuery,
    Chat,
    Message,
    MessageEntity,
    MessageOriginUser,
    PhotoSize,
    Sticker,
    Update,
    User,
)

_ids = itertools.count(1)


def person(uid: int, lang: str | None = "en") -> User:
    return User(id=uid, is_bot=False, first_name=f"User{uid}", language_code=lang)


def message(uid: int, text: str | None = None, *, lang: str | None = "en",
            chat: Chat | None = None, **fields: Any) -> Update:
    """A message from person ``uid`` (in their private chat unless ``chat``)."""
    entities = fields.pop("entities", None)
    if text and text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    return Update(update_id=next(_ids), message=Message(
        message_id=next(_ids), date=datetime.now(UTC),
        chat=chat or Chat(id=uid, type="private"), from_user=person(uid, lang), text=text,
        entities=entities, **fields,
    ))


def text_update(uid: int, text: str, lang: str | None = "en") -> Update:
    return message(uid, text, lang=lang)


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


def press(uid: int, data: str, lang: str | None = "en") -> Update:
    """Person ``uid`` presses the button carrying ``data`` under a bot message."""
    return Update(update_id=next(_ids), callback_query=CallbackQuery(
        id=str(next(_ids)), from_user=person(uid, lang), chat_instance="1", data=data,
        message=Message(message_id=1, date=datetime.now(UTC),
                        chat=Chat(id=uid, type="private"), text="menu"),
    ))


press_update = press


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
    """The data of the latest button whose text contains ``label``."""
    for call in reversed(calls):
        for text, data in buttons(call):
            if label in text and data:
                return data
    raise AssertionError(f"no button {label!r} in {[buttons(c) for c in calls]}")
