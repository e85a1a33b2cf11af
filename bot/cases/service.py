"""Cases: the status of an application, which a citizen looks up and follows.

A case is created and updated by operators: from the desk (``/case`` in the operators'
group) or in bulk from the consular system's CSV (``python bot.py cases import FILE``).
Both write a dated step per status change and queue one notice per follower in the
outbox (``case_notices``); the running bot's :class:`CaseNotices` sends them, in each
follower's language, through the same limiter as every other message it writes first.

A citizen sees a case only with its number and its second factor (date of birth or the
last 4 digits of the document, kept as a salted hash). Failed tries are limited per person
(``CASE_TRIES_PER_HOUR``) and per case (``CASE_FAILURES_PER_DAY``); every refusal is
audited as ``case.lookup_refused``; "no such number", "wrong second factor" and "this case
is locked" get one and the same answer, so numbers cannot be enumerated.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.cards import mission_label
from bot.answers.store import ContentStore
from bot.config import Settings
from bot.privacy.registry import Context, PersonalData
from bot.shared import audit
from bot.shared.audit import Action
from bot.shared.i18n import locale, reader_language
from bot.shared.jobs import PeriodicJob
from bot.shared.render import flag
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_date
from bot.shared.translation import gettext as _
from storage.cases import CaseDTO, CaseRepo, StepDTO
from storage.models.base import utcnow

log = logging.getLogger(__name__)

STATUSES = ("received", "in_review", "documents_requested", "ready", "issued", "refused",
            "closed")
FINAL = frozenset({"issued", "refused", "closed"})
SERVICES = ("passport", "id_card", "visa", "citizenship", "registration", "documents", "other")
FACTORS = ("dob", "doc4")
NUMBER = re.compile(r"[A-Z0-9][A-Z0-9/-]{2,31}")
NOTE_CHARS = 500
HASH_ITERATIONS = 2_000  # see benchmarks/README.md "Cases import"
NOTICE_LEASE = timedelta(minutes=5)
NOTICE_EVERY = timedelta(seconds=30)
FOLLOW_WINDOW = timedelta(days=1)  # a Follow button works this long after the lookup


def status_label(status: str) -> str:
    """In the current language; an unknown value (never stored) is shown as it is."""
    return {
        "received": _("Received"),
        "in_review": _("In review"),
        "documents_requested": _("Documents requested"),
        "ready": _("Ready for collection"),
        "issued": _("Issued"),
        "refused": _("Refused"),
        "closed": _("Closed"),
    }.get(status, status)


def service_label(service: str) -> str:
    return {
        "passport": _("Passport"),
        "id_card": _("Identity card"),
        "visa": _("Visa"),
        "citizenship": _("Citizenship"),
        "registration": _("Consular registration"),
        "documents": _("Documents (legalisation, certificates)"),
        "other": _("Other consular service"),
    }.get(service, service)


def normalize_number(text: str) -> str | None:
    number = re.sub(r"\s+", "", text).upper()
    return number if NUMBER.fullmatch(number) else None


def parse_date(text: str) -> date | None:
    """``1990-05-17``, ``17.05.1990``, ``17/05/1990`` or ``17-05-1990``."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    parts = (m.group(1), m.group(2), m.group(3)) if m else None
    if parts is None:
        m = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})", text)
        parts = (m.group(3), m.group(2), m.group(1)) if m else None
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def normalize_factor(kind: str, text: str) -> str | None:
    """The canonical form of a second factor of ``kind``, or None if it is not one."""
    text = text.strip()
    if kind == "doc4":
        return text if re.fullmatch(r"\d{4}", text) else None
    if kind == "dob":
        day = parse_date(text)
        return day.isoformat() if day and day.year >= 1900 else None
    return None


def read_factor(text: str) -> tuple[str, str] | None:
    """What a citizen typed: 4 digits are the document's, a date is the date of birth."""
    for kind in FACTORS:
        value = normalize_factor(kind, text)
        if value is not None:
            return kind, value
    return None


_DUMMY_SALT = secrets.token_hex(16)


def hash_factor(value: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", value.encode(), bytes.fromhex(salt),
                               HASH_ITERATIONS).hex()


def new_hash(value: str) -> tuple[str, str]:
    salt = secrets.token_hex(16)
    return salt, hash_factor(value, salt)


