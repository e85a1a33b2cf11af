"""Appointments: a citizen books a visit (service → mission → day → time), operators of a
mission set its weekly hours, closed and extra days, read the day's list and mark no-shows.

Times are planned in the mission's own time zone and stored in UTC. Slots are materialised
rows; the database refuses a second active booking of a slot (see
:mod:`storage.appointments`), so no check in Python is the guarantee. Everything that
depends on the time takes ``now``, so tests move a clock instead of sleeping.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.cards import mission_label
from bot.answers.content import Mission
from bot.answers.store import ContentStore
from bot.config import Settings
from bot.privacy.registry import Context, PersonalData
from bot.shared import audit
from bot.shared.audit import Action
from bot.shared.i18n import locale, reader_language
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_date, fmt_time
from bot.shared.translation import gettext as _
from storage.appointments import (
    ACTIVE,
    NO_SHOW,
    AppointmentDTO,
    AppointmentRepo,
    SlotDTO,
    Taken,
    TemplateDTO,
)
from storage.models.base import utcnow
from storage.travel.travellers import FollowRepo, TripRepo

Appointment = AppointmentDTO  # what the handlers render

log = logging.getLogger(__name__)

BOOK_DAYS = 14  # how far ahead a citizen can book
SWEEP_EVERY = timedelta(minutes=10)
REMIND_AHEAD = timedelta(hours=24)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The services a mission may offer, by code (short: the code travels in button data).
SERVICES: dict[str, Callable[[], str]] = {
    "passport": lambda: _("Passport or ID card"),
    "return": lambda: _("Certificate of return"),
    "notary": lambda: _("Notarial act, power of attorney"),
    "civil": lambda: _("Civil registration (birth, marriage)"),
    "register": lambda: _("Consular registration"),
    "visa": lambda: _("Visa to Kazakhstan (foreigners)"),
    "other": lambda: _("Another consular matter"),
}


def service_label(code: str) -> str:
    label = SERVICES.get(code)
    return label() if label else code


class BookingError(Exception):
    """Why a booking, move or cancel was refused: ``gone`` (no such slot or booking, e.g.
    forged button data), ``past``, ``slot`` (taken), ``service`` (already booked)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal(reason: str) -> str:
    """What the person reads, in the current language."""
    return {
        "slot": _("Sorry, someone has just taken this time. Please choose another one."),
        "service": _("You already have an appointment for this service. Move or cancel it "
                     "in “My appointments” first."),
        "past": _("This time has already passed. Please choose another one."),
    }.get(reason, _("This button is no longer valid. Start again with /book."))


@dataclass(frozen=True)
class Place:
    """A mission as appointments need it: its country, its zone, its name in a language."""

    iso: str
    mission: Mission

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.mission.time_zone)

    def name(self, lang: str) -> str:
        return f"{mission_label(self.mission.kind)}, {self.mission.city.get(lang)}"


def places(store: ContentStore) -> dict[str, Place]:
    return {m.id: Place(iso, m) for iso, c in store.countries.items() for m in c.missions}


def utc_offset(moment: datetime, tz: ZoneInfo) -> str:
    """"UTC+1", "UTC+5:30", "UTC" for the zone's offset at that moment."""
    delta = moment.astimezone(tz).utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(moment: datetime, place: Place, lang: str) -> str:
    """"10:00 (local time in Berlin, UTC+1)" in the current language."""
    return _("{time} (local time in {city}, {offset})").format(
        time=fmt_time(moment, lang, place.tz), city=quote(place.mission.city.get(lang)),
        offset=utc_offset(moment, place.tz))


def when_text(moment: datetime, place: Place, lang: str) -> str:
    return f"{fmt_date(moment, lang, place.tz)}, {local_time(moment, place, lang)}"


def appointment_text(appt: AppointmentDTO, place: Place, lang: str) -> str:
    return _("Appointment #{number}: {service}\n{mission}\n{when}").format(
        number=appt.id, service=service_label(appt.service), mission=quote(place.name(lang)),
        when=when_text(appt.starts_at, place, lang))


# --- the .ics file ---------------------------------------------------------------------------


