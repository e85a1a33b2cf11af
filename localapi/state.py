"""What the server keeps per bot and per chat, and the request parameters handlers read."""

from __future__ import annotations

import asyncio
import builtins
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .records import JSON, OutEvent, User, bad_request

DEFAULT_UPDATES = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
]
MEDIA_KINDS = ("photo", "document", "sticker", "voice", "audio", "video", "animation")


@dataclass
class Stored:
    message: JSON
    outgoing: bool
    edited: bool = False


@dataclass
class ChatLog:
    messages: dict[int, Stored] = field(default_factory=dict)
    next_id: int = 1
    reply_keyboard: JSON | None = None


@dataclass
class BotState:
    user: User
    token: str
    can_read_all_group_messages: bool = False
    supports_inline_queries: bool = True
    updates: list[JSON] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: list[str] = field(default_factory=lambda: list(DEFAULT_UPDATES))
    signal: asyncio.Event = field(default_factory=asyncio.Event)
    poll_generation: int = 0
    webhook: JSON | None = None
    webhook_task: asyncio.Task[None] | None = None
    webhook_error: tuple[int, str] | None = None
    webhook_urls: list[str] = field(default_factory=list)  # balanced mode: the pool
    webhook_turn: int = 0  # balanced mode: the round robin's position
    logs: dict[int, ChatLog] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    commands: dict[tuple[Any, ...], list[JSON]] = field(default_factory=dict)
    menu_buttons: dict[int | None, JSON] = field(default_factory=dict)
    queries: dict[str, float] = field(default_factory=dict)
    callback_answers: dict[str, JSON] = field(default_factory=dict)
    inline_answers: dict[str, JSON] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)
    outbox: list[OutEvent] = field(default_factory=list)
    out_signal: asyncio.Event = field(default_factory=asyncio.Event)
    cursors: dict[int, int] = field(default_factory=dict)
    subscribers: list[asyncio.Queue[OutEvent]] = field(default_factory=list)

    def log(self, chat_id: int) -> ChatLog:
        return self.logs.setdefault(chat_id, ChatLog())

    def wake(self) -> None:
        self.signal.set()
        self.signal = asyncio.Event()


class Params:
    """Request parameters with Telegram's lenient typing (form fields are strings)."""

    def __init__(self, raw: JSON) -> None:
        self.raw = raw

    def has(self, key: str) -> bool:
        return self.raw.get(key) not in (None, "")

    def str(self, key: str, default: str | None = None) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return default
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, (dict, list))
            else str(value)
        )

    # The methods below are named after builtins, which they shadow in the class body: their
    # annotations name the builtins explicitly.
    def int(self, key: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        value = self.raw.get(key)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def float(self, key: builtins.str) -> float:
        value = self.raw.get(key)
        if value is None:
            raise bad_request(f"{key} is empty")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"{key} is empty") from None

    def bool(self, key: builtins.str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, key: builtins.str) -> Any:
        value = self.raw.get(key)
        if isinstance(value, str) and value:
            try:
                return json.loads(value)
            except ValueError:
                if key == "reply_markup":
                    raise bad_request("can't parse reply keyboard markup JSON object") from None
                raise bad_request(f"can't parse {key} JSON object") from None
        return value if value != "" else None

    def chat_id(self, key: builtins.str = "chat_id") -> builtins.int | builtins.str:
        value = self.raw.get(key)
        if value in (None, ""):
            raise bad_request(f"{key} is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None


Handler = Callable[[BotState, Params], Any]
"""A Bot API method: the calling bot and its parameters in, the ``result`` out (or awaitable)."""