def factor_matches(case: CaseDTO, kind: str, value: str) -> bool:
    return kind == case.factor and hmac.compare_digest(
        hash_factor(value, case.factor_salt), case.factor_hash)


def parse_mission(store: ContentStore, text: str) -> tuple[str, str] | None:
    """(country, mission id) for a mission's id in content (``de-frankfurt``), or for a
    country's code alone (``DE``: its first mission)."""
    text = text.strip()
    if re.fullmatch(r"[A-Za-z]{2}", text):
        country = store.countries.get(text.upper())
        return (country.iso, country.missions[0].id) if country and country.missions else None
    country = store.countries.get(text[:2].upper())
    if country is None or not any(m.id == text.lower() for m in country.missions):
        return None
    return country.iso, text.lower()


def mission_name(store: ContentStore, iso: str, mission_id: str, lang: str) -> str:
    country = store.countries.get(iso)
    if country is None:
        return f"{flag(iso)} {iso}"
    for mission in country.missions:
        if mission.id == mission_id:
            return f"{flag(iso)} {mission_label(mission.kind)}, {quote(mission.city.get(lang))}"
    return f"{flag(iso)} {quote(store.country_name(iso, lang))}"


def _when(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    return fmt_date(moment, lang, tz)


def case_card(store: ContentStore, case: CaseDTO, steps: list[StepDTO], lang: str,
              tz: ZoneInfo) -> str:
    """The case as its citizen sees it, in the current language."""
    lines = [_("📄 <b>Case {number}</b>").format(number=quote(case.number)),
             _("Service: {service}").format(service=service_label(case.service)),
             _("Mission: {mission}").format(
                 mission=mission_name(store, case.country, case.mission, lang)),
             _("Status: <b>{status}</b>").format(status=status_label(case.status)),
             "", _("<b>Steps</b>")]
    for step in steps:
        line = f"• {_when(step.at, lang, tz)}: {status_label(step.status)}"
        if step.note:
            line += f" — {quote(step.note)}"
        lines.append(line)
    return "\n".join(lines)


def notice_text(store: ContentStore, case: CaseDTO, step: StepDTO, lang: str,
                tz: ZoneInfo) -> str:
    lines = [_("📄 Case {number}: the status is now <b>{status}</b> ({date}).").format(
        number=quote(case.number), status=status_label(step.status),
        date=_when(step.at, lang, tz))]
    if step.note:
        lines.append(_("Note from the consulate: {note}").format(note=quote(step.note)))
    lines.append(_("/case shows the whole history."))
    return "\n".join(lines)


def desk_card(store: ContentStore, case: CaseDTO, steps: list[StepDTO], followers: int,
              lang: str, tz: ZoneInfo) -> str:
    """The case as operators see it (in the operators' language)."""
    text = case_card(store, case, steps, lang, tz)
    extra = _("Second factor: {factor}. Citizen's language: {lang}. Followers: {count}.").format(
        factor=_("date of birth") if case.factor == "dob" else _("last 4 digits of the document"),
        lang=case.lang, count=followers)
    return f"{text}\n\n{extra}"


# --- changes: the desk and the import ----------------------------------------------------


@dataclass(frozen=True)
class CaseInput:
    """One case as the consular system (or an operator) gives it."""

    number: str
    service: str
    country: str
    mission: str
    status: str
    factor: str
    secret: str  # the normalised second factor
    lang: str
    note: str | None = None
    at: datetime | None = None


@dataclass
class Change:
    case: CaseDTO
    created: bool = False
    updated: bool = False
    step: StepDTO | None = None
    notices: int = 0


def _closed_at(status: str, current: datetime | None, at: datetime) -> datetime | None:
    if status not in FINAL:
        return None
    return current or at


async def set_status(repo: CaseRepo, case: CaseDTO, status: str, note: str | None,
                     at: datetime, source: str) -> Change:
    """A new status: a dated step, and a notice queued for each follower."""
    if status == case.status:
        return Change(case)
    step = await repo.add_step(case.id, status, note, at, source)
    await repo.change(case.id, status=status, updated_at=at,
                      closed_at=_closed_at(status, case.closed_at, at))
    notices = await repo.queue_notices(step)
    return Change(await repo.get(case.id) or case, updated=True, step=step, notices=notices)


async def apply(repo: CaseRepo, item: CaseInput, existing: CaseDTO | None, source: str,
                now: datetime) -> Change:
    """Create the case, or bring it up to date: the same input twice changes nothing."""
    at = item.at or now
    if existing is None:
        salt, digest = new_hash(item.secret)
        case = await repo.create(
            number=item.number, service=item.service, country=item.country,
            mission=item.mission, factor=item.factor, salt=salt, digest=digest,
            status=item.status, lang=item.lang, closed_at=_closed_at(item.status, None, at),
            at=at)
        step = await repo.add_step(case.id, item.status, item.note, at, source)
        return Change(case, created=True, step=step)
    values: dict[str, object] = {}
    for name in ("service", "country", "mission", "lang"):
        if getattr(existing, name) != getattr(item, name):
            values[name] = getattr(item, name)
    if not factor_matches(existing, item.factor, item.secret):
        values["factor"] = item.factor
        values["factor_salt"], values["factor_hash"] = new_hash(item.secret)
    if values:
        await repo.change(existing.id, updated_at=now, **values)
        existing = await repo.get(existing.id) or existing
    change = await set_status(repo, existing, item.status, item.note, at, source)
    change.updated = change.updated or bool(values)
    return change


# --- the citizen's lookup -----------------------------------------------------------------


class Outcome(StrEnum):
    FOUND = "found"
    REFUSED = "refused"  # no such number, wrong factor, or the case is locked: one answer
    LOCKED = "locked"  # this person made too many failed tries


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    case: CaseDTO | None = None
    steps: list[StepDTO] = field(default_factory=list)
    following: bool = False


async def person_locked(session: AsyncSession, settings: Settings, user_id: int,
                        now: datetime | None = None) -> bool:
    since = (now or utcnow()) - timedelta(hours=1)
    return await CaseRepo(session).failures_by_user(user_id, since) \
        >= settings.case_tries_per_hour


async def may_look_up(session: AsyncSession, settings: Settings, user_id: int,
                      now: datetime | None = None) -> bool:
    """False (and audited) when the person is locked out: the dialogue does not start."""
    if not await person_locked(session, settings, user_id, now):
        return True
    await audit.record(session, user_id, Action.CASE_LOOKUP_REFUSED, None, allowed=False,
                       reason="person_locked")
    return False


async def lookup(session: AsyncSession, settings: Settings, user_id: int, number: str,
                 factor: tuple[str, str], now: datetime | None = None) -> Lookup:
    """A try with a number and a second factor; counted, limited and audited."""
    now = now or utcnow()
    repo = CaseRepo(session)

    async def refuse(reason: str, case: CaseDTO | None, outcome: Outcome) -> Lookup:
        if outcome is Outcome.REFUSED:
            await repo.add_lookup(user_id, case.id if case else None, False, now)
        await audit.record(session, user_id, Action.CASE_LOOKUP_REFUSED,
                           f"case:{case.id}" if case else None, allowed=False, reason=reason,
                           details=None if case else {"number": number})
        return Lookup(outcome)

    if await person_locked(session, settings, user_id, now):
        return await refuse("person_locked", None, Outcome.LOCKED)
    case = await repo.by_number(number)
    # the hash is computed in every case, in a worker thread: the event loop goes on, and
    # an unknown number takes as long to refuse as a wrong factor
    if case is None:
        await asyncio.to_thread(hash_factor, factor[1], _DUMMY_SALT)
        return await refuse("no_such_number", None, Outcome.REFUSED)
    matches = await asyncio.to_thread(factor_matches, case, *factor)
    if await repo.failures_of_case(case.id, now - timedelta(days=1)) \
            >= settings.case_failures_per_day:
        return await refuse("case_locked", case, Outcome.REFUSED)
    if not matches:
        return await refuse("wrong_factor", case, Outcome.REFUSED)
    await repo.add_lookup(user_id, case.id, True, now)
    return Lookup(Outcome.FOUND, case, await repo.steps(case.id),
                  await repo.follows(case.id, user_id))


async def set_following(session: AsyncSession, user_id: int, case_id: int, follow: bool,
                        lang: str, now: datetime | None = None) -> Lookup | None:
    """Follow or stop following; None (audited) when the person has not looked the case up
    recently with its second factor, so a forged button reaches nothing."""
    now = now or utcnow()
    repo = CaseRepo(session)
    case = await repo.get(case_id)
    allowed = case is not None and (
        await repo.looked_up(user_id, case_id, now - FOLLOW_WINDOW)
        or (not follow and await repo.follows(case_id, user_id)))
    if case is None or not allowed:
        action = Action.CASE_FOLLOW if follow else Action.CASE_UNFOLLOW
        await audit.record(session, user_id, action, f"case:{case_id}",
                           allowed=False, reason="no recent lookup")
        return None
    if follow:
        await repo.follow(case_id, user_id, lang)
    else:
        await repo.unfollow(case_id, user_id)
    return Lookup(Outcome.FOUND, case, await repo.steps(case_id), follow)


async def followed_cases(session: AsyncSession, user_id: int) -> list[CaseDTO]:
    return await CaseRepo(session).followed_by(user_id)


# --- sending the notices ------------------------------------------------------------------

Send = Callable[[int, str], Awaitable[bool]]


async def send_notices(factory: async_sessionmaker[AsyncSession], store: ContentStore,
                       i18n: I18n, settings: Settings, send: Send,
                       now: datetime | None = None) -> int:
    """Send every queued notice once, each in its follower's language.

    A notice is claimed with a lease and its transaction committed before the send, so no
    connection is held while Telegram answers and another process skips it; it is deleted
    once Telegram took it (or can never take it: blocked). A failed send keeps the row, and
    the notice is tried again when the lease expires.
    """
    now = now or utcnow()
    async with factory() as session:
        pending = await CaseRepo(session).pending_notices(now)
    sent = 0
    for notice_id in pending:
        try:
            async with factory() as session, session.begin():
                repo = CaseRepo(session)
                notice = await repo.claim_notice(notice_id, now, now + NOTICE_LEASE)
                if notice is None:
                    continue
                step = await repo.step(notice.step_id)
                case = await repo.get(step.case_id) if step else None
                if step is None or case is None:
                    await repo.drop_notice(notice_id)
                    continue
                lang = await reader_language(session, notice.user_id, notice.lang)
                with locale(i18n, lang):
                    text = notice_text(store, case, step, lang, settings.tz)
            delivered = await send(notice.user_id, text)
            async with factory() as session, session.begin():
                await CaseRepo(session).drop_notice(notice_id)
            sent += int(delivered)
        except Exception:  # one notice's failure never ends the sweep
            log.warning("case notice %s not sent; it is tried again after its lease",
                        notice_id, exc_info=True)
    return sent


async def purge_cases(factory: async_sessionmaker[AsyncSession], settings: Settings,
                      now: datetime | None = None) -> tuple[int, int]:
    """Closed cases after ``CASES_RETENTION_DAYS``, lookups after
    ``CASE_LOOKUP_RETENTION_DAYS``: (cases, lookups) deleted."""
    now = now or utcnow()
    async with factory() as session, session.begin():
        repo = CaseRepo(session)
        cases = await repo.purge_closed_before(now - timedelta(days=settings.cases_retention_days))
        lookups = await repo.purge_lookups_before(
            now - timedelta(days=settings.case_lookup_retention_days))
    if cases or lookups:
        log.info("deleted %d closed cases and %d case lookups", cases, lookups)
    return cases, lookups


CASE_NOTICES = "case-notices"  # the periodic job sending the outbox (every NOTICE_EVERY)
CaseNotices = PeriodicJob[int]  # the outbox sender; the desk wakes it once notices are queued


# --- /my_data and /forget_me --------------------------------------------------------------


async def _show_follows(ctx: Context, user_id: int) -> list[str]:
    return [_("Case {number}: {status}").format(number=quote(c.number),
                                                status=status_label(c.status))
            for c in await CaseRepo(ctx.session).followed_by(user_id)]


async def _erase_follows(session: AsyncSession, user_id: int) -> int:
    return await CaseRepo(session).erase_follows(user_id)


async def _show_lookups(ctx: Context, user_id: int) -> list[str]:
    count = await CaseRepo(ctx.session).lookups_of(user_id)
    return [_("Case lookups: {count} (kept a few days, against guessing)").format(
        count=count)] if count else []


async def _erase_lookups(session: AsyncSession, user_id: int) -> int:
    repo = CaseRepo(session)
    await repo.unlink_audit(user_id)
    return await repo.erase_lookups(user_id)


def personal_data() -> list[PersonalData]:
    return [PersonalData("case_followers", lambda: _("Cases you follow"),
                         _show_follows, _erase_follows),
            PersonalData("case_lookups", lambda: _("Your case lookups"),
                         _show_lookups, _erase_lookups)]

