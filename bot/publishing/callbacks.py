"""Callback data and command names of the editors' part of the bot (states: ``states``).

Everything listed here is gated by the editors' role filter; the refusal router uses the
same lists, so a command or button cannot be added to one without the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.answers.callbacks import TeachCb
from bot.shared.callbacks import CallbackData


@dataclass(frozen=True)
class EditorsAct(CallbackData):
    prefix: ClassVar[str] = "ed"
    action: str  # list | add | rm
    user_id: int = 0


@dataclass(frozen=True)
class ChannelAct(CallbackData):
    prefix: ClassVar[str] = "ch"
    action: str  # list | add | rm | lang | save
    chat_id: int = 0
    value: str = ""


@dataclass(frozen=True)
class DraftAct(CallbackData):
    prefix: ClassVar[str] = "np"
    action: str  # skip | cancel | target | fallback | now | submit
    value: str = ""


@dataclass(frozen=True)
class ReviewAct(CallbackData):
    prefix: ClassVar[str] = "pa"
    action: str  # ok | no
    post_id: int


@dataclass(frozen=True)
class PostList(CallbackData):
    prefix: ClassVar[str] = "pl"
    tab: str  # upcoming | sent | failed
    page: int = 0


@dataclass(frozen=True)
class PostAct(CallbackData):
    prefix: ClassVar[str] = "po"
    action: str  # view | preview | edit | lang | resched | cancel | report
    post_id: int
    value: str = ""


ADMIN_COMMANDS = frozenset({"editors", "channels"})
EDITOR_COMMANDS = frozenset({"newpost", "posts", "unanswered"}) | ADMIN_COMMANDS
ADMIN_PREFIXES = frozenset({EditorsAct.prefix, ChannelAct.prefix})
EDITOR_PREFIXES = frozenset({
    DraftAct.prefix, ReviewAct.prefix, PostList.prefix, PostAct.prefix, TeachCb.prefix,
}) | ADMIN_PREFIXES


@dataclass(frozen=True)
class News(CallbackData):
    """Citizens' news subscription from the menu."""

    prefix: ClassVar[str] = "nw"
    action: str  # open | sub | unsub

    def check(self) -> None:
        if self.action not in ("open", "sub", "unsub"):
            raise ValueError("unknown news action")
