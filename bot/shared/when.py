"""Dates and times typed in Kazakh, Russian or English: the one parser for trips, posts,
alerts and reschedules.

It reads numeric dates (25.12, 25/12/2026, 2026-12-25), dates with month names in their
case forms (25 декабря, декабрь 25, 25 желтоқсаннан, желтоқсанның 25-і, Dec 25, 25th of
December; Kazakh typed without its letters: 25 желтоксан, 25 zheltoksan), ranges (25–30
декабря, с 25 по 30 декабря, Dec 25 - Jan 3, 25.12–03.01), the words today, tomorrow and
the day after tomorrow, weekdays, and times (10:00, 9.30 after a date, 3pm).

What it cannot place is refused, never guessed: a number next to a word that is not a
month ("25 foo"), a day that does not exist ("32.12"). A date without a year is its next
occurrence, except a day at most ``RECENT_PAST_DAYS`` ago: that one is returned as it is,
in the past, for the caller to say that it has passed.

No Telegram here; the refusals are rendered with :mod:`bot.shared.translation` in the current
language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from bot.shared.tghtml import quote
from bot.shared.translation import gettext as _

RECENT_PAST_DAYS = 30
MAX_INPUT = 200

Kind = Literal["date", "moment"]


class Problem(StrEnum):
    NONE_FOUND = "none"  # nothing that looks like a date (or a time)
    INVALID = "invalid"  # a date or time that does not exist: 32.12, 31.02, 25:70
    UNREADABLE = "unreadable"  # a piece it cannot place: "25 foo", a lone "2026"
    NO_TIME = "no_time"  # a date, but the time of day is missing
    TOO_MANY = "too_many"  # more dates or times than the question allows
    PASSED = "passed"  # the moment is already in the past


class Unreadable(ValueError):
    """The text is not a date (or time) this module can read without guessing."""

    def __init__(self, problem: Problem, piece: str = "") -> None:
        super().__init__(f"{problem}: {piece}" if piece else str(problem))
        self.problem = problem
        self.piece = piece


# --- words ---------------------------------------------------------------------------

_KK_LETTERS = str.maketrans({"қ": "к", "ң": "н", "ә": "а", "ү": "у", "ұ": "у", "і": "и",
                             "ө": "о", "ғ": "г", "һ": "х", "ё": "е"})
_DASHES = str.maketrans({"–": "-", "—": "-", "‑": "-", "‒": "-", "−": "-"})


def _norm(text: str) -> str:
    """Case-folded, with Kazakh letters as their look-alikes, so that Kazakh typed on a
    Russian keyboard (желтоксан) reads like Kazakh (желтоқсан)."""
    return text.casefold().translate(_KK_LETTERS).translate(_DASHES)


# Kazakh endings after a month's name: possessive, then case, then -ғы (желтоқсандағы).
_KK_END = ("(?:ы|и|сы|си)?(?:н|нын|нин|дын|дин|тын|тин|га|ге|ка|ке|на|не|а|е|да|де|та|те"
           "|нда|нде|дан|ден|тан|тен|нан|нен)?(?:гы|ги|кы|ки)?")
_KK_LATIN_END = ("(?:y|i|sy|si)?(?:n|nyn|nin|dyn|din|tyn|tin|ga|ge|ka|ke|qa|na|ne|a|e|da|de"
                 "|ta|te|nda|nde|dan|den|tan|ten|nan|nen)?")
_KK = ("кантар", "акпан", "наурыз", "сауир", "мамыр", "маусым", "шилде", "тамыз", "кыркуйек",
       "казан", "караша", "желтоксан")
_KK_SHORT = ("кан", "акп", "нау", "сау", "мам", "мау", "шил", "там", "кыр", "каз", "кар",
             "жел")
_KK_LATIN = ("[kq]antar", "a[kq]pan", "naur[yi]z", "sau[iy]r|sәuir", "mam[yi]r", "maus[yi]m",
             "shilde", "tam[yi]z", "[kq][yi]r[kq]u[iy]e[kq]", "[kq]azan", "[kq]arasha",
             "(?:zh|j)elto[kq]san")
_RU = ("январ[ьяею]|янв", "феврал[ьяею]|фев|февр", "март[аеу]?|мар", "апрел[ьяею]|апр",
       "ма[йяею]", "июн[ьяею]|июн", "июл[ьяею]|июл", "август[аеу]?|авг",
       "сентябр[ьяею]|сен|сент", "октябр[ьяею]|окт", "ноябр[ьяею]|ноя|нояб",
       "декабр[ьяею]|дек")
_EN = ("january|jan", "february|feb", "march|mar", "april|apr", "may", "june|jun",
       "july|jul", "august|aug", "september|sept|sep", "october|oct", "november|nov",
       "december|dec")
_MONTHS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(f"(?:{_RU[i]}|{_EN[i]}|{_KK_SHORT[i]}|{_KK[i]}{_KK_END}"
                f"|(?:{_KK_LATIN[i]}){_KK_LATIN_END})"), i + 1)
    for i in range(12)
]

TODAY_WORDS = {"today", "сегодня", "бугин", "bugin"}
TOMORROW_WORDS = {"tomorrow", "tmrw", "завтра", "ертен", "erten", "zavtra"}
AFTER_TOMORROW_WORDS = {"послезавтра", "бурсигуни", "bursiguni"}

WEEKDAYS: dict[str, int] = {
    "mon": 0, "monday": 0, "mondays": 0, "tue": 1, "tues": 1, "tuesday": 1, "tuesdays": 1,
    "wed": 2, "wednesday": 2, "wednesdays": 2, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "thursdays": 3, "fri": 4, "friday": 4, "fridays": 4, "sat": 5, "saturday": 5,
    "saturdays": 5, "sun": 6, "sunday": 6, "sundays": 6,
    "пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 5, "вс": 6,
}
_WEEKDAY_FORMS = [
    (re.compile("понедельн[а-я]*|дуйсенби(?:де|ге|ни|нин)?"), 0),
    (re.compile("вторн[а-я]*|сейсенби(?:де|ге|ни|нин)?"), 1),
    (re.compile("сред(?:а|у|ы|е|ам|ами)|сарсенби(?:де|ге|ни|нин)?"), 2),
    (re.compile("четверг[а-я]*|бейсенби(?:де|ге|ни|нин)?"), 3),
    (re.compile("пятниц[а-я]*|жума(?:да|га|ны|нын)?"), 4),
    (re.compile("суббот[а-я]*|сенби(?:де|ге|ни|нин)?"), 5),
    (re.compile("воскресен[а-я]*|жексенби(?:де|ге|ни|нин)?"), 6),
]

# Words between the two ends of a range, or before its start: "с 25 по 30", "from … to".
_CONNECTORS = {"-", "по", "до", "to", "till", "until", "through", "thru", "and", "и",
               "дейин", "шейин", "c", "с", "со", "from", "от", "on", "the", "of", "в", "на",
               "жане", "мен"}
_YEAR_WORDS = {"г", "год", "года", "году", "гг", "ж", "жыл", "жылы", "жылгы", "year"}


def month_of(word: str) -> int | None:
    """The month a word names, in any of the three languages and its case forms."""
    w = _norm(word).rstrip(".")
    for pattern, month in _MONTHS:
        if pattern.fullmatch(w):
            return month
    return None


def weekday_of(word: str) -> int | None:
    w = _norm(word).rstrip(".")
    if w in WEEKDAYS:
        return WEEKDAYS[w]
    for pattern, day in _WEEKDAY_FORMS:
        if pattern.fullmatch(w):
            return day
    return None


# --- tokens --------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<iso>(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?!\d))
    | (?P<time>(?<![\d.:])\d{1,2}:\d{2}(?![\d:])(?:\s*(?:am|pm)\b)?)
    | (?P<ampm>(?<![\d.:])\d{1,2}\s*(?:am|pm)\b)
    | (?P<num>(?<![\d.:/])\d{1,2}[./]\d{1,2}(?:[./](?:\d{4}|\d{2}))?(?![\d:]|[./]\d))
    | (?P<int>\d+(?:-?(?:го|ого|е|ое|и|ы|ши|шы|си|сы|st|nd|rd|th)(?![^\W\d_]))?)
    | (?P<word>[^\W\d_]+\.?)
    | (?P<dash>-)
    """,
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str
    text: str  # as typed, for refusals
    value: str  # normalized
    start: int = 0
    end: int = 0
    used: bool = False


