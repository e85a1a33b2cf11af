"""Callback data of the answers' buttons: topic and country cards, ask-back, teaching."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from bot.config import LANGUAGES
from bot.shared.callbacks import CallbackData


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


TEACH_ACTIONS = frozenset({"t", "o", "p", "s", "v", "n", "l"})


@dataclasses.dataclass(frozen=True)
class TeachCb(CallbackData):
    """/unanswered: ``t`` files question ``qid`` under topic ``arg``, ``o`` as out of scope;
    ``p`` opens the sections, ``s`` the topics of section ``arg``, ``v`` shows the question
    again, ``n`` the list at position ``arg``, ``l`` the list in a message of its own (from
    the weekly digest, which stays as it is)."""

    prefix: ClassVar[str] = "te"
    action: str
    qid: int = 0
    arg: str = ""

    def check(self) -> None:
        if (self.action not in TEACH_ACTIONS or not 0 <= self.qid < 2**31
                or len(self.arg) > 48
                or (self.action == "n" and not (self.arg.isdigit() and len(self.arg) < 7))):
            raise ValueError("malformed teaching button")
