"""Queries for the officer desk: requests and their messages, the people they reach,
once-only claims. Feedback and the question log are in :mod:`storage.feedback`.

Like every repository here, these never commit: the unit of work (or the job) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.jobs import JobClaim
from storage.models.officer import OfficerRequest, RequestMessage
from storage.models.people import Role, User
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


class DialogueRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    async def statuses(self, user_id: int) -> list[tuple[int, str]]:
        """The person's requests, oldest first: (number, status)."""
        rows = await self.session.execute(
            select(OfficerRequest.id, OfficerRequest.status)
            .where(OfficerRequest.user_id == user_id).order_by(OfficerRequest.id))
        return [(int(rid), str(status)) for rid, status in rows]

    async def purge(self, cutoff: datetime) -> int:
        """Retention: closed requests (with their message ledger) older than ``cutoff`` go."""
        old_requests = select(OfficerRequest.id).where(
            OfficerRequest.status == "closed", OfficerRequest.closed_at < cutoff)
        removed = 0
        for stmt in (
            delete(RequestMessage).where(RequestMessage.request_id.in_(old_requests)),
            delete(OfficerRequest).where(
                OfficerRequest.status == "closed", OfficerRequest.closed_at < cutoff),
        ):
            removed += int((await self.session.execute(stmt)).rowcount or 0)  # type: ignore[attr-defined]
        return removed
