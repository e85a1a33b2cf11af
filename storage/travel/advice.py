"""Advice that says what changed: queued advisory-change messages and a country's past
alerts. Repositories never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.people import User
from storage.models.publishing import Post
from storage.models.travel import CountryFollow, Trip, TripLeg
from storage.users import READS

ADVISORY_KIND = "advisory"
SENT_STATUSES = ("sending", "sent")


@dataclass(frozen=True)
class PastAlertDTO:
    id: int
    severity: str
    texts: dict[str, str]
    issued_at: datetime  # approval, else creation; UTC


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class AdviceRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def people(self, country: str, today: date) -> dict[int, str]:
        """Followers of the country and travellers whose trip there has not ended: user id
        → the language they read (chosen, else the one stored with the follow or trip)."""
        chosen = select(READS).where(User.id == CountryFollow.user_id).scalar_subquery()
        follows = await self.session.execute(
            select(CountryFollow.user_id, CountryFollow.lang, chosen)
            .where(CountryFollow.country == country))
        out = {uid: (pick or lang) for uid, lang, pick in follows}
        chosen_t = select(READS).where(User.id == Trip.user_id).scalar_subquery()
        trips = await self.session.execute(
            select(Trip.user_id, Trip.lang, chosen_t)
            .where(Trip.country == country, Trip.ends_on >= today))
        for uid, lang, pick in trips:
            out.setdefault(uid, pick or lang)
        legs = await self.session.execute(
            select(Trip.user_id, Trip.lang, chosen_t).join(TripLeg, TripLeg.trip_id == Trip.id)
            .where(TripLeg.position > 0, TripLeg.country == country, TripLeg.ends_on >= today))
        for uid, lang, pick in legs:
            out.setdefault(uid, pick or lang)
        return out

    async def queue(self, country: str, texts: dict[str, str], recipients: list[list[Any]],
                    priority: int) -> int:
        """A change message waiting for the running bot (status ``scheduled``)."""
        row = Post(kind=ADVISORY_KIND, priority=priority, author_id=0, status="scheduled",
                   texts=texts, targets={"advisory": True, "recipients": recipients},
                   country=country)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def queued(self) -> list[int]:
        rows = await self.session.scalars(
            select(Post.id).where(Post.kind == ADVISORY_KIND, Post.status == "scheduled")
            .order_by(Post.id))
        return list(rows)

    async def claim(self, post_id: int) -> bool:
        """Only one process hands a queued change to its publisher."""
        result = await self.session.execute(
            update(Post).where(Post.id == post_id, Post.kind == ADVISORY_KIND,
                               Post.status == "scheduled").values(status="pending"))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def past_alerts(self, country: str, offset: int, limit: int) -> list[PastAlertDTO]:
        """Alerts that went out for the country, newest first (expired ones included)."""
        rows = await self.session.scalars(
            select(Post).where(Post.kind == "alert", Post.country == country,
                               Post.status.in_(SENT_STATUSES))
            .order_by(Post.id.desc()).offset(offset).limit(limit))
        return [PastAlertDTO(r.id, r.severity or "information", dict(r.texts or {}),
                             _utc(r.approved_at or r.created_at)) for r in rows]

    async def count_alerts(self, country: str) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(Post).where(
                Post.kind == "alert", Post.country == country,
                Post.status.in_(SENT_STATUSES))) or 0)
