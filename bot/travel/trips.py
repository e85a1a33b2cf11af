"""Trips: checks of the dates (read by :mod:`bot.shared.when`), reminders and retention.

Everything that depends on the time takes ``now`` so that tests move the clock instead
of sleeping. Days are counted in the ministry's time zone (``TIMEZONE``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.cards import advisory_block, emergency_block
from bot.config import Settings
from bot.shared.i18n import locale, reader_language
from bot.shared.render import flag
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_date
from bot.shared.translation import gettext as _
from storage.models.base import utcnow
from storage.travel.travellers import HOME_CONTACT_CHARS as HOME_CONTACT_CHARS
from storage.travel.travellers import TripDTO, TripRepo

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

    from bot.answers.store import ContentStore

log = logging.getLogger(__name__)

MAX_TRIPS = 20  # registered at once by one person
MAX_TRIP_DAYS = 366
MAX_AHEAD_DAYS = 2 * 366
SWEEP_EVERY = timedelta(minutes=10)

class TripProblem(StrEnum):
    STARTS_IN_PAST = "starts_in_past"
    ENDS_BEFORE_START = "ends_before_start"
    TOO_LONG = "too_long"
    TOO_FAR = "too_far"
    OVERLAPS = "overlaps"


def check_dates(starts_on: date, ends_on: date, today: date) -> TripProblem | None:
    if starts_on < today:
        return TripProblem.STARTS_IN_PAST
    if ends_on < starts_on:
        return TripProblem.ENDS_BEFORE_START
    if (ends_on - starts_on).days > MAX_TRIP_DAYS:
        return TripProblem.TOO_LONG
    if (starts_on - today).days > MAX_AHEAD_DAYS:
        return TripProblem.TOO_FAR
    return None


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def reminder_due_at_registration(starts_on: date, today: date) -> bool:
    """A trip starting today or tomorrow gets its card at once, so no separate reminder."""
    return (starts_on - today).days <= 1


def format_trip(store: ContentStore, trip: TripDTO, lang: str, tz: ZoneInfo) -> str:
    """One line per trip, in the current locale (the phone number is never part of it)."""
    name = store.country_name(trip.country, lang)
    start, end = fmt_day(trip.starts_on, lang, tz), fmt_day(trip.ends_on, lang, tz)
    return f"{flag(trip.country)} {quote(name)}: {start} – {end}"  # no words to translate


def fmt_day(day: date, lang: str, tz: ZoneInfo) -> str:
    return fmt_date(datetime(day.year, day.month, day.day, 12, tzinfo=tz), lang, tz)


def reminder_text(store: ContentStore, trip: TripDTO, lang: str, tz: ZoneInfo,
                  alerts: list[str] | None = None) -> str:
    """In the current locale: the trip, the current advisory, emergency numbers, alerts."""
    country = store.countries[trip.country]
    head = _("✈️ Your trip to {country} starts tomorrow, {date}. Have a safe journey!").format(
        country=quote(store.country_name(trip.country, lang)),
        date=fmt_day(trip.starts_on, lang, tz))
    parts = [head, *(alerts or []), advisory_block(country, lang), emergency_block(country)]
    parts.append(_("The embassy's contacts are on the country card: /mytrips lists your trips."))
    return "\n\n".join(parts)


Send = Callable[[int, str], Awaitable[bool]]
AlertLines = Callable[[AsyncSession, str, str, datetime], Awaitable[list[str]]]


Due = Callable[[AsyncSession, date, date], Awaitable[list[int]]]
Claim = Callable[[AsyncSession, int], Awaitable[TripDTO | None]]


async def send_reminders(
    factory: async_sessionmaker[AsyncSession], store: ContentStore, i18n: I18n,
    settings: Settings, send: Send, now: datetime | None, alert_lines: AlertLines | None,
    *, what: str, due: Due, claim: Claim,
) -> int:
    """The one claim-and-send loop of the day-before reminders (trips, journeys' legs).

    ``due(session, tomorrow, today)`` lists what is due; ``claim(session, id)`` claims one
    and marks it sent, answering the trip to remind of (None: nothing to send). Each is
    claimed in one transaction that commits only after Telegram accepted the message, so
    several processes sharing PostgreSQL never send it twice and a failed send is retried
    at the next sweep; the sweep goes on with the next.
    """
    now = now or utcnow()
    today = local_today(now, settings.tz)
    async with factory() as session:
        ids = await due(session, today + timedelta(days=1), today)
    sent = 0
    for item in ids:
        try:
            async with factory() as session, session.begin():
                trip = await claim(session, item)
                if trip is None or trip.country not in store.countries:
                    continue
                lang = await reader_language(session, trip.user_id, trip.lang)
                with locale(i18n, lang):
                    lines = (await alert_lines(session, trip.country, lang, now)
                             if alert_lines else [])
                    text = reminder_text(store, trip, lang, settings.tz, lines)
                if not await send(trip.user_id, text):
                    continue  # the person blocked the bot: marked sent, nothing to retry
                sent += 1
        except Exception:  # one reminder's failure never ends the sweep
            log.warning("reminder of %s %s not sent; it is tried again at the next sweep",
                        what, item, exc_info=True)
    return sent


async def _due_trips(session: AsyncSession, tomorrow: date, today: date) -> list[int]:
    return await TripRepo(session).due_reminders(tomorrow, today)


async def _claim_trip(session: AsyncSession, trip_id: int) -> TripDTO | None:
    return await TripRepo(session).claim_reminder(trip_id)


async def send_due_reminders(
    factory: async_sessionmaker[AsyncSession], store: ContentStore, i18n: I18n,
    settings: Settings, send: Send, now: datetime | None = None,
    alert_lines: AlertLines | None = None,
) -> int:
    """Remind every trip starting tomorrow (or today, if the bot was down yesterday)."""
    return await send_reminders(factory, store, i18n, settings, send, now, alert_lines,
                                what="trip", due=_due_trips, claim=_claim_trip)


async def purge_ended_trips(
    factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime | None = None
) -> int:
    """Delete trips that ended more than ``TRIP_RETENTION_DAYS`` ago."""
    today = local_today(now or utcnow(), settings.tz)
    cutoff = today - timedelta(days=settings.trip_retention_days)
    async with factory() as session, session.begin():
        removed = await TripRepo(session).purge_ended_before(cutoff)
    if removed:
        log.info("deleted %d trips that ended before %s", removed, cutoff)
    return removed


class TravellerTask:
    """Reminders and retention: the sweep of the periodic job ``travellers`` (the factory
    runs it through :meth:`bot.shared.jobs.JobRunner.every`); ``clock`` is replaceable in
    tests, which stop the job and sweep themselves after moving the clock."""

    KEY = "travellers"

    def __init__(self, factory: async_sessionmaker[AsyncSession], store: ContentStore,
                 i18n: I18n, settings: Settings, send: Send,
                 clock: Callable[[], datetime] = utcnow,
                 alert_lines: AlertLines | None = None,
                 every: timedelta = SWEEP_EVERY) -> None:
        self.factory, self.store, self.i18n, self.settings = factory, store, i18n, settings
        self.send, self.clock, self.alert_lines, self.every = send, clock, alert_lines, every

    async def sweep(self) -> tuple[int, int]:
        now = self.clock()
        reminded = await send_due_reminders(self.factory, self.store, self.i18n, self.settings,
                                            self.send, now, self.alert_lines)
        purged = await purge_ended_trips(self.factory, self.settings, now)
        return reminded, purged


# --- in an update (the unit of work's session: these flush, the middleware commits) -------


def today(tz: ZoneInfo) -> date:
    """Today where the ministry is (trip dates are days there)."""
    return local_today(utcnow(), tz)


async def may_register(session: AsyncSession, user_id: int) -> bool:
    """False: the person has MAX_TRIPS trips registered already."""
    return len(await TripRepo(session).for_user(user_id)) < MAX_TRIPS


async def check_trip(session: AsyncSession, user_id: int, starts_on: date, ends_on: date,
                     tz: ZoneInfo, exclude: int | None = None,
                     ) -> tuple[TripProblem | None, list[TripDTO]]:
    """What is wrong with these dates, and the person's trips they overlap."""
    problem = check_dates(starts_on, ends_on, today(tz))
    if problem is not None:
        return problem, []
    overlaps = await TripRepo(session).overlapping(user_id, starts_on, ends_on, exclude)
    return (TripProblem.OVERLAPS if overlaps else None), overlaps


async def register(session: AsyncSession, user_id: int, lang: str, country: str,
                   starts_on: date, ends_on: date, phone: str | None, home_contact: str | None,
                   tz: ZoneInfo) -> TripDTO | None:
    """The new trip; None if one registered meanwhile (elsewhere) overlaps it."""
    repo = TripRepo(session)
    if await repo.overlapping(user_id, starts_on, ends_on):
        return None
    return await repo.add(user_id, lang, country, starts_on, ends_on, phone, home_contact,
                          reminder_sent=reminder_due_at_registration(starts_on, today(tz)))


async def get_trip(session: AsyncSession, trip_id: int, user_id: int) -> TripDTO | None:
    """The person's trip (None: not theirs, or no longer registered)."""
    return await TripRepo(session).get(trip_id, user_id)


async def cancel(session: AsyncSession, trip_id: int, user_id: int) -> None:
    await TripRepo(session).cancel(trip_id, user_id)


async def change_dates(session: AsyncSession, trip_id: int, user_id: int, starts_on: date,
                       ends_on: date, tz: ZoneInfo) -> bool:
    """False: the trip is no longer registered."""
    reminded = reminder_due_at_registration(starts_on, today(tz))
    return await TripRepo(session).change_dates(trip_id, user_id, starts_on, ends_on, reminded)
