"""The one parser of dates and times typed in Kazakh, Russian and English, and the one
way dates and times are shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n

from bot.shared import when
from bot.shared.i18n import create_i18n, locale
from bot.shared.translation import fmt_date, fmt_datetime, fmt_time
from bot.shared.when import Problem

TODAY = date(2026, 11, 25)
ALMATY = ZoneInfo("Asia/Almaty")
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday 11:00 in Almaty
DEC25 = date(2026, 12, 25)


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return create_i18n("en")


@pytest.mark.parametrize(("text", "expected"), [
    # numeric
    ("25.12", [DEC25]), ("25.12.2026", [DEC25]), ("25/12", [DEC25]), ("25.12.26", [DEC25]),
    ("2026-12-25", [DEC25]),
    # Russian, every case form
    ("25 декабря", [DEC25]), ("25-го декабря", [DEC25]), ("декабрь 25", [DEC25]),
    ("25 декабре", [DEC25]), ("25 дек.", [DEC25]), ("25 декабря 2026 года", [DEC25]),
    ("25 ДЕКАБРЯ", [DEC25]),
    # Kazakh, with its letters and without them
    ("25 желтоқсан", [DEC25]), ("25 желтоқсанда", [DEC25]), ("25 желтоқсаннан", [DEC25]),
    ("желтоқсанның 25-і", [DEC25]), ("2026 жылғы 25 желтоқсан", [DEC25]),
    ("25 жел.", [DEC25]), ("25-желтоқсан", [DEC25]), ("25-ші желтоқсан", [DEC25]),
    ("25 желтоксан", [DEC25]), ("25 zheltoksan", [DEC25]),
    ("25 zheltoqsan", [DEC25]), ("3 шілдеде", [date(2027, 7, 3)]),
    ("1 қыркүйекте", [date(2027, 9, 1)]), ("1 кыркуйек", [date(2027, 9, 1)]),
    # English
    ("Dec 25", [DEC25]), ("December 25", [DEC25]), ("25 December", [DEC25]),
    ("25 dec 2026", [DEC25]), ("the 25th of December", [DEC25]), ("Dec 25, 2026", [DEC25]),
    # ranges
    ("25.12 – 05.01", [DEC25, date(2027, 1, 5)]),
    ("25.12–03.01", [DEC25, date(2027, 1, 3)]),
    ("25–30 декабря", [DEC25, date(2026, 12, 30)]),
    ("с 25 по 30 декабря", [DEC25, date(2026, 12, 30)]),
    ("с 3 мая по 10 мая", [date(2027, 5, 3), date(2027, 5, 10)]),
    ("25 желтоқсаннан 30 желтоқсанға дейін", [DEC25, date(2026, 12, 30)]),
    ("1 қаңтардан 5 қаңтарға дейін", [date(2027, 1, 1), date(2027, 1, 5)]),
    ("Dec 25 - Jan 3", [DEC25, date(2027, 1, 3)]),
    ("Dec 25-Jan 3", [DEC25, date(2027, 1, 3)]),
    ("Dec 25-30", [DEC25, date(2026, 12, 30)]),
    ("Jan 3 to Jan 9", [date(2027, 1, 3), date(2027, 1, 9)]),
    ("28–3 января", [date(2026, 12, 28), date(2027, 1, 3)]),
    ("Dec 28, 2026 - 3", [date(2026, 12, 28), date(2027, 1, 3)]),
    ("10.12–15", [date(2026, 12, 10), date(2026, 12, 15)]),
    ("с завтра по 30 декабря", [date(2026, 11, 26), date(2026, 12, 30)]),
    # relative words and weekdays
    ("today", [TODAY]), ("сегодня", [TODAY]), ("бүгін", [TODAY]),
    ("tomorrow", [date(2026, 11, 26)]), ("завтра", [date(2026, 11, 26)]),
    ("ертең", [date(2026, 11, 26)]), ("ертен", [date(2026, 11, 26)]),
    ("day after tomorrow", [date(2026, 11, 27)]), ("послезавтра", [date(2026, 11, 27)]),
    ("бүрсігүні", [date(2026, 11, 27)]),
    ("в пятницу", [date(2026, 11, 27)]), ("пятница, 25 декабря", [DEC25]),
    # the year: next occurrence; a day a few weeks ago is kept, for the caller to refuse
    ("20.11", [date(2026, 11, 20)]), ("01.10", [date(2027, 10, 1)]),
    ("29.02", [date(2028, 2, 29)]),
])
def test_dates(text: str, expected: list[date]) -> None:
    assert when.parse_dates(text, TODAY) == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("32.12", Problem.INVALID), ("31.02", Problem.INVALID), ("32 декабря", Problem.INVALID),
    ("30 February", Problem.INVALID), ("13.13.2026", Problem.INVALID),
    ("25 foo", Problem.UNREADABLE), ("25", Problem.UNREADABLE), ("2026", Problem.UNREADABLE),
    ("25 dicember", Problem.UNREADABLE), ("123 декабря", Problem.UNREADABLE),
    ("25.12 10:00", Problem.UNREADABLE),  # a trip has no time of day
    ("25 декабря 10", Problem.UNREADABLE), ("25 30 декабря", Problem.UNREADABLE),
    ("next week", Problem.NONE_FOUND), ("", Problem.NONE_FOUND), ("декабрь", Problem.NONE_FOUND),
    ("1.12, 5.12 and 9.12", Problem.TOO_MANY),
])
def test_dates_refused_rather_than_misread(text: str, problem: Problem) -> None:
    with pytest.raises(when.Unreadable) as caught:
        when.parse_dates(text, TODAY, limit=2)
    assert caught.value.problem == problem


def test_a_return_date_comes_after_the_departure() -> None:
    assert when.parse_date("05.01", TODAY, after=DEC25) == date(2027, 1, 5)


@pytest.mark.parametrize(("text", "local"), [
    ("25 декабря 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25 желтоқсан 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25 желтоқсанда сағат 10:00", datetime(2026, 12, 25, 10, 0)),
    ("24 December 09:00", datetime(2026, 12, 24, 9, 0)),
    ("Dec 25 10:00", datetime(2026, 12, 25, 10, 0)),
    ("Dec 25, 2026 at 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25.12 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25.12 10.00", datetime(2026, 12, 25, 10, 0)),
    ("25/12/2026 9.30", datetime(2026, 12, 25, 9, 30)),
    ("2026-12-25 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25 декабря в 10:00", datetime(2026, 12, 25, 10, 0)),
    ("завтра 9:30", datetime(2026, 3, 3, 9, 30)),
    ("ертең 9:30", datetime(2026, 3, 3, 9, 30)),
    ("3pm tomorrow", datetime(2026, 3, 3, 15, 0)),
    ("18:00", datetime(2026, 3, 2, 18, 0)),
    ("10:00", datetime(2026, 3, 3, 10, 0)),  # passed today: tomorrow
    ("9.30", datetime(2026, 3, 3, 9, 30)),
    ("Monday 10:00", datetime(2026, 3, 9, 10, 0)),  # today's has passed: next week's
    ("понедельник 12:00", datetime(2026, 3, 2, 12, 0)),
    ("01.01 10:00", datetime(2027, 1, 1, 10, 0)),
])
def test_moments(text: str, local: datetime) -> None:
    assert when.parse_moment(text, ALMATY, NOW) == local.replace(tzinfo=ALMATY).astimezone(UTC)


@pytest.mark.parametrize(("text", "problem", "piece"), [
    ("25 foo 10:00", Problem.UNREADABLE, "25"),
    ("32.12 10:00", Problem.INVALID, "32.12"),
    ("31.02.2026 10:00", Problem.INVALID, "31.02.2026"),
    ("25:00", Problem.INVALID, "25:00"),
    ("25 декабря", Problem.NO_TIME, ""),
    ("12.12", Problem.NO_TIME, ""),
    ("10:00 11:00", Problem.TOO_MANY, "11:00"),
    ("today 10:00", Problem.PASSED, "today"),
    ("01.03.2026 10:00", Problem.PASSED, "01.03.2026"),
    ("whenever", Problem.NONE_FOUND, ""),
])
def test_moments_refused(text: str, problem: Problem, piece: str) -> None:
    with pytest.raises(when.Unreadable) as caught:
        when.parse_moment(text, ALMATY, NOW)
    assert (caught.value.problem, caught.value.piece) == (problem, piece)


@pytest.mark.parametrize(("lang", "text", "example"), [
    ("kk", "25 foo 10:00", "25 желтоқсан 10:00"),
    ("ru", "25 foo 10:00", "25 декабря 10:00"),
    ("en", "25 foo 10:00", "25 December 10:00"),
])
def test_refusal_shows_an_example_in_the_persons_language(
        lang: str, text: str, example: str, i18n: I18n) -> None:
    with pytest.raises(when.Unreadable) as caught:
        when.parse_moment(text, ALMATY, NOW)
    with locale(i18n, lang):
        told = when.refusal(caught.value, "moment")
    assert example in told


def test_refusal_escapes_what_was_typed(i18n: I18n) -> None:
    with locale(i18n, "en"):
        told = when.refusal(when.Unreadable(Problem.UNREADABLE, "<b>"), "date")
    assert "&lt;b&gt;" in told and "<b>" not in told


@pytest.mark.parametrize(("lang", "day", "moment", "clock"), [
    ("kk", "2026 жылғы 2 желтоқсан", "2026 жылғы 2 желтоқсан, 09:30", "09:30"),
    ("ru", "2 декабря 2026 г.", "2 декабря 2026 г., 09:30", "09:30"),
    ("en", "2 December 2026", "2 December 2026, 09:30", "09:30"),
])
def test_one_display_style(lang: str, day: str, moment: str, clock: str) -> None:
    at = datetime(2026, 12, 2, 4, 30, 59, tzinfo=UTC)  # 09:30:59 in Almaty
    assert fmt_date(at, lang, ALMATY) == day
    assert fmt_date(date(2026, 12, 2), lang, ALMATY) == day
    assert fmt_datetime(at, lang, ALMATY) == moment
    assert fmt_time(at, lang, ALMATY) == clock


def test_the_weekly_digest_and_the_charts_show_dates_in_the_same_style(i18n: I18n) -> None:
    from bot.feedback.charts import _period
    from bot.feedback.stats import Digest, StatsData, render_digest

    since = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)  # Monday 23 November, 00:00 in Almaty
    digest = Digest(since, since + timedelta(days=7), [], [])
    data = StatsData(since, since + timedelta(days=7), ["2026-11-23", "2026-11-29"])
    with locale(i18n, "kk"):
        assert "2026 жылғы 23 қараша – 2026 жылғы 29 қараша" in render_digest(
            digest, {}, {}, ALMATY)
        assert _period(data) == "2026 жылғы 23 қараша – 2026 жылғы 29 қараша"