def _ics_escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545: lines longer than 75 octets continue on the next line after a space."""
    out: list[str] = []
    current = b""
    for ch in line:
        encoded = ch.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def ics(appt: AppointmentDTO, place: Place, lang: str, minutes: int, now: datetime,
        host: str = "embassy-bot") -> bytes:
    """A VCALENDAR with one VEVENT, times in UTC, summary in the current language."""
    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    summary = _("Consular appointment: {service}").format(service=service_label(appt.service))
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Digital Embassy Assistant//appointments//EN",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:appointment-{appt.id}@{host}",
        f"DTSTAMP:{stamp(now)}",
        f"DTSTART:{stamp(appt.starts_at)}",
        f"DTEND:{stamp(appt.starts_at + timedelta(minutes=minutes))}",
        f"SUMMARY:{_ics_escape(summary)} (#{appt.id})",
        f"LOCATION:{_ics_escape(place.name(lang))}",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(x) for x in lines) + "\r\n").encode()


# --- planning slots from templates ------------------------------------------------------------


def parse_days(spec: str) -> list[int] | None:
    """"mon-fri", "mon,wed,fri", "sat" → weekday numbers (Monday 0); None if unreadable."""
    days: list[int] = []
    for part in spec.lower().split(","):
        ends = part.split("-")
        if not all(e in WEEKDAYS for e in ends) or len(ends) > 2:
            return None
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        if last < first:
            return None
        days += [d for d in range(first, last + 1) if d not in days]
    return sorted(days) if days else None


def parse_hours(spec: str, length: str) -> tuple[str, str, int] | None:
    """"09:00-12:00" and "20m" (or "20", "1h") → ("09:00", "12:00", 20)."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", spec)
    n = re.fullmatch(r"(\d{1,3})(m|min|h)?", length.lower())
    if not m or not n:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    minutes = int(n.group(1)) * (60 if n.group(2) == "h" else 1)
    if not 5 <= minutes <= 240 or (h2 * 60 + m2) - (h1 * 60 + m1) < minutes:
        return None
    return f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}", minutes


def planned(templates: list[TemplateDTO], closed: dict[date, tuple[str, int | None]],
            tz: ZoneInfo, first: date, days: int) -> list[tuple[str, datetime, datetime]]:
    """(service, start, end) in UTC of every slot from ``first`` for ``days`` local days."""
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        kind, weekday = closed.get(day, (None, None))
        if kind == "closed":
            continue
        weekday = weekday if kind == "open" and weekday is not None else day.weekday()
        for t in templates:
            if t.weekday != weekday:
                continue
            start = datetime.combine(day, time.fromisoformat(t.starts), tz)
            stop = datetime.combine(day, time.fromisoformat(t.ends), tz)
            step = timedelta(minutes=t.minutes)
            while start + step <= stop:
                out.append((t.service, start.astimezone(UTC), (start + step).astimezone(UTC)))
                start += step
    return out


