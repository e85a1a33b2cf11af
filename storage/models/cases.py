"""Cases: an application's status, its steps, followers, lookups and the notice outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Case(Base):
    """An application in the consular system, as its number is known there.

    The citizen's second factor (date of birth or the document's last 4 digits, ``factor``)
    is kept only as a salted hash. ``closed_at`` is set when the status becomes final
    (issued, refused, closed); retention deletes the case ``CASES_RETENTION_DAYS`` later.
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_closed_at", "closed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    service: Mapped[str] = mapped_column(String(24))
    country: Mapped[str] = mapped_column(String(2))
    mission: Mapped[str] = mapped_column(String(40))  # the mission's id in content (de-berlin)
    factor: Mapped[str] = mapped_column(String(4))  # "dob" | "doc4"
    factor_salt: Mapped[str] = mapped_column(String(32))
    factor_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    lang: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class CaseStep(Base):
    """One dated status of a case: its history, as the citizen sees it."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(8))  # "import" | "desk"


class CaseFollower(Base):
    """A citizen who looked the case up successfully and asked for its status changes."""

    __tablename__ = "case_followers"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False,
                                         index=True)
    lang: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseLookup(Base):
    """One lookup attempt, for the enumeration guard; deleted after a short period.

    ``case_id`` is set when the number exists (a failure there counts against the case).
    """

    __tablename__ = "case_lookups"
    __table_args__ = (
        Index("ix_case_lookups_user_at", "user_id", "at"),
        Index("ix_case_lookups_case_at", "case_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseNotice(Base):
    """The outbox: a status change still to be told to one follower. The desk and
    ``bot.py cases import`` write it; the running bot claims it (``claimed_until``, a lease),
    sends it and deletes it."""

    __tablename__ = "case_notices"
    __table_args__ = (UniqueConstraint("step_id", "user_id", name="uq_case_notices_step_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("case_steps.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lang: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
