"""Callback data of the citizen's inline buttons, packed as ``prefix:field:field``.

Plain Python (no Telegram framework) so the services that build buttons also run in
``bot.py ask``. Anything that does not unpack is stale or forged: :meth:`unpack` raises
``ValueError`` and the handlers' filter (:meth:`filter`) simply does not match.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Self, get_type_hints

from bot.config import LANGUAGES

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit
SEP = ":"


class Screen(StrEnum):
    MAIN = "main"
    CONSULAR = "consular"
    ABOUT = "about"
    COUNTRIES = "countries"
    LANGUAGE = "lang"
    HELP = "help"
    CONTACT = "contact"


@dataclasses.dataclass(frozen=True)
class CallbackData:
    prefix: ClassVar[str]

    def pack(self) -> str:
        parts = [self.prefix]
        for f in dataclasses.fields(self):
            value = str(getattr(self, f.name))
            if SEP in value:
                raise ValueError(f"{f.name} may not contain {SEP!r}")
            parts.append(value)
        packed = SEP.join(parts)
        if len(packed.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data longer than {CALLBACK_DATA_LIMIT} bytes: {packed}")
        return packed

    @classmethod
    def unpack(cls, data: str) -> Self:
        prefix, *values = data.split(SEP)
        fields = dataclasses.fields(cls)
        if prefix != cls.prefix or len(values) != len(fields):
            raise ValueError(f"not {cls.__name__} data: {data!r}")
        hints = get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f, raw in zip(fields, values, strict=True):
            kwargs[f.name] = hints[f.name](raw)
        item = cls(**kwargs)
        item.check()
        return item

    def check(self) -> None:
        """Raise ``ValueError`` for values no real button carries."""

    @classmethod
    def filter(cls, rule: Any = None) -> Any:
        """An aiogram filter matching this data (and ``rule``, a magic filter over it, such
        as ``F.action == "add"``); imported lazily, only the bot needs it."""
        from bot.shared.filters import CallbackDataFilter

        return CallbackDataFilter(cls, rule)


@dataclasses.dataclass(frozen=True)
class Nav(CallbackData):
    prefix: ClassVar[str] = "n"
    screen: Screen
    page: int = 0

    def check(self) -> None:
        if not 0 <= self.page < 1000:
            raise ValueError("page out of range")


@dataclasses.dataclass(frozen=True)
class TopicCard(CallbackData):
    prefix: ClassVar[str] = "t"
    slug: str
    iso: str = ""

    def check(self) -> None:
        if not self.slug or len(self.slug) > 40 or len(self.iso) not in (0, 2):
            raise ValueError("malformed topic button")


@dataclasses.dataclass(frozen=True)
class CountryCard(CallbackData):
    prefix: ClassVar[str] = "c"
    iso: str

    def check(self) -> None:
        if len(self.iso) != 2:
            raise ValueError("malformed country button")


@dataclasses.dataclass(frozen=True)
class SetLanguage(CallbackData):
    prefix: ClassVar[str] = "l"
    code: str

    def check(self) -> None:
        if self.code not in LANGUAGES:
            raise ValueError("unknown language")


@dataclass(frozen=True)
class News(CallbackData):
    """Citizens' news subscription from the menu."""

    prefix: ClassVar[str] = "nw"
    action: str  # open | sub | unsub

    def check(self) -> None:
        if self.action not in ("open", "sub", "unsub"):
            raise ValueError("unknown news action")


@dataclass(frozen=True)
class AskBack(CallbackData):
    """One of the topics the bot asks back about when two are close: pressing it answers
    with that topic's card, for the country the question named."""

    prefix: ClassVar[str] = "ab"
    slug: str
    iso: str = ""
    lang: str = ""  # the question's language, which the card is shown in

    def check(self) -> None:
        if not self.slug or len(self.slug) > 40 or len(self.iso) not in (0, 2):
            raise ValueError("malformed ask-back button")
        if self.lang and self.lang not in LANGUAGES:
            raise ValueError("unknown language")


@dataclass(frozen=True)
class MissionCard(CallbackData):
    """A country card with one mission first ("Where are you?" on a country card)."""

    prefix: ClassVar[str] = "cm"
    mission: str

    def check(self) -> None:
        if not re.fullmatch(r"[a-z]{2}-[a-z0-9-]{1,37}", self.mission):
            raise ValueError("malformed mission button")


@dataclass(frozen=True)
class AlertArchive(CallbackData):
    """A country's past travel alerts, newest first, a page at a time."""

    prefix: ClassVar[str] = "aa"
    iso: str
    page: int = 0

    def check(self) -> None:
        if len(self.iso) != 2 or not 0 <= self.page < 100:
            raise ValueError("malformed alert archive button")