@dataclass
class _Date:
    day: int
    month: int
    year: int | None
    piece: str
    at: int  # index of the first token
    clock: tuple[int, int] | None = None  # a dotted "9.30" that may be a time instead
    exact: date | None = None  # today/tomorrow/a weekday: already a day
    weekday: bool = False
    last: int = -1  # index of the last token (its year included)

    def __post_init__(self) -> None:
        self.last = max(self.last, self.at)


def _tokens(original: str) -> list[_Token]:
    text = _norm(original)
    # _norm keeps lengths, so spans index the original text as well
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "word"
        out.append(_Token(kind, original[m.start():m.end()], m.group(), m.start(), m.end()))
    return out


def _int_value(token: _Token) -> int:
    return int(re.match(r"\d+", token.value).group())  # type: ignore[union-attr]


def _clock(token: _Token) -> tuple[int, int]:
    """(hour, minute) of a time token; raises INVALID for 25:00 or 10:70."""
    digits = [int(x) for x in re.findall(r"\d+", token.value)]
    hour, minute = digits[0], digits[1] if len(digits) > 1 else 0
    if token.value.endswith("pm") and hour < 12:
        hour += 12
    elif token.value.endswith("am") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or (token.value[-2:] in ("am", "pm") and digits[0] > 12):
        raise Unreadable(Problem.INVALID, token.text)
    return hour, minute


