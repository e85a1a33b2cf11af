"""What every feature renders into: a screenful of Telegram HTML with inline buttons.

The cards themselves are the features' (:mod:`bot.answers.cards`, the travel and desk
screens); callers set the locale (the i18n middleware in an update,
:func:`bot.shared.i18n.locale` elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MENU_BUTTON_LIMIT = 4


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None
    url: str | None = None


@dataclass
class Screenful:
    """A message to show: HTML (one or more chunks) and inline buttons under the last.

    ``rendered`` is free for the Telegram layer to cache what it builds from the screen
    (cards are cached and shown many times).
    """

    html: str
    buttons: list[list[Button]] = field(default_factory=list)
    rendered: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def flag(iso: str) -> str:
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in iso.upper())


