"""Callback data of the feedback buttons: votes under answers and the statistics periods."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from bot.shared.callbacks import CallbackData

REASONS = ("wrong_topic", "outdated", "detail", "other")
VOTES = frozenset({"up", "down", *REASONS})
PERIODS = (7, 30, 90)


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