def _year(value: str) -> int:
    year = int(value)
    return year + 2000 if year < 100 else year


def _significant(tokens: list[_Token], i: int, step: int) -> int | None:
    """The index of the next token from ``i`` in direction ``step`` that is not a connector."""
    j = i + step
    while 0 <= j < len(tokens):
        if not (tokens[j].kind in ("word", "dash") and tokens[j].value.rstrip(".")
                in _CONNECTORS):
            return j
        j += step
    return None


def _scan(text: str, today: date) -> tuple[list[_Date], list[_Token]]:
    """The dates and the time tokens in ``text``; raises on a piece it cannot place."""
    tokens = _tokens(text[:MAX_INPUT])
    dates: list[_Date] = []
    times: list[_Token] = []
    lone: list[int] = []  # indexes of day numbers waiting for a month from a neighbour
    years: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.used:
            continue
        if tok.kind == "iso":
            y, m, d = (int(x) for x in tok.value.split("-"))
            dates.append(_Date(d, m, y, tok.text, i))
        elif tok.kind == "num":
            parts = re.split(r"[./]", tok.value)
            d, m = int(parts[0]), int(parts[1])
            clock = None
            if tok.value[len(parts[0])] == "." and len(parts) == 2 and len(parts[1]) == 2 \
                    and d <= 23 and m <= 59:
                clock = (d, m)
            dates.append(_Date(d, m, _year(parts[2]) if len(parts) > 2 else None, tok.text, i,
                               clock=clock))
        elif tok.kind in ("time", "ampm"):
            times.append(tok)
        elif tok.kind == "int":
            digits = re.match(r"\d+", tok.value).group()  # type: ignore[union-attr]
            if len(digits) == 4:
                years.append(i)
                continue
            if len(digits) > 2:
                raise Unreadable(Problem.UNREADABLE, tok.text)
            nxt = i + 1 if i + 1 < len(tokens) else None
            if nxt is not None and nxt + 1 < len(tokens) and (
                    tokens[nxt].value == "of" or (  # the 25th of December
                        tokens[nxt].value == "-" and tok.end == tokens[nxt].start
                        and tokens[nxt].end == tokens[nxt + 1].start  # 25-желтоқсан
                        and not (i > 0 and month_of(tokens[i - 1].value)))  # not Dec 25-Jan 3
                    ) and month_of(tokens[nxt + 1].value) is not None:
                nxt += 1
            prev = i - 1 if i > 0 else None
            if nxt is not None and tokens[nxt].kind == "word" and \
                    (month := month_of(tokens[nxt].value)) is not None:
                tokens[nxt].used = True
                dates.append(_Date(int(digits), month, None,
                                   f"{tok.text} {tokens[nxt].text}", i, last=nxt))
            elif prev is not None and tokens[prev].kind == "word" and not tokens[prev].used \
                    and (month := month_of(tokens[prev].value)) is not None:
                tokens[prev].used = True
                dates.append(_Date(int(digits), month, None,
                                   f"{tokens[prev].text} {tok.text}", prev, last=i))
            else:
                lone.append(i)
        elif tok.kind == "word":
            word = tok.value.rstrip(".")
            shift = None
            if word in TODAY_WORDS:
                shift = 0
            elif word in TOMORROW_WORDS:
                after = i >= 1 and tokens[i - 1].value == "after"
                shift = 2 if after else 1
            elif word in AFTER_TOMORROW_WORDS:
                shift = 2
            if shift is not None:
                day = today + timedelta(days=shift)
                dates.append(_Date(day.day, day.month, day.year, tok.text, i, exact=day))
                continue
            weekday = weekday_of(word)
            if weekday is not None:
                day = today + timedelta(days=(weekday - today.weekday()) % 7)
                dates.append(_Date(day.day, day.month, day.year, tok.text, i, exact=day,
                                   weekday=True))
    _attach_years(tokens, dates, years)
    _attach_lone_days(tokens, dates, lone)
    dates.sort(key=lambda d: d.at)
    if len(dates) > 1:
        dates = [d for d in dates if not d.weekday]  # "Friday, 25 December": the date counts
    return dates, times


