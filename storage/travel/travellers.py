"""Trips, followed countries and the audience of an alert. Repositories never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.people import User
from storage.models.publishing import ChatRow
from storage.models.travel import CountryFollow, Trip, TripCompanion, TripLeg
from storage.users import READS

PHONE_CHARS = 32
HOME_CONTACT_CHARS = 200


@dataclass(frozen=True)
class TripDTO:
    id: int
    user_id: int
    lang: str
    country: str
    starts_on: date
    ends_on: date
    phone: str | None
    home_contact: str | None
    reminder_sent: bool


def _trip(row: Trip) -> TripDTO:
    return TripDTO(row.id, row.user_id, row.lang, row.country, row.starts_on, row.ends_on,
                   row.phone, row.home_contact, row.reminder_sent)


@dataclass(frozen=True)
class GroupDTO:
    chat_id: int
    kind: str
    title: str | None
    languages: tuple[str, ...]
    news: bool
    countries: tuple[str, ...]
    active: bool


def _group(row: ChatRow) -> GroupDTO:
    countries = tuple((row.countries or {}).get("iso", []))
    langs = tuple(x for x in (row.languages or "").split(",") if x)
    return GroupDTO(row.chat_id, row.kind, row.title, langs, row.news, countries, row.active)


class TripRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, user_id: int, lang: str, country: str, starts_on: date, ends_on: date,
        phone: str | None = None, home_contact: str | None = None, reminder_sent: bool = False,
    ) -> TripDTO:
        row = Trip(
            user_id=user_id, lang=lang, country=country, starts_on=starts_on, ends_on=ends_on,
            phone=(phone or None) and phone[:PHONE_CHARS],
            home_contact=(home_contact or None) and home_contact[:HOME_CONTACT_CHARS],
            reminder_sent=reminder_sent,
        )
        self.session.add(row)
        await self.session.flush()
        self.session.add(TripLeg(trip_id=row.id, user_id=user_id, position=0, country=country,
                                 starts_on=starts_on, ends_on=ends_on,
                                 reminder_sent=reminder_sent))  # the journey's first leg
        await self.session.flush()
        return _trip(row)

    async def get(self, trip_id: int, user_id: int) -> TripDTO | None:
        row = await self.session.get(Trip, trip_id)
        return _trip(row) if row and row.user_id == user_id else None

    async def for_user(self, user_id: int) -> list[TripDTO]:
        rows = await self.session.scalars(
            select(Trip).where(Trip.user_id == user_id).order_by(Trip.starts_on, Trip.id)
        )
        return [_trip(r) for r in rows]

    async def overlapping(
        self, user_id: int, starts_on: date, ends_on: date, exclude: int | None = None
    ) -> list[TripDTO]:
        query = select(Trip).where(
            Trip.user_id == user_id, Trip.starts_on <= ends_on, Trip.ends_on >= starts_on
        )
        if exclude is not None:
            query = query.where(Trip.id != exclude)
        return [_trip(r) for r in await self.session.scalars(query)]

    async def change_dates(
        self, trip_id: int, user_id: int, starts_on: date, ends_on: date, reminder_sent: bool
    ) -> bool:
        result = await self.session.execute(
            update(Trip).where(Trip.id == trip_id, Trip.user_id == user_id).values(
                starts_on=starts_on, ends_on=ends_on, reminder_sent=reminder_sent)
        )
        await self.session.execute(
            update(TripLeg).where(TripLeg.trip_id == trip_id, TripLeg.user_id == user_id,
                                  TripLeg.position == 0)
            .values(starts_on=starts_on, ends_on=ends_on, reminder_sent=reminder_sent))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def cancel(self, trip_id: int, user_id: int) -> bool:
        await self._drop_journeys(select(Trip.id).where(Trip.id == trip_id,
                                                        Trip.user_id == user_id))
        result = await self.session.execute(
            delete(Trip).where(Trip.id == trip_id, Trip.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due_reminders(self, last_start: date, first_start: date,
                            limit: int = 200) -> list[int]:
        """Ids of trips starting between the two dates whose reminder is not yet sent."""
        rows = await self.session.scalars(
            select(Trip.id).where(
                Trip.reminder_sent.is_(False), Trip.starts_on <= last_start,
                Trip.starts_on >= first_start,
            ).order_by(Trip.id).limit(limit)
        )
        return list(rows)

    async def claim_reminder(self, trip_id: int) -> TripDTO | None:
        """Mark the reminder sent; only the one transaction that flips the flag gets the trip.

        On PostgreSQL a concurrent claimer waits on the row lock and then sees the flag set.
        """
        result = await self.session.execute(
            update(Trip).where(Trip.id == trip_id, Trip.reminder_sent.is_(False))
            .values(reminder_sent=True)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = await self.session.get(Trip, trip_id, populate_existing=True)
        return _trip(row) if row else None

    async def purge_ended_before(self, day: date) -> int:
        """Journeys whose last leg ended before ``day``, with their legs and companions."""
        later_leg = select(TripLeg.id).where(TripLeg.trip_id == Trip.id, TripLeg.ends_on >= day)
        ended = select(Trip.id).where(Trip.ends_on < day, ~later_leg.exists())
        ids = list(await self.session.scalars(ended))
        if not ids:
            return 0
        await self._drop_journeys(select(Trip.id).where(Trip.id.in_(ids)))
        result = await self.session.execute(delete(Trip).where(Trip.id.in_(ids)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_for_user(self, user_id: int) -> int:
        await self._drop_journeys(select(Trip.id).where(Trip.user_id == user_id))
        result = await self.session.execute(delete(Trip).where(Trip.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _drop_journeys(self, trips: Any) -> None:
        """A trip's legs and companions go before it (whatever the backend's foreign keys)."""
        await self.session.execute(delete(TripLeg).where(TripLeg.trip_id.in_(trips)))
        await self.session.execute(delete(TripCompanion).where(TripCompanion.trip_id.in_(trips)))


class FollowRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def follow(self, user_id: int, country: str, lang: str) -> bool:
        """True when the person did not follow the country before."""
        row = await self.session.get(CountryFollow, (user_id, country))
        if row is not None:
            row.lang = lang
            return False
        self.session.add(CountryFollow(user_id=user_id, country=country, lang=lang))
        await self.session.flush()
        return True

    async def unfollow(self, user_id: int, country: str) -> bool:
        result = await self.session.execute(delete(CountryFollow).where(
            CountryFollow.user_id == user_id, CountryFollow.country == country))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def countries(self, user_id: int) -> list[str]:
        rows = await self.session.scalars(
            select(CountryFollow.country).where(CountryFollow.user_id == user_id)
            .order_by(CountryFollow.created_at, CountryFollow.country)
        )
        return list(rows)

    async def delete_for_user(self, user_id: int) -> int:
        result = await self.session.execute(
            delete(CountryFollow).where(CountryFollow.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class AudienceRepo:
    """Who an alert for a country reaches, with the language each should get it in."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def people(self, country: str, today: date) -> dict[int, str]:
        """Followers and travellers in the country today: user id → language.

        The language the person reads (chosen, else Telegram's) wins over the one stored
        with the follow or trip.
        """
        chosen = select(READS).where(User.id == CountryFollow.user_id).scalar_subquery()
        follows = await self.session.execute(
            select(CountryFollow.user_id, CountryFollow.lang, chosen)
            .where(CountryFollow.country == country)
        )
        out = {uid: (pick or lang) for uid, lang, pick in follows}
        chosen_t = select(READS).where(User.id == Trip.user_id).scalar_subquery()
        trips = await self.session.execute(
            select(Trip.user_id, Trip.lang, chosen_t).where(
                Trip.country == country, Trip.starts_on <= today, Trip.ends_on >= today)
        )
        for uid, lang, pick in trips:
            out.setdefault(uid, pick or lang)
        legs = await self.session.execute(  # further legs of a journey (leg 0 is the trip's)
            select(Trip.user_id, Trip.lang, chosen_t).join(TripLeg, TripLeg.trip_id == Trip.id)
            .where(TripLeg.position > 0, TripLeg.country == country,
                   TripLeg.starts_on <= today, TripLeg.ends_on >= today))
        for uid, lang, pick in legs:
            out.setdefault(uid, pick or lang)
        return out

    async def groups(self, country: str) -> list[GroupDTO]:
        rows = await self.session.scalars(
            select(ChatRow).where(ChatRow.active.is_(True), ChatRow.kind != "channel")
        )
        return [g for g in map(_group, rows) if country in g.countries]


