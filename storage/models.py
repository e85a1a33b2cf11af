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
    text,
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


# --- Cases (the status of an application a citizen can follow) --------------------------


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


# --- Appointments (consular visits booked at a mission) -----------------------------------


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


# --- Journeys (a trip's legs and travelling companions) ---------------------------------


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
