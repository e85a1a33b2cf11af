"""Database tables. Every datetime is timezone-aware and stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL keeps the zone; SQLite stores text without it and hands back naive values,
    which would then fail to compare with aware ones. Values are written in UTC and read
    back as aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, datetime: UTCDateTime(),
    }


class User(Base):
    """A person who wrote to the bot: only what is needed to answer them well."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str | None] = mapped_column(String(2))  # chosen with /language
    telegram_language: Mapped[str | None] = mapped_column(String(2))  # kk/ru/en from Telegram
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


# --- Publishing (editors, posts, delivery) -------------------------------------------


class Role(Base):
    """An editor or administrator. Administrators from ADMIN_IDS are written at start-up."""

    __tablename__ = "roles"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))  # "admin" | "editor"
    name: Mapped[str | None] = mapped_column(String(128))
    granted_by: Mapped[int | None] = mapped_column(BigInteger)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did (or was refused) what, when: every editor action and every change to a post."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str | None] = mapped_column(String(128))
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    details: Mapped[dict[str, Any] | None]


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


# --- Travellers (trips, followed countries) ------------------------------------------


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


# --- Dialogue (officer requests, feedback, question log) --------------------------------


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


class JobClaim(Base):
    """A once-only job (a digest to one editor for one week): the key's insert is the claim,
    so processes sharing the database never both do it."""

    __tablename__ = "job_claims"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


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
