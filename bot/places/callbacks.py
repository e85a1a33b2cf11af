"""Callback data of the right-mission buttons on a several-mission country's card."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.shared.callbacks import CallbackData


@dataclass(frozen=True)
class MissionCard(CallbackData):
    """A country card with one mission first ("Where are you?" on a country card)."""

    prefix: ClassVar[str] = "cm"
    mission: str

    def check(self) -> None:
        if not re.fullmatch(r"[a-z]{2}-[a-z0-9-]{1,37}", self.mission):
            raise ValueError("malformed mission button")