class Appointments:
    """The feature over one session (the update's unit of work, or a job's own)."""

    def __init__(self, session: AsyncSession, store: ContentStore,
                 now: datetime | None = None) -> None:
        self.session, self.store, self.now = session, store, now or utcnow()
        self.repo = AppointmentRepo(session)
        self.places = places(store)

    def place(self, mission: str) -> Place:
        found = self.places.get(mission)
        if found is None:
            raise BookingError("gone")
        return found

    async def _materialise(self, mission: str, days: int = BOOK_DAYS + 1) -> None:
        place = self.place(mission)
        templates = await self.repo.templates(mission)
        first = self.now.astimezone(place.tz).date()
        exceptions = await self.repo.exceptions(mission, first, first + timedelta(days=days))
        rows = [(mission, s, a, b) for s, a, b in
                planned(templates, exceptions, place.tz, first, days)]
        await self.repo.ensure_slots(rows)

    # --- citizens ------------------------------------------------------------------------

    async def services(self) -> list[str]:
        """Codes of the services at least one known mission offers, in the vocabulary's order."""
        offered = {t.service for t in await self.repo.templates() if t.mission in self.places}
        return [code for code in SERVICES if code in offered]

    async def missions(self, service: str, user_id: int) -> list[str]:
        """Missions offering ``service``; those in the countries the person travels to or
        follows come first."""
        offered = sorted({t.mission for t in await self.repo.templates()
                          if t.service == service and t.mission in self.places})
        today = self.now.date()
        mine = [t.country for t in await TripRepo(self.session).for_user(user_id)
                if t.ends_on >= today]
        mine += await FollowRepo(self.session).countries(user_id)
        rank = {iso: i for i, iso in reversed(list(enumerate(mine)))}
        return sorted(offered, key=lambda m: (rank.get(self.places[m].iso, len(rank)), m))

    async def days(self, service: str, mission: str) -> list[date]:
        """Local days of the next two weeks with a free slot."""
        place = self.place(mission)
        await self._materialise(mission)
        slots = await self.repo.free_slots(service, self.now, self.now + timedelta(
            days=BOOK_DAYS + 1), mission)
        last = self.now.astimezone(place.tz).date() + timedelta(days=BOOK_DAYS - 1)
        seen = sorted({s.starts_at.astimezone(place.tz).date() for s in slots})
        return [d for d in seen if d <= last]

    async def times(self, service: str, mission: str, day: date) -> list[SlotDTO]:
        place = self.place(mission)
        start = datetime.combine(day, time(0), place.tz)
        end = start + timedelta(days=1)
        return await self.repo.free_slots(service, max(start, self.now), end, mission)

    async def slot(self, slot_id: int) -> SlotDTO:
        slot = await self.repo.slot(slot_id)
        if slot is None or slot.mission not in self.places:
            raise BookingError("gone")
        if slot.starts_at <= self.now:
            raise BookingError("past")
        return slot

    def _reminded(self, starts_at: datetime) -> datetime | None:
        """A visit within a day needs no reminder: the confirmation is the reminder."""
        return self.now if starts_at - self.now <= REMIND_AHEAD else None

    async def book(self, user_id: int, lang: str, slot_id: int) -> AppointmentDTO:
        slot = await self.slot(slot_id)
        try:
            appt = await self.repo.book(slot, user_id, lang, self._reminded(slot.starts_at))
        except Taken as exc:
            raise BookingError(exc.reason) from None
        await audit.record(self.session, None, Action.APPOINTMENT_BOOKED, f"appointment:{appt.id}",
                           mission=slot.mission, service=slot.service)
        return appt

    async def move(self, user_id: int, appt_id: int, slot_id: int) -> AppointmentDTO:
        slot = await self.slot(slot_id)
        try:
            appt = await self.repo.move(appt_id, user_id, slot, self._reminded(slot.starts_at))
        except Taken as exc:
            raise BookingError(exc.reason) from None
        if appt is None:
            raise BookingError("gone")
        await audit.record(self.session, None, Action.APPOINTMENT_MOVED, f"appointment:{appt.id}",
                           mission=slot.mission, service=slot.service)
        return appt

    async def cancel(self, user_id: int, appt_id: int) -> AppointmentDTO:
        appt = await self.repo.cancel(appt_id, user_id)
        if appt is None:
            raise BookingError("gone")
        await audit.record(self.session, None, Action.APPOINTMENT_CANCELLED,
                           f"appointment:{appt.id}",
                           mission=appt.mission, service=appt.service)
        return appt

    async def mine(self, user_id: int) -> list[AppointmentDTO]:
        return [a for a in await self.repo.for_user(user_id, after=self.now)
                if a.mission in self.places]

    async def own(self, user_id: int, appt_id: int) -> AppointmentDTO:
        appt = await self.repo.get(appt_id)
        if appt is None or appt.user_id != user_id or appt.status != ACTIVE \
                or appt.mission not in self.places:
            raise BookingError("gone")
        return appt

    async def length(self, slot_id: int) -> int:
        slot = await self.repo.slot(slot_id)
        return int((slot.ends_at - slot.starts_at).total_seconds() // 60) if slot else 30

    # --- operators -----------------------------------------------------------------------

    async def set_hours(self, mission: str, service: str, weekdays: list[int],
                        hours: tuple[str, str, int] | None, by: int) -> int:
        """Replace the hours; free slots that no longer fit go. Returns the slots planned."""
        await self.repo.set_templates(mission, service, weekdays, hours, by)
        kept = await self._replan(mission)
        await audit.record(self.session, by, Action.APPOINTMENT_HOURS, f"mission:{mission}",
                           service=service, weekdays=weekdays, hours=list(hours or ()))
        return sum(1 for s, _a, _b in kept if s == service)

    async def set_day(self, mission: str, day: date, kind: str | None, weekday: int | None,
                      by: int) -> int:
        """Close a day, open an extra one, or undo either; returns active bookings that day."""
        await self.repo.set_exception(mission, day, kind, weekday, by)
        await self._replan(mission)
        await audit.record(self.session, by, Action(f"appointment.day_{kind or 'reset'}"),
                           f"mission:{mission}", day=day.isoformat())
        return len([a for a in await self.day(mission, day) if a.status == ACTIVE])

    async def _replan(self, mission: str) -> list[tuple[str, datetime, datetime]]:
        place = self.place(mission)
        first = self.now.astimezone(place.tz).date()
        days = BOOK_DAYS + 1
        templates = await self.repo.templates(mission)
        exceptions = await self.repo.exceptions(mission, first, first + timedelta(days=days))
        plan = planned(templates, exceptions, place.tz, first, days)
        for service in SERVICES:
            keep = {a for s, a, _b in plan if s == service}
            await self.repo.drop_free_slots(mission, self.now, keep, service)
        await self.repo.ensure_slots([(mission, s, a, b) for s, a, b in plan])
        return plan

    async def templates(self, mission: str) -> list[TemplateDTO]:
        return await self.repo.templates(mission)

    async def day(self, mission: str, day: date) -> list[AppointmentDTO]:
        place = self.place(mission)
        start = datetime.combine(day, time(0), place.tz)
        return await self.repo.day_list(mission, start, start + timedelta(days=1))

    async def no_show(self, appt_id: int, missions: set[str] | None, by: int
                      ) -> AppointmentDTO:
        appt = await self.repo.mark_no_show(appt_id, missions)
        if appt is None:
            raise BookingError("gone")
        await audit.record(self.session, by, Action.APPOINTMENT_NO_SHOW, f"appointment:{appt.id}",
                           mission=appt.mission)
        return appt

    def csv(self, mission: str, rows: list[AppointmentDTO]) -> bytes:
        """The day's list for the mission's records: number, local time, service, status."""
        place = self.place(mission)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["appointment", "mission", "local_time", "utc_time", "service",
                         "language", "status"])
        for a in rows:
            writer.writerow([a.id, mission, a.starts_at.astimezone(place.tz).isoformat(),
                             a.starts_at.astimezone(UTC).isoformat(), a.service, a.lang,
                             a.status])
        return out.getvalue().encode("utf-8-sig")


