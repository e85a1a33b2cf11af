"""Dialogue states of the editors' part of the bot, and which of them make a chat an editor's."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


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


EDITOR_STATE_GROUPS = frozenset(
    g.__full_group_name__ for g in (PostForm, PostEdit, ReviewForm, EditorForm, ChannelForm)
)


def editor_state(raw_state: str | None) -> bool:
    return bool(raw_state) and raw_state.split(":", 1)[0] in EDITOR_STATE_GROUPS  # type: ignore[union-attr]
