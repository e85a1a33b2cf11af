"""Callback data of the cases' buttons (plain Python like :mod:`bot.shared.callbacks`, so the menu
can carry "📄 My case" without the Telegram framework)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from bot.shared.callbacks import CallbackData

CASE_ACTIONS = frozenset({"open", "follow", "unfollow"})


@dataclasses.dataclass(frozen=True)
class CaseCb(CallbackData):
    """``cid``: the case (0 for "open")."""

    prefix: ClassVar[str] = "cs"
    action: str
    cid: int = 0

    def check(self) -> None:
        if self.action not in CASE_ACTIONS or not 0 <= self.cid < 2**31:
            raise ValueError("malformed case button")
