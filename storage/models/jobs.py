"""The jobs table (scheduled and periodic work) and once-only claims."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class JobClaim(Base):
    """A once-only job (a digest to one editor for one week): the key's insert is the claim,
    so processes sharing the database never both do it."""

    __tablename__ = "job_claims"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """Scheduled and periodic work, one row per job key (see :mod:`bot.shared.jobs`).

    A process claims a due row by setting ``owner`` and ``lease_until`` (``FOR UPDATE SKIP
    LOCKED`` on PostgreSQL) and renews the lease while the job runs; a row whose lease
    lapsed belongs to no one. ``due_at`` is ``None`` once a one-off job has given up.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "due_at"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime | None]
    every_seconds: Mapped[float | None]
    owner: Mapped[str | None] = mapped_column(String(96))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
