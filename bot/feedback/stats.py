"""What editors learn: numbers counted by the database, written as CSV or drawn by
:mod:`bot.feedback.charts`, and the weekly digest of what people asked that the content
does not answer yet.
"""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.feedback.callbacks import REASONS
from bot.feedback.votes import reason_label
from bot.shared import audit
from bot.shared.tghtml import quote
from bot.shared.translation import current_language, fmt_date, use_language
from bot.shared.translation import gettext as _
from storage.answers import TeachRepo
from storage.models.answers import UnansweredQuestion
from storage.models.base import utcnow
from storage.models.feedback import Feedback, QuestionLog
from storage.models.officer import OfficerRequest
from storage.models.publishing import Delivery, PostRun
from storage.officer import DialogueRepo

TOP = 10
ANSWERED_KINDS = ("answer", "country")
DIGEST_GROUPS = 8
DIGEST_EXAMPLES = 3

Series = dict[str, dict[str, float]]

if TYPE_CHECKING:  # drawn in another process; matplotlib is imported only there
    from bot.feedback.charts import Chart


def _days(since: datetime, until: datetime, tz: ZoneInfo) -> list[str]:
    first, last = since.astimezone(tz).date(), (until - timedelta(microseconds=1)).astimezone(tz)
    out, day = [], first
    while day <= last.date():
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


@dataclass
class StatsData:
    """Everything the charts show for one period, as plain numbers."""

    since: datetime
    until: datetime
    days: list[str]
    questions_by_day: Series = field(default_factory=dict)  # lang -> day -> n
    topics: dict[str, float] = field(default_factory=dict)
    countries: dict[str, float] = field(default_factory=dict)
    self_service: dict[str, float] = field(default_factory=dict)
    feedback: Series = field(default_factory=dict)  # topic -> up/down -> n
    requests_by_day: dict[str, float] = field(default_factory=dict)
    sla: dict[str, float] = field(default_factory=dict)  # within / late / waiting
    ratings: dict[str, float] = field(default_factory=dict)  # "1".."5"
    reach: Series = field(default_factory=dict)  # chat kind -> state -> n


async def may_see(session: AsyncSession, settings: Settings, user_id: int) -> bool:
    """Editors and administrators; anyone else is refused, with an audit entry saying so."""
    if user_id in settings.admin_ids or await DialogueRepo(session).is_staff(user_id):
        return True
    await audit.record(session, user_id, audit.Action.STATS, allowed=False)
    return False


async def for_staff(session: AsyncSession, settings: Settings, user_id: int,
                    days: int) -> StatsData | None:
    """The last ``days`` days, for those who :func:`may_see` them (else None)."""
    if not await may_see(session, settings, user_id):
        return None
    until = utcnow()
    return await collect(session, until - timedelta(days=days), until, settings.tz,
                         settings.officer_sla_hours)


async def collect(session: AsyncSession, since: datetime, until: datetime, tz: ZoneInfo,
                  sla_hours: float) -> StatsData:
    data = StatsData(since, until, _days(since, until, tz))
    await _questions(session, data, tz)
    await _feedback(session, data)
    await _requests(session, data, tz, sla_hours)
    await _reach(session, data)
    return data


def _in(column: Any, data: StatsData) -> Any:
    return column.between(data.since, data.until - timedelta(microseconds=1))


