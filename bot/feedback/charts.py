"""The /stats charts as PNG, drawn with matplotlib (imported only here, on first use).

Every chart function returns the series it drew, so tests compare the picture's numbers
with the database, not just the existence of a PNG. The bot draws them in a separate
process (:class:`bot.feedback.stats.ChartDrawer`), never on the event loop.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.shared.translation import current_language, fmt_date
from bot.shared.translation import gettext as _

LANG_COLORS = {"kk": "#00a3c4", "ru": "#d1495b", "en": "#edae49"}

if TYPE_CHECKING:
    from bot.feedback.stats import Series, StatsData


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
        "officer": _("Passed to an officer"),
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
