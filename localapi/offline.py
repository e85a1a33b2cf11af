"""A network-free aiogram session: every request is recorded and answered locally.

For dispatcher tests and the throughput benchmark, where the Bot API's latency is not the
thing being measured. It answers with the shapes aiogram expects (a Message for sending
and editing methods, True for the rest) and never opens a socket.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import GetMe, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message, User


class OfflineSession(BaseSession):
    def __init__(self, record: bool = True) -> None:
        super().__init__()
        self.record = record
        self.requests: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(1)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if self.record:
            self.requests.append(method)
        if isinstance(method, GetMe):
            return User(id=bot.id, is_bot=True, first_name="Offline", username="offline_bot")  # type: ignore[return-value]
        returning = getattr(method, "__returning__", None)
        if isinstance(returning, type) and issubclass(returning, Message):
            return self._message(bot, method)  # type: ignore[return-value]
        return True  # type: ignore[return-value]

    def _message(self, bot: Bot, method: TelegramMethod[Any]) -> Message:
        chat_id = getattr(method, "chat_id", None) or 0
        message_id = getattr(method, "message_id", None) or next(self._ids)
        return Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=Chat(id=int(chat_id), type="private"),
            from_user=User(id=bot.id, is_bot=True, first_name="Offline"),
            text=getattr(method, "text", None),
            reply_markup=getattr(method, "reply_markup", None),
        )

    async def close(self) -> None:
        return None

    def stream_content(
        self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
        chunk_size: int = 65536, raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise RuntimeError("the offline session does not download files")

    def sent(self, kind: type[TelegramMethod[Any]] | None = None) -> list[Any]:
        return [r for r in self.requests if kind is None or isinstance(r, kind)]
