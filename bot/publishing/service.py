"""Editors' posts as an update changes them: submitting a draft, approval by a second person,
rejection, cancelling, replacing a text, rescheduling, and the /posts pages.

Each function works in the update's session (it flushes, never commits) and records its
audit row there, with the person who acted. What the publisher must do once the decision
is committed (it schedules in a session of its own) the handler hands to the unit of work's
after-commit hook; the publisher then records nothing more for the same event.

With POSTS_NEED_APPROVAL an editor's post waits for another editor or an administrator;
an administrator's own post is approved at once and audited as self-approved (a lone
administrator can publish).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.publishing.posts import When, text_errors, validate
from bot.shared import audit
from bot.shared.audit import Action
from storage.publishing.posts import PostDTO as PostDTO  # re-exported for the handlers
from storage.publishing.posts import PostRepo
from storage.publishing.subscriptions import SubscriptionRepo
from storage.roles import ADMIN, RoleRepo
from storage.roles import RoleDTO as RoleDTO  # re-exported for the handlers

PAGE_SIZE = 5
TABS: dict[str, tuple[str, ...]] = {
    "upcoming": ("draft", "pending", "scheduled", "sending"),
    "sent": ("sent",),
    "failed": ("failed", "missed", "rejected", "cancelled"),
}
EDITABLE = ("pending", "scheduled", "sent")
RESCHEDULABLE = ("pending", "scheduled", "missed")
CANCELLABLE = ("draft", "pending", "scheduled", "sending")
WITH_REPORT = ("sending", "sent", "failed")


def now() -> datetime:
    return datetime.now(UTC)


def needs_review(settings: Settings, role: str | None) -> bool:
    """A second person approves, unless approval is off or the author is an administrator."""
    return settings.posts_need_approval and role != ADMIN


def as_draft(post: PostDTO) -> dict[str, Any]:
    """A stored post in the shape of the dialogue's draft (for summaries and previews)."""
    return {"texts": post.texts, "media": post.media, "buttons": post.buttons,
            "targets": post.targets, "fallbacks": post.fallbacks, "send_at": post.send_at,
            "repeat": post.repeat}


def draft_fields(draft: dict[str, Any]) -> dict[str, Any]:
    """The dialogue's draft (kept as JSON between updates) with its time as a datetime."""
    return {**draft, "send_at": moment(draft.get("send_at"))}


def moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class Audiences:
    channels: int
    groups: int
    citizens: dict[str, int]


async def audiences(session: AsyncSession) -> Audiences:
    """How many channels, groups and subscribed citizens (by language) a post can reach."""
    subs = SubscriptionRepo(session)
    return Audiences(len(await subs.chats("channel")), len(await subs.chats("group")),
                     await subs.citizen_counts())


async def get(session: AsyncSession, post_id: int) -> PostDTO | None:
    return await PostRepo(session).get(post_id)


async def page(session: AsyncSession, tab: str, number: int) -> tuple[list[PostDTO], int]:
    """One page of the tab (its posts, newest first) and how many the tab holds."""
    statuses = TABS.get(tab, TABS["upcoming"])
    return await PostRepo(session).page(statuses, number * PAGE_SIZE, PAGE_SIZE)


@dataclass(frozen=True)
class Submitted:
    errors: list[str] = field(default_factory=list)
    post: PostDTO | None = None
    review: bool = False  # it waits for a second person
    self_approved: bool = False
    reviewers: list[RoleDTO] = field(default_factory=list)  # who is asked (when ``review``)


async def submit(session: AsyncSession, settings: Settings, author: int, role: str | None,
                 draft: dict[str, Any]) -> Submitted:
    """Store the finished draft: pending a second person's approval, or scheduled."""
    fields = draft_fields(draft)
    errors = validate(fields, now())
    if errors:
        return Submitted(errors)
    review = needs_review(settings, role)
    self_approved = settings.posts_need_approval and not review
    fields["status"] = "pending" if review else "scheduled"
    if self_approved:
        fields.update(approved_by=author, approved_at=now())
    post = await PostRepo(session).create(author, fields)
    target = audit.post_target(post.id)
    await audit.record(session, author, Action.POST_CREATED, target)
    if review:
        await audit.record(session, author, Action.POST_SUBMITTED, target)
        return Submitted(post=post, review=True,
                         reviewers=await RoleRepo(session).reviewers(except_user=author))
    if self_approved:
        await audit.record(session, author, Action.POST_APPROVED, target, self_approved=True)
    await audit.record(session, author, Action.POST_SCHEDULED, target)
    return Submitted(post=post, self_approved=self_approved)


@dataclass(frozen=True)
class Reviewed:
    """A post a reviewer may decide on, or why not (``refusal``: a message to show)."""

    post: PostDTO | None = None
    refusal: str | None = None
    errors: list[str] = field(default_factory=list)  # approval: what stops it from going out


def status_label(status: str) -> str:
    return {
        "draft": _("📝 draft"), "pending": _("⏳ awaiting approval"),
        "scheduled": _("🗓 scheduled"), "sending": _("📤 sending"), "sent": _("✅ sent"),
        "failed": _("❌ failed"), "cancelled": _("🚫 cancelled"), "missed": _("⌛ missed"),
        "rejected": _("↩️ rejected"),
    }.get(status, status)


