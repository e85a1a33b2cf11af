"""Callback data of the dialogue's buttons: officer requests, feedback, statistics.

Plain Python like :mod:`bot.shared.callbacks`, so the menu and the answer services can build these
buttons without the Telegram framework; ``check`` refuses values no real button carries.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from bot.shared.callbacks import CallbackData

OFFICER_ACTIONS = frozenset({"new", "talk", "leave", "close", "rate", "reopen", "cc"})
REASONS = ("wrong_topic", "outdated", "detail", "other")
VOTES = frozenset({"up", "down", *REASONS})
PERIODS = (7, 30, 90)
TEACH_ACTIONS = frozenset({"t", "o", "p", "s", "v", "n", "l"})


@dataclasses.dataclass(frozen=True)
class OfficerCb(CallbackData):
    """``rid``: the request (for "new": the question it came from, or 0); ``arg``: a rating
    1–5 for "rate", an ISO code or "-" (no country) for "cc"."""

    prefix: ClassVar[str] = "of"
    action: str
    rid: int = 0
    arg: str = ""

    def check(self) -> None:
        if self.action not in OFFICER_ACTIONS or not 0 <= self.rid < 2**31 or len(self.arg) > 2:
            raise ValueError("malformed officer button")


@dataclasses.dataclass(frozen=True)
class Vote(CallbackData):
    prefix: ClassVar[str] = "fb"
    qid: int
    v: str

    def check(self) -> None:
        if self.v not in VOTES or not 0 < self.qid < 2**31:
            raise ValueError("malformed feedback button")


@dataclasses.dataclass(frozen=True)
class StatsPeriod(CallbackData):
    prefix: ClassVar[str] = "st"
    days: int

    def check(self) -> None:
        if self.days not in PERIODS:
            raise ValueError("unknown period")


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
