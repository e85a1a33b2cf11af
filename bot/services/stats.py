"""What editors learn: numbers from the database, drawn as PNG charts or written as CSV,
and the weekly digest of what people asked that the content does not answer yet.

Every chart function returns the series it drew, so tests compare the picture's numbers
with the database, not just the existence of a PNG.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialogue_callbacks import PERIODS, REASONS  # noqa: F401
from bot.services.feedback import reason_label
from bot.services.tghtml import quote
from bot.translation import current_language, fmt_date
from bot.translation import gettext as _
from storage.models import (
    Delivery,
    Feedback,
    OfficerRequest,
    PostRun,
    QuestionLog,
    UnansweredQuestion,
)

TOP = 10
ANSWERED_KINDS = ("answer", "country")
LANG_COLORS = {"kk": "#00a3c4", "ru": "#d1495b", "en": "#edae49"}
DIGEST_GROUPS = 8
DIGEST_EXAMPLES = 3

Series = dict[str, dict[str, float]]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


async def _questions(session: AsyncSession, data: StatsData, tz: ZoneInfo) -> None:
    rows = (await session.execute(
        select(QuestionLog.id, QuestionLog.created_at, QuestionLog.lang, QuestionLog.kind,
               QuestionLog.topic, QuestionLog.country)
        .where(_in(QuestionLog.created_at, data))
    )).all()
    escalated = set((await session.scalars(
        select(OfficerRequest.question_id).where(OfficerRequest.question_id.is_not(None))
    )).all())
    by_day: Series = defaultdict(lambda: dict.fromkeys(data.days, 0.0))
    topics: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    share: Counter[str] = Counter({"answered": 0, "officer": 0, "unanswered": 0, "other": 0})
    for qid, at, lang, kind, topic, country in rows:
        day = _aware(at).astimezone(tz).date().isoformat()
        by_day[lang][day] = by_day[lang].get(day, 0.0) + 1
        if topic:
            topics[topic] += 1
        if country:
            countries[country] += 1
        if qid in escalated:
            share["officer"] += 1
        elif kind in ANSWERED_KINDS:
            share["answered"] += 1
        elif kind == "unknown":
            share["unanswered"] += 1
        else:
            share["other"] += 1
    data.questions_by_day = {lang: by_day[lang] for lang in sorted(by_day)}
    data.topics = {k: float(v) for k, v in topics.most_common(TOP)}
    data.countries = {k: float(v) for k, v in countries.most_common(TOP)}
    data.self_service = {k: float(v) for k, v in share.items()}


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
    rows = (await session.execute(
        select(OfficerRequest.created_at, OfficerRequest.first_reply_at, OfficerRequest.rating)
        .where(_in(OfficerRequest.created_at, data))
    )).all()
    per_day = dict.fromkeys(data.days, 0.0)
    sla = {"within": 0.0, "late": 0.0, "waiting": 0.0}
    ratings = {str(n): 0.0 for n in range(1, 6)}
    limit = timedelta(hours=sla_hours)
    for created, replied, rating in rows:
        created = _aware(created)
        day = created.astimezone(tz).date().isoformat()
        per_day[day] = per_day.get(day, 0.0) + 1
        if replied is None:
            sla["waiting"] += 1
        elif _aware(replied) - created <= limit:
            sla["within"] += 1
        else:
            sla["late"] += 1
        if rating:
            ratings[str(rating)] += 1
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


# --- charts ------------------------------------------------------------------------------


@dataclass
class Chart:
    key: str
    png: bytes
    series: Series


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _counts(*axes: Any, axis: str = "y") -> None:
    """Counts are whole numbers: no 0.5 ticks."""
    for ax in axes:
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))


def _short_days(days: list[str]) -> list[str]:
    return [d[5:] for d in days]


def _empty(ax: Any) -> None:
    ax.text(0.5, 0.5, _("No data for this period"), ha="center", va="center",
            transform=ax.transAxes, color="grey")


def _period(data: StatsData) -> str:
    if not data.days:
        return ""
    lang = current_language() or "en"
    first, last = (fmt_date(date.fromisoformat(day), lang, ZoneInfo("UTC"))
                   for day in (data.days[0], data.days[-1]))
    return f"{first} – {last}"


def chart_questions(data: StatsData) -> Chart:
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    x = range(len(data.days))
    bottom = [0.0] * len(data.days)
    for lang, per_day in data.questions_by_day.items():
        values = [per_day.get(d, 0.0) for d in data.days]
        ax.bar(x, values, bottom=bottom, label=lang, color=LANG_COLORS.get(lang))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if not data.questions_by_day:
        _empty(ax)
    ax.set_title(_("Questions per day by language") + f"\n{_period(data)}")
    step = max(1, len(data.days) // 10)
    ax.set_xticks(list(x)[::step], _short_days(data.days)[::step], rotation=45)
    if data.questions_by_day:
        ax.legend()
    _counts(ax)
    return Chart("questions", _png(fig), {k: dict(v) for k, v in data.questions_by_day.items()})


def _barh(ax: Any, values: dict[str, float], title: str, color: str) -> None:
    labels = list(values)[::-1]
    ax.barh(labels, [values[k] for k in labels], color=color)
    ax.set_title(title)
    if not values:
        _empty(ax)


def chart_topics(data: StatsData, topic_names: dict[str, str],
                 country_names: dict[str, str]) -> Chart:
    fig = Figure(figsize=(10, 5))
    left, right = fig.subplots(1, 2)
    _counts(left, right, axis="x")
    _barh(left, {topic_names.get(k, k): v for k, v in data.topics.items()},
          _("Most asked topics"), "#2e86ab")
    _barh(right, {country_names.get(k, k): v for k, v in data.countries.items()},
          _("Most asked countries"), "#6a994e")
    fig.suptitle(_period(data))
    return Chart("topics", _png(fig), {"topics": dict(data.topics),
                                       "countries": dict(data.countries)})


def chart_self_service(data: StatsData) -> Chart:
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    labels = {
        "answered": _("Answered by the bot"),
        "officer": _("Went on to an officer"),
        "unanswered": _("Not answered"),
        "other": _("Small talk, unclear"),
    }
    shown = {k: v for k, v in data.self_service.items() if v}
    if shown:
        ax.pie(list(shown.values()), labels=[labels[k] for k in shown], autopct="%1.0f%%",
               colors=[{"answered": "#6a994e", "officer": "#edae49", "unanswered": "#d1495b",
                        "other": "#bbbbbb"}[k] for k in shown])
    else:
        _empty(ax)
    ax.set_title(_("Questions answered without an officer") + f"\n{_period(data)}")
    return Chart("self_service", _png(fig), {"share": dict(data.self_service)})


def chart_feedback(data: StatsData, topic_names: dict[str, str]) -> Chart:
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    labels = [topic_names.get(k, k) for k in data.feedback][::-1]
    ups = [v["up"] for v in data.feedback.values()][::-1]
    downs = [v["down"] for v in data.feedback.values()][::-1]
    ax.barh(labels, ups, color="#6a994e", label=_("helpful"))
    ax.barh(labels, downs, left=ups, color="#d1495b", label=_("not helpful"))
    if data.feedback:
        ax.legend()
    else:
        _empty(ax)
    ax.set_title(_("Feedback on answers by topic") + f"\n{_period(data)}")
    _counts(ax, axis="x")
    return Chart("feedback", _png(fig), {k: dict(v) for k, v in data.feedback.items()})


def chart_requests(data: StatsData, sla_hours: float) -> Chart:
    fig = Figure(figsize=(12, 4))
    opened, sla, ratings = fig.subplots(1, 3)
    x = range(len(data.days))
    opened.bar(x, [data.requests_by_day.get(d, 0.0) for d in data.days], color="#2e86ab")
    step = max(1, len(data.days) // 6)
    opened.set_xticks(list(x)[::step], _short_days(data.days)[::step], rotation=45)
    opened.set_title(_("Requests opened per day"))
    sla_labels = {"within": _("within {hours} h").format(hours=f"{sla_hours:g}"),
                  "late": _("later"), "waiting": _("no answer yet")}
    sla.bar([sla_labels[k] for k in data.sla], list(data.sla.values()),
            color=["#6a994e", "#edae49", "#d1495b"])
    sla.set_title(_("First answer"))
    ratings.bar(list(data.ratings), list(data.ratings.values()), color="#edae49")
    ratings.set_title(_("Ratings (1–5)"))
    _counts(opened, sla, ratings)
    fig.suptitle(_period(data))
    return Chart("requests", _png(fig), {"opened": dict(data.requests_by_day),
                                         "sla": dict(data.sla), "ratings": dict(data.ratings)})


def chart_reach(data: StatsData) -> Chart:
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    kinds = list(data.reach)
    width = 0.27
    for i, (state, color) in enumerate((("sent", "#6a994e"), ("blocked", "#d1495b"),
                                        ("failed", "#bbbbbb"))):
        label = {"sent": _("delivered"), "blocked": _("blocked the bot"),
                 "failed": _("failed")}[state]
        ax.bar([k + (i - 1) * width for k in range(len(kinds))],
               [data.reach[k][state] for k in kinds], width, label=label, color=color)
    if kinds:
        ax.set_xticks(range(len(kinds)), kinds)
        ax.legend()
    else:
        _empty(ax)
    ax.set_title(_("Reach of posts and alerts") + f"\n{_period(data)}")
    _counts(ax)
    return Chart("reach", _png(fig), {k: dict(v) for k, v in data.reach.items()})


def all_charts(data: StatsData, topic_names: dict[str, str], country_names: dict[str, str],
               sla_hours: float) -> list[Chart]:
    return [
        chart_questions(data),
        chart_topics(data, topic_names, country_names),
        chart_self_service(data),
        chart_feedback(data, topic_names),
        chart_requests(data, sla_hours),
        chart_reach(data),
    ]


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
    for lang, country, topic, reason, comment, text in disliked_rows:
        group = disliked.setdefault((lang, country, topic),
                                    DigestGroup(lang, country, topic, 0, []))
        group.count += 1
        if reason:
            group.reasons[reason] = group.reasons.get(reason, 0) + 1
        example = comment or text
        if example and len(group.examples) < DIGEST_EXAMPLES and example not in group.examples:
            group.examples.append(example)

    def ranked(items: Iterable[DigestGroup]) -> list[DigestGroup]:
        return sorted(items, key=lambda g: (-g.count, g.lang, g.country or "",
                                            g.topic or ""))[:DIGEST_GROUPS]

    return Digest(since, until, ranked(groups.values()), ranked(disliked.values()))


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
    if digest.empty:
        lines.append(_("Every question this week had an answer, and nobody pressed 👎."))
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
    return "\n".join(lines)


def _reason(reason: str) -> str:
    return reason_label(reason) if reason in REASONS else reason
