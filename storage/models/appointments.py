"""Appointments: a mission's opening hours, its exceptions, the slots and the bookings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class AppointmentTemplate(Base):
    """A weekly opening of a mission for one service: weekday, local start/end, slot length.

    Times are wall-clock times in the mission's own time zone (``Mission.time_zone``).
    """

    __tablename__ = "appointment_templates"
    __table_args__ = (
        UniqueConstraint("mission", "service", "weekday", "starts", name="uq_appt_template"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mission: Mapped[str] = mapped_column(String(40), index=True)
    service: Mapped[str] = mapped_column(String(24))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday … 6 Sunday
    starts: Mapped[str] = mapped_column(String(5))  # "09:00", local
    ends: Mapped[str] = mapped_column(String(5))
    minutes: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppointmentException(Base):
    """A mission's local date that differs from its week: ``closed`` (a holiday) or ``open``
    (an extra day served with the templates of ``weekday``)."""

    __tablename__ = "appointment_exceptions"

    mission: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(6))  # closed | open
    weekday: Mapped[int | None] = mapped_column(Integer)  # for "open": which week day's hours
    created_by: Mapped[int | None] = mapped_column(BigInteger)


class AppointmentSlot(Base):
    """One bookable time, materialised from the templates; capacity one."""

    __tablename__ = "appointment_slots"
    __table_args__ = (
        UniqueConstraint("mission", "service", "starts_at", name="uq_appt_slot"),
        Index("ix_appt_slots_mission_start", "mission", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mission: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(24))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class Appointment(Base):
    """A citizen's booking of a slot. Two partial unique indexes are the guarantee: one active
    booking per slot, one active booking per person and service."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("uq_appointments_slot_active", "slot_id", unique=True,
              sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
        Index("uq_appointments_user_service_active", "user_id", "service", unique=True,
              sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
        Index("ix_appointments_reminder", "status", "reminded_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slot_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_slots.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lang: Mapped[str] = mapped_column(String(2))
    mission: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(24))
    starts_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="active")  # active|cancelled|no_show
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
