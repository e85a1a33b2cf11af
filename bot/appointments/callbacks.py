"""Callback data of the appointments' buttons: the citizen's booking steps and the desk's.

Plain Python like :mod:`bot.shared.callbacks`, so the menu can build the "Book a visit" button
without the Telegram framework; ``check`` refuses values no real button carries.
"""

from __future__ import annotations

import dataclasses
import re
from typing import ClassVar

from bot.shared.callbacks import CallbackData

BOOK_ACTIONS = frozenset({"start", "svc", "mis", "day", "slot", "ok", "list", "move", "cxl",
                          "cxl_yes"})
DESK_ACTIONS = frozenset({"ns", "csv"})
_MISSION = re.compile(r"^([a-z]{2}-[a-z0-9-]{1,30})?$")
_DAY = re.compile(r"^(\d{8})?$")
_SERVICE = re.compile(r"^[a-z]{0,10}$")


@dataclasses.dataclass(frozen=True)
class BookCb(CallbackData):
    """One step of booking; ``appt`` > 0 means moving that appointment."""

    prefix: ClassVar[str] = "ap"
    action: str
    service: str = ""
    mission: str = ""
    day: str = ""  # YYYYMMDD, the mission's local date
    slot: int = 0
    appt: int = 0

    def check(self) -> None:
        if (self.action not in BOOK_ACTIONS or not _SERVICE.match(self.service)
                or not _MISSION.match(self.mission) or not _DAY.match(self.day)
                or not 0 <= self.slot < 2**62 or not 0 <= self.appt < 2**62):
            raise ValueError("malformed booking button")


@dataclasses.dataclass(frozen=True)
class DeskCb(CallbackData):
    """The operators' day list: mark a no-show, export the list."""

    prefix: ClassVar[str] = "ad"
    action: str
    mission: str
    day: str
    appt: int = 0

    def check(self) -> None:
        if (self.action not in DESK_ACTIONS or not _MISSION.match(self.mission)
                or not self.mission or not _DAY.match(self.day) or not self.day
                or not 0 <= self.appt < 2**62):
            raise ValueError("malformed desk button")
