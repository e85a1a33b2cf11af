"""Journeys like STEP: a trip with further legs (countries with their dates, which may overlap)
and travelling companions (names only). Alerts reach the traveller for every leg
(:class:`storage.travel.travellers.AudienceRepo`); retention waits for the last leg to end."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.store import ContentStore
from bot.config import Settings
from bot.shared.render import flag
from bot.shared.tghtml import quote
from bot.shared.translation import gettext as _
from bot.travel.trips import (
    AlertLines,
    Send,
    TripProblem,
    check_dates,
    fmt_day,
    reminder_due_at_registration,
    send_reminders,
)
from storage.travel.journeys import COMPANION_CHARS as COMPANION_CHARS
from storage.travel.journeys import MAX_COMPANIONS as MAX_COMPANIONS
from storage.travel.journeys import MAX_LEGS as MAX_LEGS
from storage.travel.journeys import CompanionDTO, JourneyRepo, LegDTO
from storage.travel.travellers import TripDTO, TripRepo

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

log = logging.getLogger(__name__)


def format_leg(store: ContentStore, leg: LegDTO, lang: str, tz: ZoneInfo) -> str:
    name = store.country_name(leg.country, lang)
    start, end = fmt_day(leg.starts_on, lang, tz), fmt_day(leg.ends_on, lang, tz)
    return f"{flag(leg.country)} {quote(name)}: {start} – {end}"


def journey_lines(store: ContentStore, legs: list[LegDTO], companions: list[CompanionDTO],
                  lang: str, tz: ZoneInfo) -> list[str]:
    """Lines under a trip: its further legs, then who travels with the person."""
    lines = ["   ＋ " + format_leg(store, leg, lang, tz) for leg in legs if leg.position > 0]
    if companions:
        lines.append("   " + _("👥 Travelling with: {names}").format(
            names=", ".join(quote(c.name) for c in companions)))
    return lines


def check_leg(starts_on: date, ends_on: date, today: date) -> TripProblem | None:
    """A further leg follows the rules of a trip's dates; it may overlap the others."""
    return check_dates(starts_on, ends_on, today)


async def _due_legs(session: AsyncSession, tomorrow: date, today: date) -> list[int]:
    return await JourneyRepo(session).due_reminders(tomorrow, today)


async def _claim_leg(session: AsyncSession, leg_id: int) -> TripDTO | None:
    """Claim the leg's reminder; its trip as the reminder shows it (the leg's country, days)."""
    leg = await JourneyRepo(session).claim_reminder(leg_id)
    trip = await TripRepo(session).get(leg.trip_id, leg.user_id) if leg else None
    if leg is None or trip is None:
        return None
    return dataclasses.replace(trip, country=leg.country, starts_on=leg.starts_on,
                               ends_on=leg.ends_on)


async def send_leg_reminders(
    factory: async_sessionmaker[AsyncSession], store: ContentStore, i18n: I18n,
    settings: Settings, send: Send, now: datetime | None = None,
    alert_lines: AlertLines | None = None,
) -> int:
    """The day-before reminder for every further leg of a journey, through the trips' loop
    (:func:`bot.travel.trips.send_reminders`): one process, once, retried on failure."""
    return await send_reminders(factory, store, i18n, settings, send, now, alert_lines,
                                what="leg", due=_due_legs, claim=_claim_leg)


# --- in an update (the unit of work's session: these flush, the middleware commits) -------


async def has_room(session: AsyncSession, trip_id: int, what: str) -> bool:
    """Whether the journey may take another ``leg`` (country) or ``companion``."""
    repo = JourneyRepo(session)
    if what == "leg":
        return len(await repo.legs(trip_id)) < MAX_LEGS
    return len(await repo.companions(trip_id)) < MAX_COMPANIONS


async def add_leg(session: AsyncSession, trip_id: int, user_id: int, country: str,
                  starts_on: date, ends_on: date, today: date) -> LegDTO | None:
    """None: the trip is no longer registered."""
    return await JourneyRepo(session).add_leg(
        trip_id, user_id, country, starts_on, ends_on,
        reminder_sent=reminder_due_at_registration(starts_on, today))


async def add_companion(session: AsyncSession, trip_id: int, user_id: int,
                        name: str) -> CompanionDTO | None:
    """None: the trip is no longer registered."""
    return await JourneyRepo(session).add_companion(trip_id, user_id, name)


@dataclass(frozen=True)
class Overview:
    """Everything /mytrips shows: the trips, their further legs and companions by trip."""

    trips: list[TripDTO]
    legs: dict[int, list[LegDTO]]
    companions: dict[int, list[CompanionDTO]]


async def overview(session: AsyncSession, user_id: int) -> Overview:
    repo = JourneyRepo(session)
    return Overview(await TripRepo(session).for_user(user_id),
                    await repo.legs_for_user(user_id), await repo.companions_for_user(user_id))
