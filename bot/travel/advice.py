"""Advice that says what changed.

When ``content import`` finds a country's advisory level changed, it queues one short message
per language (old level → new level, and the file's ``changed`` note) for everyone following
the country and everyone whose trip there has not ended: a post of kind ``advisory`` whose
audience is fixed at import, like an approved alert's. The running bot hands each queued
change to its publisher as the post's job (:func:`send_queued_changes`: leased, so one
process sends it and another takes over if it dies), which delivers it ahead of routine posts
as it does alerts. A country's past alerts are listed from its
card (:func:`archive`), newest first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel import Locale
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.callbacks import CountryCard
from bot.answers.cards import advisory_label
from bot.answers.content import Country
from bot.config import LANGUAGES
from bot.publishing.publisher import POST_JOB, post_job_key
from bot.shared.render import Button, Screenful, flag
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_date, use_language
from bot.shared.translation import gettext as _
from bot.travel.alerts import ALERT_PRIORITY, ICONS, Severity, severity_label
from bot.travel.callbacks import AlertArchive
from storage.jobs import JobRepo
from storage.travel.advice import AdviceRepo, PastAlertDTO

log = logging.getLogger(__name__)

ARCHIVE_PAGE = 3
EXCERPT_CHARS = 300


@dataclass(frozen=True)
class LevelChange:
    iso: str
    old: int
    new: int


def level_changes(stored: dict[str, dict[str, Any]], countries: dict[str, Country]
                  ) -> list[LevelChange]:
    """Countries already in the store whose advisory level the new files change."""
    out = []
    for iso, country in sorted(countries.items()):
        old = (stored.get(iso) or {}).get("advisory", {}).get("level")
        if isinstance(old, int) and old != country.advisory.level:
            out.append(LevelChange(iso, old, country.advisory.level))
    return out


def change_text(change: LevelChange, country: Country, lang: str) -> str:
    """The message in ``lang`` (the caller sets the locale): what changed, not the card."""
    name = Locale(lang).territories.get(change.iso, change.iso)
    head = _("🚦 <b>Travel advice changed: {country}</b>").format(
        country=f"{flag(change.iso)} {quote(name)}")
    levels = f"{advisory_label(change.old)} → <b>{advisory_label(change.new)}</b>"
    lines = [head, levels]
    if country.advisory.changed is not None:
        lines.append(country.advisory.changed.get(lang))
    return "\n\n".join(lines)


async def queue_level_changes(session: AsyncSession, changes: list[LevelChange],
                              countries: dict[str, Country], today: date) -> list[int]:
    """In the import's transaction: one queued message per changed country."""
    repo = AdviceRepo(session)
    ids = []
    for change in changes:
        people = await repo.people(change.iso, today)
        if not people:
            continue
        texts = {}
        for lang in LANGUAGES:
            with use_language(lang):
                texts[lang] = change_text(change, countries[change.iso], lang)
        recipients = [[uid, "private", lang if lang in LANGUAGES else "kk"]
                      for uid, lang in sorted(people.items())]
        ids.append(await repo.queue(change.iso, texts, recipients, ALERT_PRIORITY))
    return ids


class Publisher(Protocol):
    async def enqueue(self, post_id: int, *, priority: int = 0) -> Any: ...


async def send_queued_changes(factory: async_sessionmaker[AsyncSession],
                              publisher: Publisher | None) -> int:
    """Hand every queued change to the publisher; returns how many this process took.

    With the job mechanism each change becomes the post's job (``post:{id}``, due now,
    created once whoever sees it first): the job's lease, and the run key the publisher
    derives from its due time, make one process send it, and another take over if that one
    dies before the run is written (the post stays ``scheduled`` until then). Without it
    (one process, no job runner) the change is claimed and enqueued here."""
    if publisher is None:
        return 0
    async with factory() as session:
        queued = await AdviceRepo(session).queued()
    jobs = getattr(publisher, "jobs", None)
    taken = 0
    if jobs is not None:
        for post_id in queued:
            async with factory() as session, session.begin():
                taken += await JobRepo(session).ensure(
                    post_job_key(post_id), POST_JOB, jobs.clock(), {"post": post_id})
        if taken:
            jobs.wake()
        return taken
    for post_id in queued:
        async with factory() as session, session.begin():
            claimed = await AdviceRepo(session).claim(post_id)
        if claimed:
            await publisher.enqueue(post_id, priority=ALERT_PRIORITY)
            taken += 1
    return taken


def _excerpt(alert: PastAlertDTO, lang: str) -> str:
    """The editor's text of an alert: its stored message without the header line."""
    text = alert.texts.get(lang) or next(iter(alert.texts.values()), "")
    parts = text.split("\n\n")
    body = parts[1] if len(parts) > 1 else parts[0]
    return body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"


async def archive(session: AsyncSession, iso: str, name: str, page: int, lang: str,
                  tz: ZoneInfo) -> Screenful:
    """A page of the country's past alerts, newest first, with "More" while there are more."""
    repo = AdviceRepo(session)
    total = await repo.count_alerts(iso)
    alerts = await repo.past_alerts(iso, page * ARCHIVE_PAGE, ARCHIVE_PAGE)
    head = _("🗂 <b>Past travel alerts: {country}</b>").format(
        country=f"{flag(iso)} {quote(name)}")
    if not alerts:
        lines = [head, _("No travel alerts have been issued for this country.")]
    else:
        lines = [head]
        for alert in alerts:
            severity = alert.severity if alert.severity in Severity.__members__.values() \
                else Severity.INFORMATION
            lines.append(
                f"{ICONS[Severity(severity)]} <b>{fmt_date(alert.issued_at, lang, tz)}</b> · "
                f"{severity_label(severity)}\n{_excerpt(alert, lang)}")
    rows = []
    if (page + 1) * ARCHIVE_PAGE < total:
        rows.append([Button(_("More ▸"), AlertArchive(iso=iso, page=page + 1).pack())])
    rows.append([Button(_("⬅️ {country}").format(country=name), CountryCard(iso=iso).pack())])
    return Screenful("\n\n".join(lines), rows)