# --- the day-before reminder and retention (a periodic sweep; idempotent by claim) ------------

Send = Callable[[int, str], Awaitable[bool]]


def reminder_text(appt: AppointmentDTO, place: Place, lang: str) -> str:
    return "\n\n".join([
        _("⏰ Reminder: your consular appointment is tomorrow."),
        appointment_text(appt, place, lang),
        _("Bring your identity document and the papers for your matter. To move or cancel: "
          "/appointments"),
    ])


async def send_appointment_reminders(
    factory: async_sessionmaker[AsyncSession], store: ContentStore, i18n: I18n,
    settings: Settings, send: Send, now: datetime | None = None,
) -> int:
    """Remind every active appointment starting within a day, once.

    The claim (``reminded_at`` set by a conditional UPDATE) is committed before the message
    goes, so no connection is held while Telegram answers and two processes never both send;
    a send that fails for a reason other than a blocked bot gives the claim back, so the next
    sweep tries again.
    """
    now = now or utcnow()
    found = places(store)
    async with factory() as session:
        due = await AppointmentRepo(session).due_reminders(now, now + REMIND_AHEAD)
    sent = 0
    for appt_id in due:
        try:
            async with factory() as session, session.begin():
                appt = await AppointmentRepo(session).claim_reminder(appt_id, now)
                if appt is None or appt.mission not in found:
                    continue
                lang = await reader_language(session, appt.user_id, appt.lang)
            with locale(i18n, lang):
                text = reminder_text(appt, found[appt.mission], lang)
            try:
                delivered = await send(appt.user_id, text)
            except Exception:
                async with factory() as session, session.begin():
                    await AppointmentRepo(session).unclaim_reminder(appt_id, now)
                raise
            sent += int(delivered)
        except Exception:  # one reminder's failure never ends the sweep
            log.warning("reminder of appointment %s not sent; tried again at the next sweep",
                        appt_id, exc_info=True)
    return sent


async def purge_past_appointments(factory: async_sessionmaker[AsyncSession],
                                  settings: Settings, now: datetime | None = None) -> int:
    """Delete appointments (and their slots) older than ``APPOINTMENT_RETENTION_DAYS``."""
    cutoff = (now or utcnow()) - timedelta(days=settings.appointment_retention_days)
    async with factory() as session, session.begin():
        removed = await AppointmentRepo(session).purge_before(cutoff)
    if removed:
        log.info("deleted %d appointments that were before %s", removed, cutoff)
    return removed


APPOINTMENTS = "appointments"  # the periodic job of :func:`sweep_appointments`


async def sweep_appointments(factory: async_sessionmaker[AsyncSession], store: ContentStore,
                             i18n: I18n, settings: Settings, send: Send,
                             clock: Callable[[], datetime] = utcnow) -> tuple[int, int]:
    """Reminders and retention while the bot runs: (reminded, purged)."""
    now = clock()
    reminded = await send_appointment_reminders(factory, store, i18n, settings, send, now)
    return reminded, await purge_past_appointments(factory, settings, now)


# --- /my_data and /forget_me ------------------------------------------------------------------


async def _show(ctx: Context, user_id: int) -> list[str]:
    found = places(ctx.store)
    lines = []
    for appt in await AppointmentRepo(ctx.session).for_user(user_id, active_only=False):
        place = found.get(appt.mission)
        if place is None:
            continue
        state = {ACTIVE: _("booked"), NO_SHOW: _("missed")}.get(appt.status, _("cancelled"))
        lines.append(f"#{appt.id} · {quote(service_label(appt.service))} · "
                     f"{quote(place.name(ctx.lang))} · "
                     f"{when_text(appt.starts_at, place, ctx.lang)} · {state}")
    return lines


async def _erase(session: AsyncSession, user_id: int) -> int:
    await AppointmentRepo(session).forget_operator(user_id)
    return await AppointmentRepo(session).delete_for_user(user_id)


def personal_data() -> list[PersonalData]:
    return [PersonalData("appointments", lambda: _("Consular appointments"), _show, _erase)]

