"""Callback data of the officer desk's buttons: a citizen's request and the operators' actions.

Plain Python like :mod:`bot.shared.callbacks`, so the menu and the answer services can build these
buttons without the Telegram framework; ``check`` refuses values no real button carries.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from bot.shared.callbacks import CallbackData

OFFICER_ACTIONS = frozenset({"new", "talk", "leave", "close", "rate", "reopen", "cc"})


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