def _attach_years(tokens: list[_Token], dates: list[_Date], years: list[int]) -> None:
    """A four-digit year belongs to the date just before it (25 декабря 2026 года) or,
    in Kazakh order, just after it (2026 жылғы 25 желтоқсан)."""
    for i in years:
        year = _int_value(tokens[i])
        before = next((d for d in dates if d.exact is None and d.year is None
                       and _ends_before(tokens, d, i)), None)
        if before is not None:
            before.year = year
            before.last = i
            if i + 1 < len(tokens) and tokens[i + 1].value.rstrip(".") in _YEAR_WORDS:
                before.last = i + 1
            continue
        after = _significant(tokens, i, 1)
        if after is not None and tokens[after].kind == "word" and \
                tokens[after].value.rstrip(".") in _YEAR_WORDS:
            after = _significant(tokens, after, 1)
        target = next((d for d in dates if d.exact is None and d.year is None
                       and d.at == after), None)
        if target is None:
            raise Unreadable(Problem.UNREADABLE, tokens[i].text)
        target.year = year


def _ends_before(tokens: list[_Token], item: _Date, i: int) -> bool:
    """Whether the date ``item`` ends right before token ``i`` (a comma allowed)."""
    j = i - 1
    if j >= 0 and tokens[j].kind == "int" and _int_value(tokens[j]) == item.day:
        return item.at in (j, j - 1)
    if j >= 0 and tokens[j].kind == "word" and month_of(tokens[j].value) == item.month:
        return item.at == j - 1
    return item.at == j


def _attach_lone_days(tokens: list[_Token], dates: list[_Date], lone: list[int]) -> None:
    """"25–30 декабря", "с 25 по 30 декабря": the first day takes the month of the date
    after it; "Dec 25-30": the last takes the month of the date before it."""
    for i in lone:
        day = _int_value(tokens[i])
        after = _significant(tokens, i, 1)
        before = _significant(tokens, i, -1)
        # only across a connector ("25 30 декабря", "25 декабря 10" stay unreadable)
        after = after if after is not None and after > i + 1 else None
        before = before if before is not None and before < i - 1 else None
        partner = next((d for d in dates if d.exact is None and after is not None
                        and d.at == after), None)
        if partner is not None:
            month, year = partner.month, partner.year
            if day > partner.day:  # 28–3 января: the start is in the month before
                month, year = (12, year - 1 if year else None) if month == 1 else \
                    (month - 1, year)
            dates.append(_Date(day, month, year, f"{tokens[i].text} {partner.piece}", i))
            continue
        partner = next((d for d in dates if d.exact is None and before is not None
                        and d.last == before), None)
        if partner is None:
            raise Unreadable(Problem.UNREADABLE, tokens[i].text)
        month, year = partner.month, partner.year
        if day < partner.day:  # Dec 25-3: the end is in the month after
            month, year = (1, year + 1 if year else None) if month == 12 else (month + 1, year)
        dates.append(_Date(day, month, year, tokens[i].text, i))


def _valid(item: _Date) -> bool:
    try:
        date(item.year or 2024, item.month, item.day)  # 2024 is a leap year: 29.02 exists
    except ValueError:
        return False
    return True


def _resolve(item: _Date, not_before: date) -> date:
    """A date without a year is its next occurrence on or after ``not_before``, unless it
    lies at most ``RECENT_PAST_DAYS`` before it (then it is that past day)."""
    if item.exact is not None:
        return item.exact
    if item.year is not None:
        return date(item.year, item.month, item.day)
    for year in range(not_before.year - 1, not_before.year + 5):
        try:
            candidate = date(year, item.month, item.day)
        except ValueError:
            continue  # 29 February
        if candidate >= not_before or (not_before - candidate).days <= RECENT_PAST_DAYS:
            return candidate
    raise Unreadable(Problem.INVALID, item.piece)


def _resolve_all(items: list[_Date], today: date, after: date | None) -> list[date]:
    out: list[date] = []
    anchor = after or today
    for item in items:
        if not _valid(item):
            raise Unreadable(Problem.INVALID, item.piece)
        resolved = _resolve(item, anchor)
        out.append(resolved)
        anchor = max(anchor, resolved)
    return out


# --- public --------------------------------------------------------------------------


