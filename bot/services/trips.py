"""Trips: dates typed in Kazakh, Russian or English, checks, reminders and retention.

Everything that depends on the time takes ``now`` so that tests move the clock instead
of sleeping. Days are counted in the ministry's time zone (``TIMEZONE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import locale
from bot.services.render import advisory_block, emergency_block, flag
from bot.services.store import ContentStore
from bot.services.tghtml import quote
from bot.translation import fmt_date
from bot.translation import gettext as _
from storage.models import utcnow
from storage.repo_travellers import TripDTO, TripRepo
from storage.repositories import UserRepo

log = logging.getLogger(__name__)

MAX_TRIP_DAYS = 366
RECENT_PAST_DAYS = 60
MAX_AHEAD_DAYS = 2 * 366
SWEEP_EVERY = timedelta(minutes=10)

# The first three letters of a month's name (four where three are ambiguous).
MONTHS: dict[str, int] = {
    # English
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    # Russian
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "май": 5, "мая": 5, "мае": 5, "июн": 6,
    "июл": 7, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
    # Kazakh
    "қаң": 1, "ақп": 2, "нау": 3, "сәу": 4, "мам": 5, "мау": 6, "шіл": 7, "там": 8,
    "қыр": 9, "қаз": 10, "қар": 11, "жел": 12,
}

_WORD = r"[^\W\d_]{3,}"
_ORD = r"(?:-?(?:го|е|ші|шы|st|nd|rd|th))?"
_DATE = re.compile(
    rf"""
    (?P<iso>(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}}))
    | (?P<num>(?P<nd>\d{{1,2}})[./](?P<nm>\d{{1,2}})(?:[./](?P<ny>\d{{4}}|\d{{2}}))?)(?![\d./])
    | (?P<dm>(?P<dd>\d{{1,2}}){_ORD}\s*(?P<dw>{_WORD})\.?(?:,?\s+(?P<dy>\d{{4}}))?)
    | (?P<md>(?P<mw>{_WORD})\.?\s+(?P<md_d>\d{{1,2}}){_ORD}(?:,?\s+(?P<my>\d{{4}}))?)
    """,
    re.VERBOSE | re.IGNORECASE,
)


class DateProblem(StrEnum):
    NONE_FOUND = "none"
    INVALID = "invalid"


@dataclass(frozen=True)
class _Found:
    day: int
    month: int
    year: int | None


def month_of(word: str) -> int | None:
    w = word.casefold()
    return MONTHS.get(w[:3]) if len(w) >= 3 else None


def _two_digit_year(text: str) -> int:
    value = int(text)
    return value + 2000 if value < 100 else value


def _scan(text: str) -> tuple[list[_Found], bool]:
    """Every date-like piece of ``text`` and whether one of them was impossible."""
    found: list[_Found] = []
    bad = False
    for m in _DATE.finditer(text):
        if m["iso"]:
            item = _Found(int(m["id"]), int(m["im"]), int(m["iy"]))
        elif m["num"]:
            year = _two_digit_year(m["ny"]) if m["ny"] else None
            item = _Found(int(m["nd"]), int(m["nm"]), year)
        elif m["dm"]:
            month = month_of(m["dw"])
            if month is None:
                continue
            item = _Found(int(m["dd"]), month, int(m["dy"]) if m["dy"] else None)
        else:
            month = month_of(m["mw"])
            if month is None:
                continue
            item = _Found(int(m["md_d"]), month, int(m["my"]) if m["my"] else None)
        if _valid(item):
            found.append(item)
        else:
            bad = True
    return found, bad


def _valid(item: _Found) -> bool:
    try:
        date(item.year or 2024, item.month, item.day)  # 2024: a leap year allows 29 February
    except ValueError:
        return False
    return True


def _resolve(item: _Found, not_before: date) -> date | None:
    """A date without a year is its next occurrence on or after ``not_before``, unless it
    lies within ``RECENT_PAST_DAYS`` before it: then the person most likely means that
    (past) day, and the caller explains why it cannot be used."""
    if item.year is not None:
        try:
            return date(item.year, item.month, item.day)
        except ValueError:
            return None
    for year in (not_before.year - 1, not_before.year, not_before.year + 1, not_before.year + 2):
        try:
            candidate = date(year, item.month, item.day)
        except ValueError:
            continue
        if candidate >= not_before or (not_before - candidate).days <= RECENT_PAST_DAYS:
            return candidate
    return None


def parse_date(text: str, today: date, after: date | None = None) -> date | DateProblem:
    """The first date in ``text``: 25.12, 25.12.2026, 25 декабря, 25 желтоқсан, Dec 25,
    25 December, 2026-12-25. Without a year, the next such day on or after ``after``
    (default today); with a past year the date is returned as is, for the caller to refuse.
    """
    dates = parse_dates(text, today, after)
    if isinstance(dates, DateProblem):
        return dates
    return dates[0]


def parse_dates(text: str, today: date, after: date | None = None) -> list[date] | DateProblem:
    """All dates in ``text`` in order, each year-less one after the one before it."""
    found, bad = _scan((text or "")[:200])
    if not found:
        return DateProblem.INVALID if bad else DateProblem.NONE_FOUND
    out: list[date] = []
    anchor = after or today
    for item in found:
        resolved = _resolve(item, anchor)
        if resolved is None:
            return DateProblem.INVALID
        out.append(resolved)
        anchor = max(anchor, resolved)
    return out


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


async def send_due_reminders(
    factory: async_sessionmaker[AsyncSession], store: ContentStore, i18n: I18n,
    settings: Settings, send: Send, now: datetime | None = None,
    alert_lines: AlertLines | None = None,
) -> int:
    """Remind every trip starting tomorrow (or today, if the bot was down yesterday).

    Each reminder is claimed and marked sent in one transaction that commits only after
    Telegram accepted the message, so several processes sharing PostgreSQL never send it
    twice and a failed send is retried at the next sweep; the sweep goes on with the next.
    """
    now = now or utcnow()
    today = local_today(now, settings.tz)
    async with factory() as session:
        due = await TripRepo(session).due_reminders(today + timedelta(days=1), today)
    sent = 0
    for trip_id in due:
        try:
            async with factory() as session, session.begin():
                trip = await TripRepo(session).claim_reminder(trip_id)
                if trip is None or trip.country not in store.countries:
                    continue
                lang = await _language(session, trip)
                with locale(i18n, lang):
                    lines = (await alert_lines(session, trip.country, lang, now)
                             if alert_lines else [])
                    text = reminder_text(store, trip, lang, settings.tz, lines)
                if not await send(trip.user_id, text):
                    continue  # the person blocked the bot: marked sent, nothing to retry
                sent += 1
        except Exception:  # one reminder's failure never ends the sweep
            log.warning("reminder of trip %s not sent; it is tried again at the next sweep",
                        trip_id, exc_info=True)
    return sent


async def _language(session: AsyncSession, trip: TripDTO) -> str:
    user = await UserRepo(session).get(trip.user_id)
    return (user.language if user and user.language else None) or trip.lang


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
    """Reminders and retention while the bot runs; ``clock`` is replaceable in tests."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], store: ContentStore,
                 i18n: I18n, settings: Settings, send: Send,
                 clock: Callable[[], datetime] = utcnow,
                 alert_lines: AlertLines | None = None,
                 every: timedelta = SWEEP_EVERY) -> None:
        self.factory, self.store, self.i18n, self.settings = factory, store, i18n, settings
        self.send, self.clock, self.alert_lines, self.every = send, clock, alert_lines, every
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def sweep(self) -> tuple[int, int]:
        now = self.clock()
        reminded = await send_due_reminders(self.factory, self.store, self.i18n, self.settings,
                                            self.send, now, self.alert_lines)
        purged = await purge_ended_trips(self.factory, self.settings, now)
        return reminded, purged

    def wake(self) -> None:
        """Sweep now (tests call it after moving the clock)."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("traveller sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every.total_seconds())
            self._wake.clear()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="travellers")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
