"""Trips with their legs and companions, and followed countries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Trip(Base):
    """A trip a citizen registered; deleted ``TRIP_RETENTION_DAYS`` after it ends.

    ``lang`` is the language the person used when registering, for reminders and alerts
    when they never chose one. ``phone`` is shown only to the person.
    """

    __tablename__ = "trips"
    __table_args__ = (
        Index("ix_trips_country_dates", "country", "starts_on", "ends_on"),
        Index("ix_trips_reminder", "reminder_sent", "starts_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lang: Mapped[str] = mapped_column(String(2))
    country: Mapped[str] = mapped_column(String(2))
    starts_on: Mapped[date]
    ends_on: Mapped[date] = mapped_column(index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    home_contact: Mapped[str | None] = mapped_column(String(200))
    reminder_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CountryFollow(Base):
    """A citizen who asked for a country's alerts without a trip."""

    __tablename__ = "country_follows"
    __table_args__ = (Index("ix_country_follows_country", "country"),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TripLeg(Base):
    """One country of a journey with its dates. ``position`` 0 is the trip row's own country
    and dates (kept equal by the trips repository); further legs may overlap it. Deleted with
    the trip."""

    __tablename__ = "trip_legs"
    __table_args__ = (
        Index("ix_trip_legs_country_dates", "country", "starts_on", "ends_on"),
        UniqueConstraint("trip_id", "position", name="uq_trip_legs_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    country: Mapped[str] = mapped_column(String(2))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reminder_sent: Mapped[bool] = mapped_column(Boolean, default=False)


class TripCompanion(Base):
    """Someone travelling with the person: a name only, no documents. Deleted with the trip."""

    __tablename__ = "trip_companions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(80))
