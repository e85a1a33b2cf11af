"""Queries for the dialogue: officer requests, feedback, the question log, once-only claims.

Like every repository here, these never commit: the unit of work (or the job) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import (
    Base,
    Feedback,
    JobClaim,
    OfficerRequest,
    QuestionLog,
    RequestMessage,
    Role,
    User,
    utcnow,
)
from storage.users import READS

STAFF_ROLES = ("admin", "editor")


@dataclass(frozen=True)
class RequestDTO:
    id: int
    user_id: int | None
    lang: str
    country: str | None
    topic: str | None
    urgent: bool
    status: str
    chat_id: int | None
    thread_id: int | None
    header_message_id: int | None
    created_at: datetime
    first_reply_at: datetime | None
    closed_at: datetime | None
    rating: int | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def _request(r: OfficerRequest) -> RequestDTO:
    return RequestDTO(
        r.id, r.user_id, r.lang, r.country, r.topic, r.urgent, r.status, r.chat_id,
        r.thread_id, r.header_message_id, r.created_at, r.first_reply_at, r.closed_at, r.rating,
    )


@dataclass(frozen=True)
class GroupCopies:
    """One request's topic in the operators' group and the bot's messages in it."""

    request_id: int
    chat_id: int
    thread_id: int
    message_ids: tuple[int, ...]


@dataclass(frozen=True)
class QuestionDTO:
    id: int
    user_id: int | None
    lang: str
    kind: str
    topic: str | None
    country: str | None
    text: str | None


class DialogueRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- question log --------------------------------------------------------------

    async def log_question(
        self, user_id: int | None, lang: str, kind: str, topic: str | None,
        country: str | None, text: str,
    ) -> int:
        row = QuestionLog(user_id=user_id, lang=lang, kind=kind, topic=topic,
                          country=country, text=text)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def question(self, question_id: int) -> QuestionDTO | None:
        r = await self.session.get(QuestionLog, question_id)
        if r is None:
            return None
        return QuestionDTO(r.id, r.user_id, r.lang, r.kind, r.topic, r.country, r.text)

    # --- requests ------------------------------------------------------------------

    async def open_requests(self, user_id: int) -> list[RequestDTO]:
        rows = await self.session.scalars(
            select(OfficerRequest)
            .where(OfficerRequest.user_id == user_id, OfficerRequest.status == "open")
            .order_by(OfficerRequest.id)
        )
        return [_request(r) for r in rows]

    async def create_request(
        self, user_id: int, lang: str, country: str | None, topic: str | None,
        question_id: int | None, urgent: bool, chat_id: int, now: datetime | None = None,
    ) -> RequestDTO:
        row = OfficerRequest(
            user_id=user_id, lang=lang, country=country, topic=topic, question_id=question_id,
            urgent=urgent, status="open", chat_id=chat_id, created_at=now or utcnow(),
        )
        self.session.add(row)
        await self.session.flush()
        return _request(row)

    async def attach_topic(self, request_id: int, thread_id: int, header_id: int | None) -> None:
        await self.session.execute(
            update(OfficerRequest).where(OfficerRequest.id == request_id)
            .values(thread_id=thread_id, header_message_id=header_id)
        )

    async def get_request(self, request_id: int) -> RequestDTO | None:
        row = await self.session.get(OfficerRequest, request_id)
        return _request(row) if row else None

    async def by_thread(self, chat_id: int, thread_id: int) -> RequestDTO | None:
        row = await self.session.scalar(
            select(OfficerRequest).where(
                OfficerRequest.chat_id == chat_id, OfficerRequest.thread_id == thread_id)
        )
        return _request(row) if row else None

    async def add_message(
        self, request_id: int, direction: str, kind: str, citizen_message_id: int | None,
        group_message_id: int | None, officer_id: int | None = None,
        now: datetime | None = None,
    ) -> None:
        self.session.add(RequestMessage(
            request_id=request_id, direction=direction, kind=kind,
            citizen_message_id=citizen_message_id, group_message_id=group_message_id,
            officer_id=officer_id, created_at=now or utcnow(),
        ))
        if direction == "out":
            await self.session.execute(
                update(OfficerRequest)
                .where(OfficerRequest.id == request_id, OfficerRequest.first_reply_at.is_(None))
                .values(first_reply_at=now or utcnow())
            )
        await self.session.flush()

    async def close(self, request_id: int, now: datetime | None = None) -> bool:
        """True if this call closed it (a second press, or a second process, gets False)."""
        result = await self.session.execute(
            update(OfficerRequest)
            .where(OfficerRequest.id == request_id, OfficerRequest.status == "open")
            .values(status="closed", closed_at=now or utcnow())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reopen(self, request_id: int, now: datetime | None = None) -> bool:
        result = await self.session.execute(
            update(OfficerRequest)
            .where(OfficerRequest.id == request_id, OfficerRequest.status == "closed")
            .values(status="open", reopened_at=now or utcnow(), closed_at=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def rate(self, request_id: int, rating: int) -> None:
        await self.session.execute(
            update(OfficerRequest).where(OfficerRequest.id == request_id).values(rating=rating)
        )

    async def overdue(self, cutoff: datetime) -> list[RequestDTO]:
        rows = await self.session.scalars(
            select(OfficerRequest).where(
                OfficerRequest.status == "open", OfficerRequest.first_reply_at.is_(None),
                OfficerRequest.sla_flagged_at.is_(None), OfficerRequest.created_at < cutoff,
                OfficerRequest.thread_id.is_not(None),
            ).order_by(OfficerRequest.id)
        )
        return [_request(r) for r in rows]

    async def claim_sla_flag(self, request_id: int, now: datetime) -> bool:
        """Set the SLA flag unless it is set: exactly one process wins the update."""
        result = await self.session.execute(
            update(OfficerRequest)
            .where(OfficerRequest.id == request_id, OfficerRequest.sla_flagged_at.is_(None))
            .values(sla_flagged_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # --- feedback ------------------------------------------------------------------

    async def vote(self, question: QuestionDTO, helpful: bool) -> int | None:
        """One vote per answer; a second vote on the same answer returns None."""
        row = Feedback(
            question_id=question.id, user_id=question.user_id, lang=question.lang,
            topic=question.topic, country=question.country, helpful=helpful,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row.id

    async def feedback_for(self, question_id: int) -> Feedback | None:
        return await self.session.scalar(
            select(Feedback).where(Feedback.question_id == question_id))

    async def set_reason(self, feedback_id: int, reason: str) -> None:
        await self.session.execute(
            update(Feedback).where(Feedback.id == feedback_id).values(reason=reason))

    async def set_comment(self, feedback_id: int, comment: str) -> None:
        await self.session.execute(
            update(Feedback).where(Feedback.id == feedback_id).values(comment=comment))

    # --- people and claims ---------------------------------------------------------

    async def is_staff(self, user_id: int) -> bool:
        role = await self.session.scalar(select(Role.role).where(Role.user_id == user_id))
        return role in STAFF_ROLES

    async def chosen_language(self, user_id: int) -> str | None:
        return await self.session.scalar(select(User.language).where(User.id == user_id))

    async def staff(self) -> list[tuple[int, str | None]]:
        """Editors and admins with the language each reads (None: nothing stored)."""
        rows = await self.session.execute(
            select(Role.user_id, READS)
            .outerjoin(User, User.id == Role.user_id)
            .where(Role.role.in_(STAFF_ROLES))
            .order_by(Role.user_id)
        )
        return [(int(uid), lang) for uid, lang in rows]

    async def claim(self, key: str, now: datetime | None = None) -> bool:
        """Insert ``key``; False if another process (or an earlier run) already has."""
        try:
            async with self.session.begin_nested():
                self.session.add(JobClaim(key=key, claimed_at=now or utcnow()))
        except IntegrityError:
            return False
        return True

    # --- privacy -------------------------------------------------------------------

    async def describe_user(self, user_id: int) -> dict[str, int]:
        async def count(model: type[Base], column: InstrumentedAttribute[int | None]) -> int:
            return int(await self.session.scalar(
                select(func.count()).select_from(model).where(column == user_id)) or 0)

        return {
            "officer_requests": await count(OfficerRequest, OfficerRequest.user_id),
            "feedback": await count(Feedback, Feedback.user_id),
            "questions": await count(QuestionLog, QuestionLog.user_id),
        }

    async def group_copies(self, user_id: int) -> list[GroupCopies]:
        """Where the person's requests live in the operators' group, with the bot's own
        messages there that carry their words: the topic header and each copy."""
        rows = list(await self.session.scalars(
            select(OfficerRequest).where(OfficerRequest.user_id == user_id,
                                         OfficerRequest.chat_id.is_not(None),
                                         OfficerRequest.thread_id.is_not(None))
            .order_by(OfficerRequest.id)))
        out = []
        for r in rows:
            if r.chat_id is None or r.thread_id is None:
                continue
            copies = await self.session.scalars(
                select(RequestMessage.group_message_id).where(
                    RequestMessage.request_id == r.id, RequestMessage.direction == "in",
                    RequestMessage.group_message_id.is_not(None))
                .order_by(RequestMessage.id))
            ids = ([r.header_message_id] if r.header_message_id else []) + [
                int(m) for m in copies if m is not None]
            out.append(GroupCopies(r.id, r.chat_id, r.thread_id, tuple(ids)))
        return out

    async def erase_requests(self, user_id: int) -> int:
        """Delete the person's requests (with their message ledger); returns how many
        requests went."""
        await self.session.execute(delete(RequestMessage).where(RequestMessage.request_id.in_(
            select(OfficerRequest.id).where(OfficerRequest.user_id == user_id))))
        result = await self.session.execute(
            delete(OfficerRequest).where(OfficerRequest.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def erase_feedback(self, user_id: int) -> int:
        result = await self.session.execute(delete(Feedback).where(Feedback.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def unlink_questions(self, user_id: int) -> int:
        """Logged questions stay counted for statistics but lose their text and asker."""
        result = await self.session.execute(
            update(QuestionLog).where(QuestionLog.user_id == user_id)
            .values(user_id=None, text=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def purge(self, request_cutoff: datetime, question_cutoff: datetime) -> int:
        """Retention: closed requests and feedback older than their limit go; old questions
        keep their counts for statistics but lose the text and the asker."""
        old_requests = select(OfficerRequest.id).where(
            OfficerRequest.status == "closed", OfficerRequest.closed_at < request_cutoff)
        removed = 0
        for stmt in (
            delete(RequestMessage).where(RequestMessage.request_id.in_(old_requests)),
            delete(OfficerRequest).where(
                OfficerRequest.status == "closed", OfficerRequest.closed_at < request_cutoff),
            delete(Feedback).where(Feedback.created_at < request_cutoff),
        ):
            removed += int((await self.session.execute(stmt)).rowcount or 0)  # type: ignore[attr-defined]
        await self.session.execute(
            update(Feedback).where(Feedback.created_at < question_cutoff,
                                   Feedback.comment.is_not(None)).values(comment=None))
        result = await self.session.execute(
            update(QuestionLog)
            .where(QuestionLog.created_at < question_cutoff, QuestionLog.text.is_not(None))
            .values(user_id=None, text=None))
        return removed + int(result.rowcount or 0)  # type: ignore[attr-defined]
