"""The editors' gate, first half: is this an editor command, button or dialogue? Cheap (no
database); the role check that follows it is :class:`bot.shared.roles.HasRole`'s."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

from bot.publishing.callbacks import EDITOR_COMMANDS, EDITOR_PREFIXES
from bot.publishing.states import editor_state


def command_name(text: str | None) -> str | None:
    if not text or not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


class EditorTraffic(Filter):
    """An editor command or button, or a message inside an editors' dialogue."""

    def __init__(self, commands: frozenset[str] = EDITOR_COMMANDS,
                 prefixes: frozenset[str] = EDITOR_PREFIXES, states: bool = True) -> None:
        self.commands, self.prefixes, self.states = commands, prefixes, states

    async def __call__(self, event: Message | CallbackQuery,
                       raw_state: str | None = None) -> bool:
        if isinstance(event, CallbackQuery):
            return (event.data or "").split(":", 1)[0] in self.prefixes
        if command_name(event.text) in self.commands:
            return True
        return self.states and editor_state(raw_state)
