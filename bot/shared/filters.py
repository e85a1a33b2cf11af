"""Filters for the hot path, written as async ``Filter`` classes.

aiogram runs a synchronous filter (a magic ``F`` expression included) in a worker thread
for every update it is checked against; these cost a plain await instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

if TYPE_CHECKING:  # the data classes import this module lazily, from .filter()
    from bot.shared.callbacks import CallbackData


class ChatType(Filter):
    def __init__(self, *types: str) -> None:
        self.types = frozenset(types)

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        if isinstance(event, CallbackQuery):
            message = event.message
            return message is not None and message.chat.type in self.types
        return event.chat.type in self.types


class PlainText(Filter):
    """A text message that is not a command."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not message.text.startswith("/")  # type: ignore[union-attr]


class NoState(Filter):
    """The person is not in the middle of a dialogue (no FSM state)."""

    async def __call__(self, event: Message | CallbackQuery, raw_state: str | None = None) -> bool:
        return raw_state is None


class CommandText(Filter):
    """Any text that looks like a command (for the unknown-command reply)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and message.text.startswith("/")  # type: ignore[union-attr]


class HasLocation(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.location is not None or message.venue is not None


class CallbackDataFilter(Filter):
    """Matches a button whose data unpacks as ``kind``; passes it as ``callback_data``."""

    def __init__(self, kind: type[CallbackData], rule: Any = None) -> None:
        self.kind = kind
        self.rule = rule

    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        if not query.data:
            return False
        try:
            data = self.kind.unpack(query.data)
        except (ValueError, TypeError):
            return False
        if self.rule is not None and not self.rule.resolve(data):
            return False
        return {"callback_data": data}