class GroupRepo:
    """The travellers' side of a group's row in ``chats``: languages, alert countries, state."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int) -> GroupDTO | None:
        row = await self.session.get(ChatRow, chat_id)
        return _group(row) if row else None

    async def joined(self, chat_id: int, kind: str, title: str | None, lang: str,
                     added_by: int | None) -> GroupDTO:
        row = await self.session.get(ChatRow, chat_id)
        if row is None:
            row = ChatRow(chat_id=chat_id, kind=kind, title=title, languages=lang,
                          news=False, countries={"iso": []}, added_by=added_by)
            self.session.add(row)
        row.kind, row.title, row.active, row.inactive_reason = kind, title, True, None
        await self.session.flush()
        return _group(row)

    async def deactivate(self, chat_id: int, reason: str) -> bool:
        result = await self.session.execute(
            update(ChatRow).where(ChatRow.chat_id == chat_id)
            .values(active=False, inactive_reason=reason[:255])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def migrate(self, old_id: int, new_id: int) -> bool:
        """A group became a supergroup: its settings move to the new id."""
        old = await self.session.get(ChatRow, old_id)
        if old is None or await self.session.get(ChatRow, new_id) is not None:
            return False
        self.session.add(ChatRow(
            chat_id=new_id, kind="supergroup", title=old.title, languages=old.languages,
            news=old.news, countries=dict(old.countries or {"iso": []}), active=True,
            added_by=old.added_by,
        ))
        await self.session.delete(old)
        await self.session.flush()
        return True

    async def set_language(self, chat_id: int, lang: str) -> None:
        await self.session.execute(
            update(ChatRow).where(ChatRow.chat_id == chat_id).values(languages=lang))

    async def set_countries(self, chat_id: int, countries: list[str]) -> None:
        await self.session.execute(
            update(ChatRow).where(ChatRow.chat_id == chat_id)
            .values(countries={"iso": list(dict.fromkeys(countries))})
        )

    async def forget_adder(self, user_id: int) -> int:
        result = await self.session.execute(
            update(ChatRow).where(ChatRow.added_by == user_id).values(added_by=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