def parse_dates(text: str, today: date, after: date | None = None,
                limit: int | None = None) -> list[date]:
    """Every date in ``text`` in order, each year-less one on or after the one before it
    (the first on or after ``after``, default ``today``). Raises :class:`Unreadable`."""
    items, times = _scan(text or "", today)
    if times:
        raise Unreadable(Problem.UNREADABLE, times[0].text)
    if not items:
        raise Unreadable(Problem.NONE_FOUND)
    if limit is not None and len(items) > limit:
        raise Unreadable(Problem.TOO_MANY, items[limit].piece)
    return _resolve_all(items, today, after)


def parse_date(text: str, today: date, after: date | None = None) -> date:
    """The one date in ``text``."""
    return parse_dates(text, today, after, limit=1)[0]


def parse_time(text: str) -> tuple[int, int] | None:
    """The one time of day in ``text`` (10:00, 9.30, 3pm), or None if there is none."""
    found = [t for t in _tokens(text[:MAX_INPUT]) if t.kind in ("time", "ampm")]
    if not found:
        dotted = [t for t in _tokens(text[:MAX_INPUT]) if t.kind == "num"
                  and re.fullmatch(r"\d{1,2}\.\d{2}", t.value)]
        found = dotted
    if len(found) > 1:
        raise Unreadable(Problem.TOO_MANY, found[1].text)
    if not found:
        return None
    hour, minute = _clock(found[0])
    return hour, minute


def parse_moment(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """A date and a time of day in ``tz`` → an aware UTC datetime, not in the past.

    A time alone is its next occurrence (today, else tomorrow); a weekday whose time has
    passed today is next week's."""
    local_now = now.astimezone(tz)
    items, times = _scan(text or "", local_now.date())
    if not times:
        dotted = [d for d in items if d.clock is not None]
        if dotted and (len(items) > 1 or not _valid(dotted[-1])):
            chosen = dotted[-1]
            items.remove(chosen)
            clock = chosen.clock
        elif items:
            raise Unreadable(Problem.NO_TIME)
        else:
            raise Unreadable(Problem.NONE_FOUND)
    elif len(times) > 1:
        raise Unreadable(Problem.TOO_MANY, times[1].text)
    else:
        clock = _clock(times[0])
    assert clock is not None
    if len(items) > 1:
        raise Unreadable(Problem.TOO_MANY, items[1].piece)
    wanted = time(*clock)
    if not items:
        moment = datetime.combine(local_now.date(), wanted, tz)
        if moment <= now:
            moment += timedelta(days=1)
        return moment.astimezone(UTC)
    [item] = items
    day = _resolve_all([item], local_now.date(), None)[0]
    moment = datetime.combine(day, wanted, tz)
    if item.weekday and moment <= now:
        moment = datetime.combine(day + timedelta(days=7), wanted, tz)
    if moment < now - timedelta(minutes=1):
        raise Unreadable(Problem.PASSED, item.piece)
    return moment.astimezone(UTC)


def refusal(error: Unreadable, kind: Kind) -> str:
    """What to tell the person, as HTML, with an example in their language (the current
    one)."""
    piece = quote(error.piece.strip()[:40])
    if kind == "date":
        texts = {
            Problem.NONE_FOUND: _("I could not find a date there. Please write it like "
                                  "25.12, 25 December or 2026-12-25."),
            Problem.INVALID: _("There is no such date as “{piece}”. Please check the day and "
                               "month, for example 25.12 or 25 December."),
            Problem.UNREADABLE: _("I could not read “{piece}” as a date. Please write it like "
                                  "25.12, 25 December or 2026-12-25."),
            Problem.TOO_MANY: _("Please send at most two dates, when you leave and when you "
                                "come back, for example 25–30 December."),
            Problem.PASSED: _("That date has already passed. Please give the dates of a "
                              "coming trip."),
            Problem.NO_TIME: _("I could not find a date there. Please write it like "
                               "25.12, 25 December or 2026-12-25."),
        }
    else:
        texts = {
            Problem.NONE_FOUND: _("I did not understand the time. Type, for example, "
                                  "“25.12.2026 10:00”, “tomorrow 9:30” or “every Monday "
                                  "10:00”."),
            Problem.INVALID: _("There is no such date or time as “{piece}”. Type, for example, "
                               "“25 December 10:00” or “25.12 10:00”."),
            Problem.UNREADABLE: _("I could not read “{piece}” as a date. Type, for example, "
                                  "“25 December 10:00”, “25.12 10:00” or “tomorrow 9:30”."),
            Problem.NO_TIME: _("Add the time of day, for example “25 December 10:00”."),
            Problem.TOO_MANY: _("Please give one date and one time, for example "
                                "“25 December 10:00”."),
            Problem.PASSED: _("That time has already passed. Choose a later one."),
        }
    return texts[error.problem].format(piece=piece)