def _epoch(session: AsyncSession, column: Any) -> Any:
    """Whole seconds since 1970 of a UTC datetime column, in the session's SQL dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.extract("epoch", column), BigInteger)


class _LocalDays:
    """Maps the database's time buckets to days in TIMEZONE.

    The database counts per hour (per quarter hour in zones whose offset is not whole
    hours), so each bucket lies inside one local day; the days' starts are computed once
    and each bucket is placed by bisection.
    """

    def __init__(self, days: list[str], tz: ZoneInfo) -> None:
        starts = [datetime.combine(date.fromisoformat(d), datetime.min.time(), tzinfo=tz)
                  for d in days]
        whole_hours = all(int(s.utcoffset().total_seconds()) % 3600 == 0  # type: ignore[union-attr]
                          for s in starts)
        self.size = 3600 if whole_hours else 900
        self.days = days
        self.starts = [int(s.timestamp()) for s in starts]

    def bucket(self, session: AsyncSession, column: Any) -> Any:
        return (_epoch(session, column) // self.size).label("bucket")

    def day(self, bucket: int) -> str | None:
        i = bisect_right(self.starts, bucket * self.size) - 1
        return self.days[i] if 0 <= i < len(self.days) else None


async def _questions(session: AsyncSession, data: StatsData, tz: ZoneInfo) -> None:
    """Counted by the database (GROUP BY quarter hour, language, topic, country, kind)."""
    period = _in(QuestionLog.created_at, data)
    local = _LocalDays(data.days, tz)
    bucket = local.bucket(session, QuestionLog.created_at)
    by_day: Series = defaultdict(lambda: dict.fromkeys(data.days, 0.0))
    for slot, lang, n in (await session.execute(
        select(bucket, QuestionLog.lang, func.count())
        .where(period).group_by(bucket, QuestionLog.lang)
    )).all():
        day = local.day(int(slot))
        if day is not None:
            by_day[lang][day] += n
    data.questions_by_day = {lang: by_day[lang] for lang in sorted(by_day)}
    data.topics = await _top(session, QuestionLog.topic, period)
    data.countries = await _top(session, QuestionLog.country, period)
    escalated = (select(OfficerRequest.question_id)
                 .where(OfficerRequest.question_id.is_not(None)).distinct().subquery())
    went_on = escalated.c.question_id.is_not(None).label("went_on")
    share = {"answered": 0.0, "officer": 0.0, "unanswered": 0.0, "other": 0.0}
    for officer, kind, n in (await session.execute(
        select(went_on, QuestionLog.kind, func.count())
        .outerjoin(escalated, escalated.c.question_id == QuestionLog.id)
        .where(period).group_by(went_on, QuestionLog.kind)
    )).all():
        if officer:
            share["officer"] += n
        elif kind in ANSWERED_KINDS:
            share["answered"] += n
        elif kind == "unknown":
            share["unanswered"] += n
        else:
            share["other"] += n
    data.self_service = share


async def _top(session: AsyncSession, column: Any, period: Any) -> dict[str, float]:
    """The ``TOP`` most frequent values of ``column``, most frequent first (ties by name)."""
    n = func.count().label("n")
    rows = (await session.execute(
        select(column, n).where(period, column.is_not(None), column != "")
        .group_by(column).order_by(n.desc(), column).limit(TOP)
    )).all()
    return {value: float(count) for value, count in rows}


async def _feedback(session: AsyncSession, data: StatsData) -> None:
    rows = (await session.execute(
        select(Feedback.topic, Feedback.helpful, func.count())
        .where(_in(Feedback.created_at, data))
        .group_by(Feedback.topic, Feedback.helpful)
    )).all()
    out: Series = defaultdict(lambda: {"up": 0.0, "down": 0.0})
    for topic, helpful, n in rows:
        out[topic or "—"]["up" if helpful else "down"] += n
    ordered = sorted(out.items(), key=lambda kv: -(kv[1]["up"] + kv[1]["down"]))[:TOP]
    data.feedback = dict(ordered)


async def _requests(session: AsyncSession, data: StatsData, tz: ZoneInfo,
                    sla_hours: float) -> None:
    period = _in(OfficerRequest.created_at, data)
    local = _LocalDays(data.days, tz)
    bucket = local.bucket(session, OfficerRequest.created_at)
    per_day = dict.fromkeys(data.days, 0.0)
    for slot, n in (await session.execute(
        select(bucket, func.count()).where(period).group_by(bucket)
    )).all():
        day = local.day(int(slot))
        if day is not None:
            per_day[day] += n
    waited = _epoch(session, OfficerRequest.first_reply_at) - _epoch(
        session, OfficerRequest.created_at)
    outcome = case(
        (OfficerRequest.first_reply_at.is_(None), "waiting"),
        (waited <= int(sla_hours * 3600), "within"),
        else_="late",
    ).label("outcome")
    sla = {"within": 0.0, "late": 0.0, "waiting": 0.0}
    for key, n in (await session.execute(
        select(outcome, func.count()).where(period).group_by(outcome)
    )).all():
        sla[key] += n
    ratings = {str(n): 0.0 for n in range(1, 6)}
    for rating, n in (await session.execute(
        select(OfficerRequest.rating, func.count())
        .where(period, OfficerRequest.rating.is_not(None)).group_by(OfficerRequest.rating)
    )).all():
        if str(rating) in ratings:
            ratings[str(rating)] += n
    data.requests_by_day, data.sla, data.ratings = per_day, sla, ratings


async def _reach(session: AsyncSession, data: StatsData) -> None:
    rows = (await session.execute(
        select(Delivery.chat_kind, Delivery.state, func.count())
        .join(PostRun, PostRun.id == Delivery.run_id)
        .where(_in(PostRun.started_at, data))
        .group_by(Delivery.chat_kind, Delivery.state)
    )).all()
    out: Series = defaultdict(lambda: {"sent": 0.0, "blocked": 0.0, "failed": 0.0})
    for kind, state, n in rows:
        if state in ("sent", "blocked", "failed"):
            out[kind][state] += n
    data.reach = {k: out[k] for k in sorted(out)}


def _draw(lang: str, data: StatsData, topic_names: dict[str, str],
          country_names: dict[str, str], sla_hours: float) -> list[Chart]:
    """Runs in the drawing process: matplotlib is imported there, on the first /stats."""
    from bot.feedback.charts import all_charts

    with use_language(lang):
        return all_charts(data, topic_names, country_names, sla_hours)


class ChartDrawer:
    """Draws the /stats charts in one worker process, started on the first /stats.

    A thread is not enough: matplotlib holds the interpreter lock for long stretches (the
    first drawing stalled the event loop for 270 ms, later ones 20–35 ms), and every other
    update would wait behind it.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def draw(self, lang: str, data: StatsData, topic_names: dict[str, str],
                   country_names: dict[str, str], sla_hours: float) -> list[Chart]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _draw, lang, data, topic_names,
                                          country_names, sla_hours)

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def to_csv(data: StatsData) -> dict[str, bytes]:
    """The charts' numbers, one file per chart: series, label, value."""
    tables: dict[str, Iterable[tuple[str, str, float]]] = {
        "questions": ((lang, d, v) for lang, s in data.questions_by_day.items()
                      for d, v in s.items()),
        "topics": [*(("topic", k, v) for k, v in data.topics.items()),
                   *(("country", k, v) for k, v in data.countries.items())],
        "self_service": (("share", k, v) for k, v in data.self_service.items()),
        "feedback": ((t, k, v) for t, s in data.feedback.items() for k, v in s.items()),
        "requests": [*(("opened", d, v) for d, v in data.requests_by_day.items()),
                     *(("sla", k, v) for k, v in data.sla.items()),
                     *(("rating", k, v) for k, v in data.ratings.items())],
        "reach": ((kind, k, v) for kind, s in data.reach.items() for k, v in s.items()),
    }
    out = {}
    for name, rows in tables.items():
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["series", "label", "value"])
        for series, label, value in rows:
            writer.writerow([series, label, int(value) if float(value).is_integer() else value])
        out[f"{name}.csv"] = buf.getvalue().encode("utf-8")
    return out


