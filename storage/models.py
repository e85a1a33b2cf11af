"""Database tables. Every datetime is timezone-aware and stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class User(Base):
    """A person who wrote to the bot: only what is needed to answer them well."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class TopicRow(Base):
    """One content topic, as validated from its file; ``digest`` detects changes."""

    __tablename__ = "topics"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    section: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CountryRow(Base):
    __tablename__ = "countries"

    iso: Mapped[str] = mapped_column(String(2), primary_key=True)
    data: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnansweredQuestion(Base):
    """A question the bot could not answer, kept for editors for a limited time."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (Index("ix_unanswered_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    lang: Mapped[str] = mapped_column(String(2))
    country: Mapped[str | None] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[str | None] = mapped_column(String(200))
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
