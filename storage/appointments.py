"""Appointments: templates, closed and extra days, slots and bookings. Never commits.

Two people can never hold one slot: the partial unique index ``uq_appointments_slot_active``
refuses a second active booking of a slot, whatever the Python above it checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.appointments import (
    Appointment,
    AppointmentException,
    AppointmentSlot,
    AppointmentTemplate,
)

ACTIVE, CANCELLED, NO_SHOW = "active", "cancelled", "no_show"


@dataclass(frozen=True)
class TemplateDTO:
    mission: str
    service: str
    weekday: int
    starts: str
    ends: str
    minutes: int


@dataclass(frozen=True)
class SlotDTO:
    id: int
    mission: str
    service: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class AppointmentDTO:
    id: int
    slot_id: int
    user_id: int
    lang: str
    mission: str
    service: str
    starts_at: datetime
    status: str
    reminded_at: datetime | None

    @property
    def missed(self) -> bool:
        return self.status == NO_SHOW


def _slot(r: AppointmentSlot) -> SlotDTO:
    return SlotDTO(r.id, r.mission, r.service, r.starts_at, r.ends_at)


def _appt(r: Appointment) -> AppointmentDTO:
    return AppointmentDTO(r.id, r.slot_id, r.user_id, r.lang, r.mission, r.service,
                          r.starts_at, r.status, r.reminded_at)


class Taken(Exception):
    """The slot is held by someone else (or the person already holds this service)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "slot" | "service"


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


class AppointmentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- templates and exceptions --------------------------------------------------------

    async def set_templates(self, mission: str, service: str, weekdays: list[int],
                            hours: tuple[str, str, int] | None, by: int | None) -> None:
        """Replace the hours of ``weekdays`` (None: those days are no longer served)."""
        await self.session.execute(delete(AppointmentTemplate).where(
            AppointmentTemplate.mission == mission, AppointmentTemplate.service == service,
            AppointmentTemplate.weekday.in_(weekdays)))
        if hours is not None:
            starts, ends, minutes = hours
            self.session.add_all([
                AppointmentTemplate(mission=mission, service=service, weekday=d, starts=starts,
                                    ends=ends, minutes=minutes, created_by=by)
                for d in weekdays])
        await self.session.flush()

    async def templates(self, mission: str | None = None) -> list[TemplateDTO]:
        query = select(AppointmentTemplate).order_by(
            AppointmentTemplate.mission, AppointmentTemplate.service,
            AppointmentTemplate.weekday, AppointmentTemplate.starts)
        if mission is not None:
            query = query.where(AppointmentTemplate.mission == mission)
        return [TemplateDTO(r.mission, r.service, r.weekday, r.starts, r.ends, r.minutes)
                for r in await self.session.scalars(query)]

    async def set_exception(self, mission: str, day: date, kind: str | None,
                            weekday: int | None, by: int | None) -> None:
        """``kind`` closed or open; None removes the exception (the week's hours apply)."""
        await self.session.execute(delete(AppointmentException).where(
            AppointmentException.mission == mission, AppointmentException.day == day))
        if kind is not None:
            self.session.add(AppointmentException(mission=mission, day=day, kind=kind,
                                                  weekday=weekday, created_by=by))
        await self.session.flush()

    async def exceptions(self, mission: str, first: date, last: date
                         ) -> dict[date, tuple[str, int | None]]:
        rows = await self.session.scalars(select(AppointmentException).where(
            AppointmentException.mission == mission, AppointmentException.day >= first,
            AppointmentException.day <= last))
        return {r.day: (r.kind, r.weekday) for r in rows}

    # --- slots ---------------------------------------------------------------------------

    async def ensure_slots(self, rows: list[tuple[str, str, datetime, datetime]]) -> None:
        """Materialise slots; those already there are left alone (the unique key)."""
        if not rows:
            return
        values = [{"mission": m, "service": s, "starts_at": a, "ends_at": b}
                  for m, s, a, b in rows]
        bind = self.session.bind
        dialect = bind.dialect.name if bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        for i in range(0, len(values), 500):
            stmt = insert(AppointmentSlot).values(values[i:i + 500])
            await self.session.execute(stmt.on_conflict_do_nothing(
                index_elements=["mission", "service", "starts_at"]))

    def _held(self) -> Any:
        return exists().where(Appointment.slot_id == AppointmentSlot.id,
                              Appointment.status == ACTIVE)

    async def drop_free_slots(self, mission: str, after: datetime, keep: set[datetime] | None,
                              service: str | None = None) -> int:
        """Delete slots nobody holds from ``after`` on, except those starting at ``keep``."""
        query = delete(AppointmentSlot).where(
            AppointmentSlot.mission == mission, AppointmentSlot.starts_at >= after,
            ~exists().where(Appointment.slot_id == AppointmentSlot.id))
        if service is not None:
            query = query.where(AppointmentSlot.service == service)
        if keep:
            query = query.where(AppointmentSlot.starts_at.not_in(list(keep)))
        return _rowcount(await self.session.execute(query))

    async def slot(self, slot_id: int) -> SlotDTO | None:
        row = await self.session.get(AppointmentSlot, slot_id)
        return _slot(row) if row else None

    async def free_slots(self, service: str, start: datetime, end: datetime,
                         mission: str | None = None) -> list[SlotDTO]:
        query = select(AppointmentSlot).where(
            AppointmentSlot.service == service, AppointmentSlot.starts_at >= start,
            AppointmentSlot.starts_at < end, ~self._held(),
        ).order_by(AppointmentSlot.starts_at, AppointmentSlot.mission)
        if mission is not None:
            query = query.where(AppointmentSlot.mission == mission)
        return [_slot(r) for r in await self.session.scalars(query)]

    # --- bookings ------------------------------------------------------------------------

    async def book(self, slot: SlotDTO, user_id: int, lang: str,
                   reminded_at: datetime | None = None) -> AppointmentDTO:
        """Insert the booking; :class:`Taken` if the database refuses it."""
        row = Appointment(slot_id=slot.id, user_id=user_id, lang=lang, mission=slot.mission,
                          service=slot.service, starts_at=slot.starts_at, status=ACTIVE,
                          reminded_at=reminded_at)
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            raise Taken(await self._why(user_id, slot.service)) from None
        return _appt(row)

    async def _why(self, user_id: int, service: str) -> str:
        mine = await self.session.scalar(select(Appointment.id).where(
            Appointment.user_id == user_id, Appointment.service == service,
            Appointment.status == ACTIVE).limit(1))
        return "service" if mine is not None else "slot"

    async def move(self, appt_id: int, user_id: int, slot: SlotDTO,
                   reminded_at: datetime | None) -> AppointmentDTO | None:
        """One UPDATE: the new slot is taken and the old one freed together, or neither."""
        try:
            async with self.session.begin_nested():
                result = await self.session.execute(update(Appointment).where(
                    Appointment.id == appt_id, Appointment.user_id == user_id,
                    Appointment.status == ACTIVE, Appointment.service == slot.service,
                ).values(slot_id=slot.id, mission=slot.mission, starts_at=slot.starts_at,
                         reminded_at=reminded_at))
        except IntegrityError:
            raise Taken("slot") from None
        return await self.get(appt_id) if _rowcount(result) else None

    async def get(self, appt_id: int) -> AppointmentDTO | None:
        row = await self.session.get(Appointment, appt_id, populate_existing=True)
        return _appt(row) if row else None

    async def cancel(self, appt_id: int, user_id: int) -> AppointmentDTO | None:
        result = await self.session.execute(update(Appointment).where(
            Appointment.id == appt_id, Appointment.user_id == user_id,
            Appointment.status == ACTIVE).values(status=CANCELLED))
        return await self.get(appt_id) if _rowcount(result) else None

    async def for_user(self, user_id: int, after: datetime | None = None,
                       active_only: bool = True) -> list[AppointmentDTO]:
        query = select(Appointment).where(Appointment.user_id == user_id).order_by(
            Appointment.starts_at, Appointment.id)
        if active_only:
            query = query.where(Appointment.status == ACTIVE)
        if after is not None:
            query = query.where(Appointment.starts_at >= after)
        return [_appt(r) for r in await self.session.scalars(query)]

    async def day_list(self, mission: str, start: datetime, end: datetime
                       ) -> list[AppointmentDTO]:
        rows = await self.session.scalars(select(Appointment).where(
            Appointment.mission == mission, Appointment.starts_at >= start,
            Appointment.starts_at < end, Appointment.status.in_([ACTIVE, NO_SHOW]),
        ).order_by(Appointment.starts_at, Appointment.id))
        return [_appt(r) for r in rows]

    async def mark_no_show(self, appt_id: int, missions: set[str] | None
                           ) -> AppointmentDTO | None:
        query = update(Appointment).where(Appointment.id == appt_id,
                                          Appointment.status == ACTIVE)
        if missions is not None:
            query = query.where(Appointment.mission.in_(missions))
        result = await self.session.execute(query.values(status=NO_SHOW))
        return await self.get(appt_id) if _rowcount(result) else None

    # --- reminders, retention, erasure ---------------------------------------------------

    async def due_reminders(self, now: datetime, until: datetime) -> list[int]:
        rows = await self.session.scalars(select(Appointment.id).where(
            Appointment.status == ACTIVE, Appointment.reminded_at.is_(None),
            Appointment.starts_at > now, Appointment.starts_at <= until,
        ).order_by(Appointment.starts_at))
        return list(rows)

    async def claim_reminder(self, appt_id: int, now: datetime) -> AppointmentDTO | None:
        """A conditional UPDATE: of two processes, exactly one gets the row."""
        result = await self.session.execute(update(Appointment).where(
            Appointment.id == appt_id, Appointment.status == ACTIVE,
            Appointment.reminded_at.is_(None)).values(reminded_at=now))
        return await self.get(appt_id) if _rowcount(result) else None

    async def unclaim_reminder(self, appt_id: int, claimed: datetime) -> None:
        await self.session.execute(update(Appointment).where(
            Appointment.id == appt_id, Appointment.reminded_at == claimed,
        ).values(reminded_at=None))

    async def purge_before(self, cutoff: datetime) -> int:
        """Appointments (any status) and slots that started before ``cutoff``."""
        removed = _rowcount(await self.session.execute(
            delete(Appointment).where(Appointment.starts_at < cutoff)))
        await self.session.execute(delete(AppointmentSlot).where(
            AppointmentSlot.starts_at < cutoff,
            ~exists().where(and_(Appointment.slot_id == AppointmentSlot.id))))
        return removed

    async def delete_for_user(self, user_id: int) -> int:
        return _rowcount(await self.session.execute(
            delete(Appointment).where(Appointment.user_id == user_id)))

    async def forget_operator(self, user_id: int) -> int:
        """An operator erasing themselves: templates and exceptions stay, unattributed."""
        n = _rowcount(await self.session.execute(update(AppointmentTemplate).where(
            AppointmentTemplate.created_by == user_id).values(created_by=None)))
        n += _rowcount(await self.session.execute(update(AppointmentException).where(
            AppointmentException.created_by == user_id).values(created_by=None)))
        return n