# --- the weekly digest --------------------------------------------------------------------


@dataclass
class DigestGroup:
    lang: str
    country: str | None
    topic: str | None  # the nearest topic the analyser offered, or the 👎'd answer's topic
    count: int
    examples: list[str]
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class Digest:
    since: datetime
    until: datetime
    unanswered: list[DigestGroup]
    disliked: list[DigestGroup]
    taught: int = 0  # questions editors taught the bot that week
    teachable: int = 0  # questions waiting to be taught now (/unanswered)

    @property
    def empty(self) -> bool:
        return not self.unanswered and not self.disliked


async def build_digest(session: AsyncSession, since: datetime, until: datetime) -> Digest:
    """Unanswered questions and 👎 of the week, grouped by topic, language and country."""
    unanswered = (await session.execute(
        select(UnansweredQuestion.lang, UnansweredQuestion.country,
               UnansweredQuestion.alternatives, UnansweredQuestion.text)
        .where(UnansweredQuestion.created_at >= since, UnansweredQuestion.created_at < until)
        .order_by(UnansweredQuestion.id)
    )).all()
    groups: dict[tuple[str, str | None, str | None], DigestGroup] = {}
    for lang, country, alternatives, text in unanswered:
        topic = (alternatives or "").split(",")[0] or None
        group = groups.setdefault((lang, country, topic), DigestGroup(lang, country, topic, 0, []))
        group.count += 1
        if len(group.examples) < DIGEST_EXAMPLES and text not in group.examples:
            group.examples.append(text)
    disliked_rows = (await session.execute(
        select(Feedback.lang, Feedback.country, Feedback.topic, Feedback.reason,
               Feedback.comment, QuestionLog.text)
        .outerjoin(QuestionLog, QuestionLog.id == Feedback.question_id)
        .where(Feedback.helpful.is_(False), Feedback.created_at >= since,
               Feedback.created_at < until)
        .order_by(Feedback.id)
    )).all()
    disliked: dict[tuple[str, str | None, str | None], DigestGroup] = {}
    for lang, country, topic, reason, comment, question in disliked_rows:
        group = disliked.setdefault((lang, country, topic),
                                    DigestGroup(lang, country, topic, 0, []))
        group.count += 1
        if reason:
            group.reasons[reason] = group.reasons.get(reason, 0) + 1
        example = comment or question
        if example and len(group.examples) < DIGEST_EXAMPLES and example not in group.examples:
            group.examples.append(example)

    def ranked(items: Iterable[DigestGroup]) -> list[DigestGroup]:
        return sorted(items, key=lambda g: (-g.count, g.lang, g.country or "",
                                            g.topic or ""))[:DIGEST_GROUPS]

    teach = TeachRepo(session)
    return Digest(since, until, ranked(groups.values()), ranked(disliked.values()),
                  taught=await teach.count_between(since, until),
                  teachable=await teach.pending_count())


