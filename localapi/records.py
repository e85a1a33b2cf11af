"""Plain records the local Bot API server keeps: people, chats, faults, calls, errors."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: JSON | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


@dataclass
class User:
    """A Telegram user (or another bot) living in the simulated world."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool | None = None
    deactivated: bool = False

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code", "is_premium"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def private_chat(self) -> JSON:
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class Topic:
    """A forum topic of a forum supergroup."""

    message_thread_id: int
    name: str
    icon_color: int = 7322096
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_dict(self) -> JSON:
        data: JSON = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass
class Chat:
    """A group, supergroup or channel. ``admins[0]`` is the creator.

    ``bot_status`` maps a bot id to its membership: ``member``, ``administrator``,
    ``left`` or ``kicked``; bots registered later start as ``new_bot_status``.
    """

    id: int
    type: str
    title: str
    username: str | None = None
    is_forum: bool = False
    members: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    bot_status: dict[int, str] = field(default_factory=dict)
    migrated_to: int | None = None
    removed: bool = False
    topics: dict[int, Topic] = field(default_factory=dict)
    new_bot_status: str = "left"

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    @property
    def kind_name(self) -> str:
        """The word Telegram uses in errors: group, supergroup or channel."""
        return self.type


@dataclass
class Faults:
    """Fault injection knobs, read on every request that ``applies_to`` a method.

    * ``error_rate_5xx``: probability of answering 500 ``Internal Server Error``
      or 502 ``Bad Gateway``.
    * ``timeout_rate``: probability of holding the response for ``hang_seconds``
      (real seconds, pick more than the client's timeout) and then answering 504.
    * ``act_before_fault``: if true a faulted request is still carried out (the
      message is sent) and only its answer is lost, as when Telegram delivers
      but the connection fails.
    * ``methods``: names the faults apply to; ``None`` means every method that
      sends or edits messages.
    * ``seed``: seeds ``rng`` so runs are reproducible; ``reseed(n)`` to change.
    """

    error_rate_5xx: float = 0.0
    timeout_rate: float = 0.0
    hang_seconds: float = 75.0
    act_before_fault: bool = False
    methods: set[str] | None = None
    seed: int | None = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def applies_to(self, method: str) -> bool:
        if self.methods is not None:
            return method in self.methods
        return (
            (method.startswith("send") and method != "sendChatAction")
            or method.startswith("editMessage")
            or method in ("copyMessage", "forwardMessage")
        )

    def draw(self, method: str) -> str | None:
        """Return ``"5xx"``, ``"timeout"`` or ``None`` for one request."""
        if not self.applies_to(method):
            return None
        if self.error_rate_5xx <= 0 and self.timeout_rate <= 0:
            return None
        roll = self.rng.random()
        if roll < self.error_rate_5xx:
            return "5xx"
        if roll < self.error_rate_5xx + self.timeout_rate:
            return "timeout"
        return None


@dataclass
class Upload:
    """A file that arrived in a multipart request."""

    filename: str
    data: bytes = field(repr=False)
    content_type: str | None = None

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.data)} bytes)"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = field(repr=False)
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class ApiCall:
    """One recorded Bot API request and the answer it got.

    ``at`` is the server clock (scaled seconds); ``response`` is the exact JSON body.
    """

    method: str
    params: JSON
    response: JSON
    status: int
    at: float
    bot_id: int

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def error_code(self) -> int | None:
        return self.response.get("error_code")

    @property
    def description(self) -> str | None:
        return self.response.get("description")


@dataclass
class OutEvent:
    """Something the bot did to a chat: ``kind`` is ``sent``, ``edited`` or ``deleted``.

    ``message`` is a snapshot view of the message right after the change.
    """

    kind: str
    chat_id: int
    message: JSON
    at: float
