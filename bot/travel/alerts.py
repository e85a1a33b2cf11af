"""Travel alerts: composing them, who receives them, approval, and the banner on country cards.

An alert is a :class:`~storage.models.Post` with ``kind="alert"``. When it is approved its
audience is fixed: everyone following the country, everyone whose registered trip covers
today there, and the groups following it, each once per language. The list is written into
the post's ``targets["recipients"]`` as ``[chat_id, chat_kind, lang]`` rows, and the
publisher delivers it ahead of routine posts (``priority=ALERT_PRIORITY``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES, Settings
from bot.shared import audit, roles
from bot.shared.audit import Action
from bot.shared.i18n import reader_language
from bot.shared.render import flag
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_datetime, use_language
from bot.shared.translation import gettext as _
from bot.travel.trips import local_today
from storage.models.base import utcnow
from storage.publishing.posts import AlertDTO, PostRepo
from storage.publishing.runs import PublishingRepo
from storage.travel.travellers import AudienceRepo, FollowRepo

if TYPE_CHECKING:  # the content store is passed in; importing it would be a circle
    from bot.answers.store import ContentStore

log = logging.getLogger(__name__)

ALERT_PRIORITY = 10
MAX_ALERT_CHARS = 3000
MAX_EXPIRY = timedelta(days=90)
EXPIRY_CHOICES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7),
                  "30d": timedelta(days=30)}


class Severity(StrEnum):
    INFORMATION = "information"
    CAUTION = "caution"
    AVOID_TRAVEL = "avoid_travel"
    LEAVE_NOW = "leave_now"


ICONS = {Severity.INFORMATION: "ℹ️", Severity.CAUTION: "⚠️", Severity.AVOID_TRAVEL: "⛔",
         Severity.LEAVE_NOW: "🆘"}


def severity_label(severity: str) -> str:
    return {
        Severity.INFORMATION: _("Information"),
        Severity.CAUTION: _("Caution"),
        Severity.AVOID_TRAVEL: _("Avoid travel"),
        Severity.LEAVE_NOW: _("Leave now"),
    }[Severity(severity)]


class Publisher(Protocol):
    """The publishing backend as alerts use it (bot/publishing/publisher.py)."""

    async def enqueue(self, post_id: int, priority: int = 0) -> Any: ...


def header(store: ContentStore, iso: str, severity: str, lang: str) -> str:
    """The first line of an alert, in the current locale."""
    return _("{icon} <b>Travel alert: {country}</b> · {severity}").format(
        icon=ICONS[Severity(severity)],
        country=f"{flag(iso)} {quote(store.country_name(iso, lang))}",
        severity=severity_label(severity))


def compose(store: ContentStore, iso: str, severity: str, texts: dict[str, str],
            expires_at: datetime, tz: ZoneInfo) -> dict[str, str]:
    """The whole message per language: header, the editor's text (escaped), validity.

    A language without its own text gets another's (see :func:`fill_missing`).
    """
    out = {}
    filled = fill_missing(texts)
    for lang in LANGUAGES:
        body = filled.get(lang)
        if not body:
            continue
        with use_language(lang):
            until = _("Valid until {moment}.").format(moment=fmt_datetime(expires_at, lang, tz))
            out[lang] = f"{header(store, iso, severity, lang)}\n\n{quote(body)}\n\n<i>{until}</i>"
    return out


def fill_missing(texts: dict[str, str]) -> dict[str, str]:
    """A person whose language has no text gets the alert in another: safety comes first.

    Russian is the common fallback for Kazakh readers, English for everyone else.
    """
    order = {"kk": ("kk", "ru", "en"), "ru": ("ru", "kk", "en"), "en": ("en", "ru", "kk")}
    out = {}
    for lang in LANGUAGES:
        source = next((s for s in order[lang] if texts.get(s)), None)
        if source:
            out[lang] = texts[source]
    return out


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    kind: str
    lang: str


async def audience(session: AsyncSession, iso: str, today: Any) -> list[Recipient]:
    """Everyone the alert must reach, each once per language; phone numbers never read."""
    repo = AudienceRepo(session)
    people = await repo.people(iso, today)
    out = [Recipient(uid, "private", lang if lang in LANGUAGES else "kk")
           for uid, lang in sorted(people.items())]
    for group in await repo.groups(iso):
        for lang in group.languages or ("kk",):
            out.append(Recipient(group.chat_id, group.kind, lang))
    return out


def recipients(targets: dict[str, Any]) -> list[Recipient]:
    """The fixed audience stored on an approved alert."""
    return [Recipient(int(c), str(k), str(lang)) for c, k, lang in targets.get("recipients", [])]


def expiry(choice: str, now: datetime | None = None) -> datetime:
    """When an alert issued now with the expiry ``choice`` (a key of EXPIRY_CHOICES) ends."""
    return (now or utcnow()) + EXPIRY_CHOICES[choice]


def validate(store: ContentStore, iso: str, severity: str, texts: dict[str, str],
             expires_at: datetime, now: datetime | None = None) -> str | None:
    """A reason (translated) the alert cannot be issued, or None."""
    now = now or utcnow()
    if iso not in store.countries:
        return _("I do not know that country.")
    if severity not in Severity.__members__.values():
        return _("Unknown severity.")
    if not any(texts.get(lang) for lang in LANGUAGES):
        return _("The alert needs a text in at least one language.")
    if any(len(t) > MAX_ALERT_CHARS for t in texts.values()):
        return _("An alert text may be at most {limit} characters.").format(limit=MAX_ALERT_CHARS)
    if expires_at <= now:
        return _("The expiry must be in the future.")
    if expires_at - now > MAX_EXPIRY:
        return _("An alert may stay active for at most 90 days.")
    return None


def needs_approval(role: str | None, severity: str, approval_required: bool) -> bool:
    """An editor's alert waits for an administrator; an administrator's own alert (of any
    severity) is approved at once and audited as self-approved: a second administrator may
    not exist, and a safety alert must not wait in silence."""
    return approval_required and role != "admin"


async def create(session: AsyncSession, author_id: int, iso: str, severity: str,
                 texts: dict[str, str], expires_at: datetime, pending: bool) -> AlertDTO:
    """Alerts stay ``pending`` until the publisher takes them; an alert that needs no
    approval is approved by its author at once."""
    alert = await PostRepo(session).create_alert(author_id, iso, severity, texts, expires_at,
                                            "pending", ALERT_PRIORITY)
    if not pending:
        await PostRepo(session).approve_alert(alert.id, author_id, utcnow())
        await audit.record(session, author_id, Action.ALERT_APPROVED, audit.post_target(alert.id),
                           self_approved=True, severity=severity)
    return alert


async def fix_audience(session: AsyncSession, alert: AlertDTO, today: Any) -> list[Recipient]:
    """Freeze the audience on the alert (called in the approving transaction)."""
    found = await audience(session, alert.country, today)
    await PostRepo(session).set_targets(
        alert.id, {"alert": True, "recipients": [[r.chat_id, r.kind, r.lang] for r in found]})
    return found


async def approve(session: AsyncSession, post_id: int, approver: int, now: datetime,
                  today: Any) -> tuple[AlertDTO, list[Recipient]] | None:
    """Approved by one administrator; a second press finds nothing to approve."""
    repo = PostRepo(session)
    if not await repo.approve_alert(post_id, approver, now):
        return None
    await audit.record(session, approver, Action.ALERT_APPROVED, audit.post_target(post_id))
    alert = await repo.alert(post_id)
    if alert is None:
        return None
    return alert, await fix_audience(session, alert, today)


async def reject(session: AsyncSession, post_id: int, reason: str | None = None) -> bool:
    return await PostRepo(session).reject_alert(post_id, reason)


async def alert_lines(session: AsyncSession, iso: str, lang: str, now: datetime) -> list[str]:
    """Active alerts for a trip reminder (current locale)."""
    active = await PostRepo(session).active_alerts(iso, now)
    return [f"{ICONS[Severity(a.severity)]} <b>{severity_label(a.severity)}</b>" for a in active]


# --- in an update (the unit of work's session: these flush, the middleware commits) -------


async def followed(session: AsyncSession, user_id: int) -> list[str]:
    """The countries whose alerts the person follows."""
    return await FollowRepo(session).countries(user_id)


async def follow(session: AsyncSession, user_id: int, iso: str, lang: str) -> bool:
    """True: newly followed; False: followed already."""
    return await FollowRepo(session).follow(user_id, iso, lang)


async def unfollow(session: AsyncSession, user_id: int, iso: str) -> tuple[bool, list[str]]:
    """(whether it was followed, the countries still followed)."""
    repo = FollowRepo(session)
    removed = await repo.unfollow(user_id, iso)
    return removed, await repo.countries(user_id)


async def delivery_counts(session: AsyncSession, post_id: int) -> dict[str, int]:
    return await PublishingRepo(session).post_counts(post_id)


@dataclass(frozen=True)
class Draft:
    """What an editor entered: the texts by language (empty ones dropped) and the expiry."""

    country: str
    severity: str
    texts: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class Submitted:
    alert: AlertDTO
    pending: bool  # True: waits for an administrator (``approvers`` are to be asked)
    recipients: list[Recipient]  # the fixed audience of an alert approved at once
    approvers: list[tuple[int, str]]  # (administrator, the language they read)


async def submit(session: AsyncSession, store: ContentStore, settings: Settings, author: int,
                 role: str | None, draft: Draft, now: datetime | None = None) -> Submitted:
    """Create the alert: approved at once (audience fixed) or pending with its approvers.

    The caller lets the unit of work commit before the publisher or an administrator may
    see it (:meth:`bot.shared.middlewares.UnitOfWork.release`).
    """
    composed = compose(store, draft.country, draft.severity, draft.texts, draft.expires_at,
                       settings.tz)
    pending = needs_approval(role, draft.severity, settings.posts_need_approval)
    alert = await create(session, author, draft.country, draft.severity, composed,
                         draft.expires_at, pending)
    if not pending:
        found = await fix_audience(session, alert, local_today(now or utcnow(), settings.tz))
        return Submitted(alert, False, found, [])
    approvers = [(admin, await reader_language(session, admin, settings.default_language))
                 for admin in await roles.admins(session, settings) if admin != author]
    return Submitted(alert, True, [], approvers)


class Outcome(StrEnum):
    DECIDED = "decided"  # decided before this press
    RACED = "raced"  # another administrator approved it just now
    REJECTED = "rejected"
    APPROVED = "approved"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    author: int = 0
    author_lang: str = ""
    recipients: tuple[Recipient, ...] = ()


async def decide(session: AsyncSession, settings: Settings, post_id: int, approver: int,
                 approved: bool, now: datetime | None = None) -> Decision:
    """An administrator's Approve or Reject; only the first press of any decides."""
    now = now or utcnow()
    alert = await PostRepo(session).alert(post_id)
    if alert is None or alert.status != "pending" or alert.approved_by is not None:
        return Decision(Outcome.DECIDED)
    lang = await reader_language(session, alert.author_id, settings.default_language)
    if not approved:
        await reject(session, post_id)
        return Decision(Outcome.REJECTED, alert.author_id, lang)
    done = await approve(session, post_id, approver, now, local_today(now, settings.tz))
    if done is None:
        return Decision(Outcome.RACED)
    return Decision(Outcome.APPROVED, alert.author_id, lang, tuple(done[1]))
