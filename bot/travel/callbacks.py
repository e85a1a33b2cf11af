"""Callback data of the travellers' buttons: trips, followed countries, alerts, groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.shared.callbacks import CallbackData


@dataclass(frozen=True)
class FollowCountry(CallbackData):
    prefix: ClassVar[str] = "fc"
    iso: str


@dataclass(frozen=True)
class UnfollowCountry(CallbackData):
    prefix: ClassVar[str] = "uf"
    iso: str


@dataclass(frozen=True)
class TripAction(CallbackData):
    prefix: ClassVar[str] = "tr"
    action: str  # "show" | "dates" | "cancel" | "cancel_yes" | "list" | "leg" | "companion"
    trip_id: int = 0


@dataclass(frozen=True)
class TripStep(CallbackData):
    prefix: ClassVar[str] = "ts"
    action: str  # "skip_phone" | "skip_contact" | "confirm" | "new"
    value: str = ""


@dataclass(frozen=True)
class IssueAlert(CallbackData):
    prefix: ClassVar[str] = "ia"
    iso: str


@dataclass(frozen=True)
class AlertStep(CallbackData):
    prefix: ClassVar[str] = "as"
    action: str  # "severity" | "expiry" | "submit" | "skip_lang"
    value: str = ""


@dataclass(frozen=True)
class AlertReview(CallbackData):
    prefix: ClassVar[str] = "ar"
    action: str  # "approve" | "reject" | "report"
    post_id: int


@dataclass(frozen=True)
class GroupSetting(CallbackData):
    prefix: ClassVar[str] = "gs"
    action: str  # "lang" | "drop" | "show"
    value: str = ""


@dataclass(frozen=True)
class TravelMenu(CallbackData):
    prefix: ClassVar[str] = "tm"
    screen: str  # "trips" | "alerts" | "new_trip"


@dataclass(frozen=True)
class TripCountryPick(CallbackData):
    prefix: ClassVar[str] = "tc"
    iso: str = ""
    page: int = 0


@dataclass(frozen=True)
class AlertArchive(CallbackData):
    """A country's past travel alerts, newest first, a page at a time."""

    prefix: ClassVar[str] = "aa"
    iso: str
    page: int = 0

    def check(self) -> None:
        if len(self.iso) != 2 or not 0 <= self.page < 100:
            raise ValueError("malformed alert archive button")
