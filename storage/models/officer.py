"""Requests to a consular officer and the messages copied for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class OfficerRequest(Base):
    """A citizen's case for a consular officer: one forum topic in the operators' group."""

    __tablename__ = "officer_requests"
    __table_args__ = (
        Index("ix_officer_requests_user_status", "user_id", "status"),
        Index("ix_officer_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    lang: Mapped[str] = mapped_column(String(2))
    country: Mapped[str | None] = mapped_column(String(2))
    topic: Mapped[str | None] = mapped_column(String(64))  # the content topic it came from
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_log.id", ondelete="SET NULL"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | closed
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # operators' group
    thread_id: Mapped[int | None] = mapped_column(Integer)
    header_message_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_reply_at: Mapped[datetime | None]
    sla_flagged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)


class RequestMessage(Base):
    """Which message went where: ids and kind only, never the content itself."""

    __tablename__ = "request_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("officer_requests.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" (citizen) | "out" (officer)
    kind: Mapped[str] = mapped_column(String(12))  # text | photo | location | document | answer
    citizen_message_id: Mapped[int | None] = mapped_column(Integer)
    group_message_id: Mapped[int | None] = mapped_column(Integer)
    officer_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