async def reviewable(session: AsyncSession, post_id: int, reviewer: int,
                     action: audit.Action) -> Reviewed:
    """The pending post, unless it is gone, already decided, or the reviewer's own (a
    refused attempt recorded in the audit log)."""
    post = await PostRepo(session).get(post_id)
    if post is None:
        return Reviewed(refusal=_("This post no longer exists."))
    if post.author_id == reviewer:
        await audit.record(session, reviewer, action, audit.post_target(post_id),
                           allowed=False, reason="own post")
        return Reviewed(refusal=_("You cannot approve or reject your own post: another "
                                  "editor or an administrator must review it."))
    if post.status != "pending":
        return Reviewed(refusal=_("This post was already handled: {status}.").format(
            status=status_label(post.status)))
    return Reviewed(post)


async def approve(session: AsyncSession, post_id: int, reviewer: int) -> Reviewed:
    """The first approval of a valid pending post schedules it; a second one finds it done."""
    checked = await reviewable(session, post_id, reviewer, Action.POST_APPROVE)
    if checked.post is None:
        return checked
    errors = validate(as_draft(checked.post), now())
    if errors:
        return Reviewed(errors=errors)
    done = await PostRepo(session).set_status(
        post_id, ("pending",), "scheduled", approved_by=reviewer, approved_at=now())
    if done is None:
        return Reviewed(refusal=_("This post was already handled."))
    await audit.record(session, reviewer, Action.POST_APPROVED, audit.post_target(post_id))
    await audit.record(session, reviewer, Action.POST_SCHEDULED, audit.post_target(post_id))
    return Reviewed(done)


async def reject(session: AsyncSession, post_id: int, reviewer: int,
                 reason: str) -> Reviewed:
    """Reject a pending post with the reason its author will read."""
    post = await PostRepo(session).get(post_id)
    if post is None or post.author_id == reviewer:
        return Reviewed(refusal=_("This post can't be rejected by you."))
    done = await PostRepo(session).set_status(post_id, ("pending",), "rejected",
                                              rejection_reason=reason)
    if done is None:
        return Reviewed(refusal=_("This post was already handled."))
    await audit.record(session, reviewer, Action.POST_REJECTED, audit.post_target(post_id),
                       reason=reason)
    return Reviewed(done)


async def cancel(session: AsyncSession, post_id: int, actor: int) -> PostDTO | None:
    """Cancel a post not yet (fully) sent; None if it can't be cancelled now."""
    done = await PostRepo(session).set_status(post_id, CANCELLABLE, "cancelled")
    if done is not None:
        await audit.record(session, actor, Action.POST_CANCELLED, audit.post_target(done.id))
    return done


@dataclass(frozen=True)
class Changed:
    """A post after an edit: ``before`` its status before, ``review`` it needs approval
    again; ``refusal`` or ``errors`` when nothing was changed."""

    post: PostDTO | None = None
    before: str = ""
    review: bool = False
    refusal: str | None = None
    errors: list[str] = field(default_factory=list)
    reviewers: list[RoleDTO] = field(default_factory=list)


async def replace_text(session: AsyncSession, settings: Settings, post_id: int, editor: int,
                       role: str | None, lang: str, markup: str) -> Changed:
    """Replace one language's text; a scheduled post that needs review goes back to pending."""
    repo = PostRepo(session)
    post = await repo.get(post_id)
    if post is None or post.status not in EDITABLE:
        return Changed(refusal=_("This post can't be edited now."))
    errors = text_errors(markup, lang, with_media=bool(post.media))
    if errors:
        return Changed(errors=errors)
    review = post.status == "scheduled" and needs_review(settings, role)
    fields: dict[str, Any] = {
        "texts": {**post.texts, lang: markup},
        "fallbacks": {k: v for k, v in (post.fallbacks or {}).items() if k != lang}}
    if review:
        fields.update(status="pending", approved_by=None, approved_at=None)
    updated = await repo.update(post.id, **fields)
    assert updated is not None
    await audit.record(session, editor, Action.POST_EDITED, audit.post_target(post.id),
                       lang=lang)
    reviewers = (await RoleRepo(session).reviewers(except_user=post.author_id)
                 if review else [])
    return Changed(updated, post.status, review, reviewers=reviewers)


async def reschedule(session: AsyncSession, settings: Settings, post_id: int, editor: int,
                     role: str | None, when: When) -> Changed:
    """A new time; a missed post goes out again (after review, where one is needed)."""
    repo = PostRepo(session)
    post = await repo.get(post_id)
    if post is None or post.status not in RESCHEDULABLE:
        return Changed(refusal=_("This post can't be rescheduled now."))
    status = post.status
    if status == "missed":
        status = "pending" if needs_review(settings, role) else "scheduled"
    updated = await repo.update(post_id, send_at=when.send_at, repeat=when.repeat,
                                status=status)
    assert updated is not None
    await audit.record(session, editor, Action.POST_RESCHEDULED, audit.post_target(post_id),
                       send_at=when.send_at.isoformat() if when.send_at else None,
                       repeat=when.repeat)
    review = post.status == "missed" and status == "pending"
    reviewers = (await RoleRepo(session).reviewers(except_user=post.author_id)
                 if review else [])
    return Changed(updated, post.status, review, reviewers=reviewers)
