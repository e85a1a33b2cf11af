"""The question log and the votes under answers."""

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


class QuestionLog(Base):
    """Every free-text question, for statistics; text and asker are dropped at retention."""

    __tablename__ = "question_log"
    __table_args__ = (Index("ix_question_log_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    lang: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))  # answers.Kind
    topic: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """👍 or 👎 on an answer, with what was missing."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("question_id", name="uq_feedback_question"),
        Index("ix_feedback_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_log.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    lang: Mapped[str] = mapped_column(String(2))
    topic: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    helpful: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(16))  # wrong_topic | outdated | ...
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
