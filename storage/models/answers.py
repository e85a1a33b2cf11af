"""The answers' tables: the content store, unanswered questions, taught examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


class ContentDocumentRow(Base):
    """A content file that is neither a topic nor a country (``out-of-scope.yaml``: the
    examples of what the bot does not answer), as validated; keyed by its file stem."""

    __tablename__ = "content_documents"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaughtExample(Base):
    """A question an editor filed under a topic (or as out of scope) with /unanswered: the
    topic model learns from it. Content the editor made, not the asker's: it names nobody
    (``source_question_id`` points at the question log row it came from, which loses its
    text and asker at retention or /forget_me; the link is cut at /forget_me)."""

    __tablename__ = "taught_examples"
    __table_args__ = (
        UniqueConstraint("source_question_id", name="uq_taught_source"),
        Index("ix_taught_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    topic: Mapped[str | None] = mapped_column(String(64))  # None: out of scope
    taught_by: Mapped[int | None] = mapped_column(BigInteger)  # None: from content import
    source_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_log.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
