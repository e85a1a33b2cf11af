"""Journeys like STEP: a trip with further legs (countries with their dates, which may overlap)
and travelling companions (names only). Alerts reach the traveller for every leg
(:class:`storage.travel.travellers.AudienceRepo`); retention waits for the last leg to end."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.store import ContentStore
from bot.config import Settings
from bot.shared.i18n import locale, reader_language
from bot.shared.render import flag
from bot.shared.tghtml import quote
from bot.shared.translation import gettext as _
from bot.travel.trips import (
    AlertLines,
    Send,
    TripProblem,
    check_dates,
    fmt_day,
    local_today,
    reminder_text,
)
from storage.models import utcnow
from storage.travel.journeys import CompanionDTO, JourneyRepo, LegDTO
from storage.travel.travellers import TripRepo

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


async def send_leg_reminders(
    factory: async_sessionmaker[AsyncSession], store: ContentStore, i18n: I18n,
    settings: Settings, send: Send, now: datetime | None = None,
    alert_lines: AlertLines | None = None,
) -> int:
    """The day-before reminder for every further leg of a journey, claimed like a trip's
    (:func:`bot.travel.trips.send_due_reminders`): one process, once, retried on failure."""
    now = now or utcnow()
    today = local_today(now, settings.tz)
    async with factory() as session:
        due = await JourneyRepo(session).due_reminders(today + timedelta(days=1), today)
    sent = 0
    for leg_id in due:
        try:
            async with factory() as session, session.begin():
                leg = await JourneyRepo(session).claim_reminder(leg_id)
                trip = await TripRepo(session).get(leg.trip_id, leg.user_id) if leg else None
                if leg is None or trip is None or leg.country not in store.countries:
                    continue
                as_trip = dataclasses.replace(trip, country=leg.country,
                                              starts_on=leg.starts_on, ends_on=leg.ends_on)
                lang = await reader_language(session, trip.user_id, trip.lang)
                with locale(i18n, lang):
                    lines = (await alert_lines(session, leg.country, lang, now)
                             if alert_lines else [])
                    text = reminder_text(store, as_trip, lang, settings.tz, lines)
                if not await send(trip.user_id, text):
                    continue
                sent += 1
        except Exception:  # one reminder's failure never ends the sweep
            log.warning("reminder of leg %s not sent; it is tried again at the next sweep",
                        leg_id, exc_info=True)
    return sent

