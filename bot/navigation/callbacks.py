"""Callback data of the menu's buttons: screens and the language."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import ClassVar

from bot.config import LANGUAGES
from bot.shared.callbacks import CallbackData


class Screen(StrEnum):
    MAIN = "main"
    CONSULAR = "consular"
    ABOUT = "about"
    COUNTRIES = "countries"
    LANGUAGE = "lang"
    HELP = "help"
    CONTACT = "contact"


@dataclasses.dataclass(frozen=True)
class Nav(CallbackData):
    prefix: ClassVar[str] = "n"
    screen: Screen
    page: int = 0

    def check(self) -> None:
        if not 0 <= self.page < 1000:
            raise ValueError("page out of range")


@dataclasses.dataclass(frozen=True)
class SetLanguage(CallbackData):
    prefix: ClassVar[str] = "l"
    code: str

    def check(self) -> None:
        if self.code not in LANGUAGES:
            raise ValueError("unknown language")
