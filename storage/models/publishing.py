"""Posts, their runs and the delivery ledger, news subscriptions and the chats the bot is in."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ChatRow(Base):
    """A group, supergroup or channel the bot is in, and what it receives."""

    __tablename__ = "chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))  # "group" | "supergroup" | "channel"
    title: Mapped[str | None] = mapped_column(String(255))
    languages: Mapped[str] = mapped_column(String(16), default="kk")  # "kk" or "kk,ru,en"
    news: Mapped[bool] = mapped_column(Boolean, default=False)
    countries: Mapped[dict[str, Any] | None]  # {"iso": [...]} alert countries (groups)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(255))
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NewsSubscription(Base):
    """A citizen who asked for the ministry's news, in their language."""

    __tablename__ = "news_subscriptions"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Post(Base):
    """A public-diplomacy post (or, with ``kind="alert"``, a travel alert)."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8), default="post")  # "post" | "alert"
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher goes first
    author_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # draft | pending | scheduled | sending | sent | failed | cancelled | missed | rejected
    status: Mapped[str] = mapped_column(String(12), default="draft")
    texts: Mapped[dict[str, Any]]  # {"kk": "<html>", "ru": ..., "en": ...}
    media: Mapped[dict[str, Any] | None]  # {"type": "photo"|"document", "file_id": ...}
    buttons: Mapped[dict[str, Any] | None]  # {"rows": [{"url": ..., "labels": {...}}]}
    targets: Mapped[dict[str, Any]]  # {"channels": bool, "groups": bool, "citizens": [langs]}
    fallbacks: Mapped[dict[str, Any] | None]  # {"ru": "skip" | "kk" | "en"} for missing texts
    send_at: Mapped[datetime | None]
    repeat: Mapped[dict[str, Any] | None]  # {"weekdays": [0], "time": "10:00"} in TIMEZONE
    country: Mapped[str | None] = mapped_column(String(2))  # alerts
    severity: Mapped[str | None] = mapped_column(String(16))  # alerts
    expires_at: Mapped[datetime | None]  # alerts
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    approved_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PostRun(Base):
    """One sending of a post; ``run_key`` is unique so no two processes start the same run."""

    __tablename__ = "post_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # sending | done | cancelled
    status: Mapped[str] = mapped_column(String(12), default="sending")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(Integer)
    totals: Mapped[dict[str, Any] | None]


class Delivery(Base):
    """The ledger: one row per run × chat × language, its state written as it changes."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "chat_id", "lang", name="uq_delivery_run_chat_lang"),
        Index("ix_deliveries_run_state", "run_id", "state"),
        Index("ix_deliveries_pending", "run_id", "id", postgresql_where=text("state = 'pending'"),
              sqlite_where=text("state = 'pending'")),
        Index("ix_deliveries_sending", "run_id", "claimed_until",
              postgresql_where=text("state = 'sending'"), sqlite_where=text("state = 'sending'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("post_runs.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_kind: Mapped[str] = mapped_column(String(16))  # private | group | supergroup | channel
    lang: Mapped[str] = mapped_column(String(2))
    # pending | sending | sent | failed | blocked | skipped
    state: Mapped[str] = mapped_column(String(10), default="pending")
    message_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # A claim's lease: past it, the row goes back to pending (its claimant is presumed dead).
    claimed_until: Mapped[datetime | None]
