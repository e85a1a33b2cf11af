"""Callback data of the travellers' buttons: trips, followed countries, alerts, groups."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class FollowCountry(CallbackData, prefix="fc"):
    iso: str


class UnfollowCountry(CallbackData, prefix="uf"):
    iso: str


class TripAction(CallbackData, prefix="tr"):
    action: str  # "show" | "dates" | "cancel" | "cancel_yes" | "list"
    trip_id: int = 0


class TripStep(CallbackData, prefix="ts"):
    action: str  # "skip_phone" | "skip_contact" | "confirm" | "new"
    value: str = ""


class IssueAlert(CallbackData, prefix="ia"):
    iso: str


class AlertStep(CallbackData, prefix="as"):
    action: str  # "severity" | "expiry" | "submit" | "skip_lang"
    value: str = ""


class AlertReview(CallbackData, prefix="ar"):
    action: str  # "approve" | "reject" | "report"
    post_id: int


class ForgetMe(CallbackData, prefix="fm"):
    action: str  # "yes" | "no"


class GroupSetting(CallbackData, prefix="gs"):
    action: str  # "lang" | "drop" | "show"
    value: str = ""


class TravelMenu(CallbackData, prefix="tm"):
    screen: str  # "trips" | "alerts" | "new_trip"


class TripCountryPick(CallbackData, prefix="tc"):
    iso: str = ""
    page: int = 0
