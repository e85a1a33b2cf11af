"""Callback data, dialogue states and command names of the editors' part of the bot.

Everything listed here is gated by the editors' role filter; the refusal router uses the
same lists, so a command or button cannot be added to one without the other.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup


class EditorsAct(CallbackData, prefix="ed"):
    action: str  # list | add | rm
    user_id: int = 0


class ChannelAct(CallbackData, prefix="ch"):
    action: str  # list | add | rm | lang | save
    chat_id: int = 0
    value: str = ""


class DraftAct(CallbackData, prefix="np"):
    action: str  # skip | cancel | target | fallback | now | submit
    value: str = ""


class ReviewAct(CallbackData, prefix="pa"):
    action: str  # ok | no
    post_id: int


class PostList(CallbackData, prefix="pl"):
    tab: str  # upcoming | sent | failed
    page: int = 0


class PostAct(CallbackData, prefix="po"):
    action: str  # view | preview | edit | lang | resched | cancel | report
    post_id: int
    value: str = ""


class News(CallbackData, prefix="nw"):
    """Citizens' news subscription (not an editor action)."""

    action: str  # open | sub | unsub


class PostForm(StatesGroup):
    text = State()
    media = State()
    buttons = State()
    targets = State()
    fallback = State()
    when = State()
    confirm = State()


class PostEdit(StatesGroup):
    text = State()
    when = State()


class ReviewForm(StatesGroup):
    reason = State()


class EditorForm(StatesGroup):
    person = State()


class ChannelForm(StatesGroup):
    channel = State()
    languages = State()


ADMIN_COMMANDS = frozenset({"editors", "channels"})
EDITOR_COMMANDS = frozenset({"newpost", "posts"}) | ADMIN_COMMANDS
ADMIN_PREFIXES = frozenset({EditorsAct.__prefix__, ChannelAct.__prefix__})
EDITOR_PREFIXES = frozenset({
    DraftAct.__prefix__, ReviewAct.__prefix__, PostList.__prefix__, PostAct.__prefix__,
}) | ADMIN_PREFIXES
EDITOR_STATE_GROUPS = frozenset(
    g.__full_group_name__ for g in (PostForm, PostEdit, ReviewForm, EditorForm, ChannelForm)
)


def editor_state(raw_state: str | None) -> bool:
    return bool(raw_state) and raw_state.split(":", 1)[0] in EDITOR_STATE_GROUPS  # type: ignore[union-attr]
