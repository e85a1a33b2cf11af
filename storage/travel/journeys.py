"""Journeys: the legs of a trip (countries with their dates) and travelling companions.
Repositories never commit. Leg 0 is the trip row's own country and dates (written and
re-dated by :class:`storage.travel.travellers.TripRepo`); this repository adds the others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.travel import Trip, TripCompanion, TripLeg

COMPANION_CHARS = 80
MAX_LEGS = 10
MAX_COMPANIONS = 10


@dataclass(frozen=True)
class LegDTO:
    id: int
    trip_id: int
    user_id: int
    position: int
    country: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class CompanionDTO:
    id: int
    trip_id: int
    name: str


def _leg(row: TripLeg) -> LegDTO:
    return LegDTO(row.id, row.trip_id, row.user_id, row.position, row.country, row.starts_on,
                  row.ends_on)


class JourneyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def legs(self, trip_id: int) -> list[LegDTO]:
        rows = await self.session.scalars(
            select(TripLeg).where(TripLeg.trip_id == trip_id).order_by(TripLeg.position))
        return [_leg(r) for r in rows]

    async def legs_for_user(self, user_id: int) -> dict[int, list[LegDTO]]:
        rows = await self.session.scalars(
            select(TripLeg).where(TripLeg.user_id == user_id)
            .order_by(TripLeg.trip_id, TripLeg.position))
        out: dict[int, list[LegDTO]] = {}
        for row in rows:
            out.setdefault(row.trip_id, []).append(_leg(row))
        return out

    async def add_leg(self, trip_id: int, user_id: int, country: str, starts_on: date,
                      ends_on: date, reminder_sent: bool = False) -> LegDTO | None:
        """A further leg of the person's own trip; None when the trip is not theirs."""
        trip = await self.session.get(Trip, trip_id)
        if trip is None or trip.user_id != user_id:
            return None
        last = await self.session.scalar(
            select(func.max(TripLeg.position)).where(TripLeg.trip_id == trip_id))
        row = TripLeg(trip_id=trip_id, user_id=user_id, position=(last or 0) + 1,
                      country=country, starts_on=starts_on, ends_on=ends_on,
                      reminder_sent=reminder_sent)
        self.session.add(row)
        await self.session.flush()
        return _leg(row)

    async def companions(self, trip_id: int) -> list[CompanionDTO]:
        rows = await self.session.scalars(
            select(TripCompanion).where(TripCompanion.trip_id == trip_id)
            .order_by(TripCompanion.id))
        return [CompanionDTO(r.id, r.trip_id, r.name) for r in rows]

    async def companions_for_user(self, user_id: int) -> dict[int, list[CompanionDTO]]:
        rows = await self.session.scalars(
            select(TripCompanion).where(TripCompanion.user_id == user_id)
            .order_by(TripCompanion.trip_id, TripCompanion.id))
        out: dict[int, list[CompanionDTO]] = {}
        for r in rows:
            out.setdefault(r.trip_id, []).append(CompanionDTO(r.id, r.trip_id, r.name))
        return out

    async def add_companion(self, trip_id: int, user_id: int, name: str) -> CompanionDTO | None:
        trip = await self.session.get(Trip, trip_id)
        if trip is None or trip.user_id != user_id:
            return None
        row = TripCompanion(trip_id=trip_id, user_id=user_id, name=name[:COMPANION_CHARS])
        self.session.add(row)
        await self.session.flush()
        return CompanionDTO(row.id, row.trip_id, row.name)

    async def delete_for_user(self, user_id: int) -> tuple[int, int]:
        """(legs, companions) deleted; the trips themselves go with TripRepo."""
        legs = await self.session.execute(delete(TripLeg).where(TripLeg.user_id == user_id))
        companions = await self.session.execute(
            delete(TripCompanion).where(TripCompanion.user_id == user_id))
        return (int(legs.rowcount or 0),  # type: ignore[attr-defined]
                int(companions.rowcount or 0))  # type: ignore[attr-defined]

    async def delete_for_trips(self, trip_ids: list[int]) -> None:
        """Before the trips are deleted (SQLite without foreign keys would keep them)."""
        if trip_ids:
            await self.session.execute(delete(TripLeg).where(TripLeg.trip_id.in_(trip_ids)))
            await self.session.execute(
                delete(TripCompanion).where(TripCompanion.trip_id.in_(trip_ids)))

    async def due_reminders(self, last_start: date, first_start: date,
                            limit: int = 200) -> list[int]:
        """Further legs starting between the two dates whose reminder is not yet sent (leg 0
        is reminded as the trip itself)."""
        rows = await self.session.scalars(
            select(TripLeg.id).where(
                TripLeg.position > 0, TripLeg.reminder_sent.is_(False),
                TripLeg.starts_on <= last_start, TripLeg.starts_on >= first_start,
            ).order_by(TripLeg.id).limit(limit))
        return list(rows)

    async def claim_reminder(self, leg_id: int) -> LegDTO | None:
        """Only the transaction that flips the flag gets the leg."""
        result = await self.session.execute(
            update(TripLeg).where(TripLeg.id == leg_id, TripLeg.reminder_sent.is_(False))
            .values(reminder_sent=True))
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = await self.session.get(TripLeg, leg_id, populate_existing=True)
        return _leg(row) if row else None