def digest_week(now: datetime, tz: ZoneInfo) -> tuple[str, datetime, datetime]:
    """The key and bounds (UTC) of the week before the Monday of ``now`` in TIMEZONE."""
    local = now.astimezone(tz)
    monday: date = local.date() - timedelta(days=local.weekday())
    end = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    start = end - timedelta(days=7)
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}", start.astimezone(UTC), end.astimezone(UTC)


def render_digest(digest: Digest, topic_names: dict[str, str],
                  country_names: dict[str, str], tz: ZoneInfo) -> str:
    """HTML in the current locale (the editor's language)."""
    lang = current_language() or "en"
    first = fmt_date(digest.since, lang, tz)
    last = fmt_date(digest.until - timedelta(days=1), lang, tz)
    lines = [_("<b>Weekly digest</b>, {first} – {last}").format(first=first, last=last)]
    taught = _("Questions taught to the bot this week: {count}").format(count=digest.taught)
    if digest.empty:
        lines.append(_("Every question this week had an answer, and nobody pressed 👎."))
        lines += ["", taught]
        return "\n".join(lines)

    def where(g: DigestGroup) -> str:
        parts = [g.lang]
        if g.country:
            parts.append(quote(country_names.get(g.country, g.country)))
        if g.topic:
            parts.append(quote(topic_names.get(g.topic, g.topic)))
        return " · ".join(parts)

    if digest.unanswered:
        lines += ["", _("<b>Asked, but the content has no answer yet:</b>")]
        for g in digest.unanswered:
            lines.append(_("• {where}: {count} questions").format(where=where(g), count=g.count))
            lines += [f"   <i>“{quote(e[:200])}”</i>" for e in g.examples]
    if digest.disliked:
        lines += ["", _("<b>Answers people marked 👎:</b>")]
        for g in digest.disliked:
            reasons = ", ".join(f"{_reason(r)} {n}" for r, n in sorted(g.reasons.items()))
            line = _("• {where}: {count} × 👎").format(where=where(g), count=g.count)
            lines.append(f"{line} ({reasons})" if reasons else line)
            lines += [f"   <i>“{quote(e[:200])}”</i>" for e in g.examples]
    lines += ["", taught]
    return "\n".join(lines)


def _reason(reason: str) -> str:
    return reason_label(reason) if reason in REASONS else reason
