"""The audit log: who did, or was refused, what and when — in one vocabulary.

Every action is an :class:`Action` (``feature.event``), the same name wherever the event
happens (a handler, a service or the publisher). A refused attempt at something the person
may not do is recorded as what was attempted: :func:`attempted_command` or
:func:`attempted_button`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NewType

from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import AuditRepo

ACTION_CHARS = 48  # the column's width


class Action(StrEnum):
    ALERT_APPROVED = "alert.approved"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_MOVED = "appointment.moved"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_NO_SHOW = "appointment.no_show"
    APPOINTMENT_HOURS = "appointment.hours"
    APPOINTMENT_DAY_OPEN = "appointment.day_open"
    APPOINTMENT_DAY_CLOSED = "appointment.day_closed"
    APPOINTMENT_DAY_RESET = "appointment.day_reset"
    APPOINTMENT_DESK = "appointment.desk"
    CASE_CREATED = "case.created"
    CASE_STATUS = "case.status"
    CASE_FOLLOW = "case.follow"
    CASE_UNFOLLOW = "case.unfollow"
    CASE_LOOKUP_REFUSED = "case.lookup_refused"
    CASE_DESK = "case.desk"
    CHANNEL_ADD = "channel.add"
    CHANNEL_REMOVE = "channel.remove"
    EDITOR_ADD = "editor.add"
    EDITOR_REMOVE = "editor.remove"
    EXAMPLE_TAUGHT = "example.taught"
    GROUP_SUBSCRIBE = "group.subscribe"
    GROUP_UNSUBSCRIBE = "group.unsubscribe"
    POST_CREATED = "post.created"
    POST_SUBMITTED = "post.submitted"
    POST_APPROVE = "post.approve"
    POST_APPROVED = "post.approved"
    POST_REJECT = "post.reject"
    POST_REJECTED = "post.rejected"
    POST_SCHEDULED = "post.scheduled"
    POST_RESCHEDULED = "post.rescheduled"
    POST_EDITED = "post.edited"
    POST_EDITED_PUBLISHED = "post.edited_published"
    POST_CANCELLED = "post.cancelled"
    POST_PUBLISHED = "post.published"
    POST_SENT = "post.sent"
    POST_MISSED = "post.missed"
    REQUEST_NEW = "request.new"
    REQUEST_TALK = "request.talk"
    REQUEST_LEAVE = "request.leave"
    REQUEST_CLOSE = "request.close"
    REQUEST_RATE = "request.rate"
    REQUEST_REOPEN = "request.reopen"
    REQUEST_CC = "request.cc"
    REQUEST_ANSWER = "request.answer"
    REQUEST_REPLY = "request.reply"
    STATS = "stats"


Attempt = NewType("Attempt", str)


def attempted_command(name: str | None) -> Attempt:
    """A refused command (``command:/newpost``) or, without one, a message in a dialogue."""
    return Attempt(f"command:/{name}" if name else "dialogue:message")


def attempted_button(data: str | None) -> Attempt:
    """A refused button, by its data (cut to the column)."""
    return Attempt(f"button:{data or ''}"[:ACTION_CHARS])


async def record(session: AsyncSession, actor_id: int | None, action: Action | Attempt,
                 target: str | int | None = None, *, allowed: bool = True,
                 details: dict[str, Any] | None = None, **more: Any) -> None:
    """One row; ``target`` is what was acted on (``post:12``, ``user:42``, ``chat:-100…``)."""
    await AuditRepo(session).add(
        actor_id, action, None if target is None else str(target), allowed=allowed,
        details={**(details or {}), **more} or None,
    )


def post_target(post_id: int) -> str:
    return f"post:{post_id}"
