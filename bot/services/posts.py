"""Posts without Telegram: validation, what each audience receives, and when it is sent.

The same :func:`build` output is used for the editor's preview and for delivery, so the
preview is what recipients will see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES
from bot.i18n import fmt_number
from bot.services import tghtml

BUTTON_LABEL_LIMIT = 64
MAX_BUTTONS = 8
SKIP = "skip"


class Publisher(Protocol):
    """The publishing backend (bot/services/publishing.py), as the editors' UI uses it."""

    async def schedule(self, post_id: int) -> None: ...
    async def unschedule(self, post_id: int) -> None: ...
    async def edit_published(self, post_id: int) -> tuple[int, int]: ...
    async def report(self, post_id: int, lang: str) -> str: ...


def language_name(lang: str) -> str:
    return {"kk": _("Kazakh"), "ru": _("Russian"), "en": _("English")}[lang]


@dataclass(frozen=True)
class LinkButton:
    label: str
    url: str


@dataclass(frozen=True)
class Rendered:
    """One language of a post as a recipient gets it."""

    lang: str
    html: str
    media: dict[str, Any] | None
    buttons: list[LinkButton] = field(default_factory=list)


def build(post: dict[str, Any], lang: str) -> Rendered | None:
    """What an audience of ``lang`` receives (after its fallback), or None to skip it."""
    texts: dict[str, str] = post.get("texts") or {}
    source = lang
    if not texts.get(lang):
        choice = (post.get("fallbacks") or {}).get(lang, SKIP)
        if choice == SKIP or not texts.get(choice):
            return None
        source = choice
    rows = (post.get("buttons") or {}).get("rows", [])
    buttons = [LinkButton(row["labels"].get(source) or next(iter(row["labels"].values())),
                          row["url"]) for row in rows]
    return Rendered(source, texts[source], post.get("media"), buttons)


def audiences(targets: dict[str, Any]) -> set[str]:
    """Languages some target may receive: channels and groups publish in any of them."""
    langs = set(targets.get("citizens") or [])
    if targets.get("channels") or targets.get("groups"):
        langs |= set(LANGUAGES)
    return langs


def missing_languages(post: dict[str, Any]) -> list[str]:
    texts = post.get("texts") or {}
    wanted = audiences(post.get("targets") or {})
    return [lang for lang in LANGUAGES if lang in wanted and not texts.get(lang)]


# --- validation ----------------------------------------------------------------------


def text_errors(markup: str, lang: str, with_media: bool) -> list[str]:
    try:
        length = tghtml.plain_length(markup)
    except tghtml.TelegramHTMLError as exc:
        return [_("The {language} text has formatting Telegram does not accept ({reason}). "
                  "Send it again as plain or formatted text.").format(
                      language=language_name(lang), reason=tghtml.quote(str(exc)))]
    limit = tghtml.CAPTION_LIMIT if with_media else tghtml.MESSAGE_LIMIT
    if length == 0:
        return [_("The {language} text is empty.").format(language=language_name(lang))]
    if length <= limit:
        return []
    current = fmt_number(length, _current_lang())
    if with_media:
        return [_("The {language} text is {length} characters; the limit for a caption under a "
                  "photo or document is {limit}. Shorten it or remove the attachment.").format(
                      language=language_name(lang), length=current,
                      limit=fmt_number(limit, _current_lang()))]
    return [_("The {language} text is {length} characters; the limit is {limit}.").format(
        language=language_name(lang), length=current, limit=fmt_number(limit, _current_lang()))]


def _current_lang() -> str:
    from aiogram.utils.i18n import get_i18n

    try:
        return get_i18n().current_locale
    except LookupError:
        return "en"


def button_errors(url: str, labels: dict[str, str]) -> list[str]:
    errors = []
    if not re.fullmatch(r"https://[^\s/$.?#][^\s]*", url):
        errors.append(_("A button link must start with https:// ({url}).").format(
            url=tghtml.quote(url[:80])))
    for lang, label in labels.items():
        if not label.strip():
            errors.append(_("The {language} label of a button is empty.").format(
                language=language_name(lang)))
        elif len(label) > BUTTON_LABEL_LIMIT:
            errors.append(_("The {language} label of a button is longer than {limit} "
                            "characters.").format(language=language_name(lang),
                                                  limit=BUTTON_LABEL_LIMIT))
    return errors


def validate(post: dict[str, Any], now: datetime) -> list[str]:
    """Everything that stops a post from being scheduled, each saying what to fix."""
    texts: dict[str, str] = post.get("texts") or {}
    with_media = bool(post.get("media"))
    errors: list[str] = []
    if not any(texts.values()):
        errors.append(_("The post has no text in any language."))
    for lang in LANGUAGES:
        if texts.get(lang):
            errors.extend(text_errors(texts[lang], lang, with_media))
    for row in (post.get("buttons") or {}).get("rows", []):
        errors.extend(button_errors(row["url"], row["labels"]))
    targets = post.get("targets") or {}
    if not (targets.get("channels") or targets.get("groups") or targets.get("citizens")):
        errors.append(_("Choose at least one audience: channels, groups or citizens."))
    fallbacks = post.get("fallbacks") or {}
    for lang in missing_languages(post):
        choice = fallbacks.get(lang)
        if choice is None:
            errors.append(_("There is no {language} text: choose to skip that audience or to "
                            "send it another language.").format(language=language_name(lang)))
        elif choice != SKIP and not texts.get(choice):
            errors.append(_("The {language} audience is to get the {other} text, which is "
                            "empty.").format(language=language_name(lang),
                                             other=language_name(choice)))
    send_at = post.get("send_at")
    if send_at is not None and not post.get("repeat") and send_at < now - timedelta(minutes=1):
        errors.append(_("The sending time has already passed: choose a later one."))
    return errors


# --- when ----------------------------------------------------------------------------

WEEKDAYS: dict[str, int] = {
    "mon": 0, "monday": 0, "mondays": 0, "tue": 1, "tues": 1, "tuesday": 1, "tuesdays": 1,
    "wed": 2, "wednesday": 2, "wednesdays": 2, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "thursdays": 3, "fri": 4, "friday": 4, "fridays": 4, "sat": 5, "saturday": 5,
    "saturdays": 5, "sun": 6, "sunday": 6, "sundays": 6,
    "пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 5, "вс": 6,
    "дүйсенбі": 0, "сейсенбі": 1, "сәрсенбі": 2, "бейсенбі": 3, "жұма": 4, "сенбі": 5,
    "жексенбі": 6,
}
RU_STEMS = (("понедельн", 0), ("вторн", 1), ("сред", 2), ("четверг", 3), ("пятниц", 4),
            ("суббот", 5), ("воскресен", 6))
REPEAT_WORDS = {"every", "each", "weekly", "сайын", "апта", "каждый", "каждую", "каждое",
                "каждые", "по", "еженедельно"}
DAILY_WORDS = {"day", "daily", "күн", "день", "ежедневно"}
TODAY = {"today", "сегодня", "бүгін"}
TOMORROW = {"tomorrow", "завтра", "ертең"}
NOW = {"now", "сейчас", "қазір"}
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\b")
_COLON_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_FULL_DATE = re.compile(r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b")
_DATE_FORMS = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})[./](?P<m>\d{1,2})(?:[./](?P<y>\d{2,4}))?\b"),
)


@dataclass(frozen=True)
class When:
    send_at: datetime | None  # UTC; None means now
    repeat: dict[str, Any] | None = None


class WhenError(ValueError):
    """The text is not a time we understand; the message says what to type."""


def _weekday(word: str) -> int | None:
    if word in WEEKDAYS:
        return WEEKDAYS[word]
    for stem, day in RU_STEMS:
        if word.startswith(stem):
            return day
    return None


def next_occurrence(repeat: dict[str, Any], tz: ZoneInfo, now: datetime) -> datetime:
    hour, minute = (int(x) for x in repeat["time"].split(":"))
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        moment = datetime.combine(day, time(hour, minute), tz)
        if day.weekday() in repeat["weekdays"] and moment > now:
            return moment.astimezone(ZoneInfo("UTC"))
    raise AssertionError("a weekly rule always falls within eight days")


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> When:
    """"now", a date and time in ``tz`` in common forms, or a weekly rule."""
    lowered = text.strip().lower()
    words = re.findall(r"[^\W\d_]+", lowered)
    if set(words) & NOW and not _find_time(lowered):
        return When(None)
    clock = _find_time(lowered)
    days = sorted({d for w in words if (d := _weekday(w)) is not None})
    repeating = bool(set(words) & REPEAT_WORDS) or any(w.startswith("кажд") for w in words)
    if repeating and (days or set(words) & DAILY_WORDS):
        if clock is None:
            raise WhenError(_("Add the time of day, for example “every Monday 10:00”."))
        rule = {"weekdays": days or list(range(7)),
                "time": f"{int(clock.group(1)):02d}:{clock.group(2)}"}
        return When(next_occurrence(rule, tz, now), rule)
    if clock is None:
        raise WhenError(_("I did not understand the time. Type, for example, “25.12.2026 10:00”, "
                          "“tomorrow 9:30” or “every Monday 10:00”."))
    wanted = time(int(clock.group(1)), int(clock.group(2)))
    local_now = now.astimezone(tz)
    day = _date_in(lowered[:clock.start()] + " " + lowered[clock.end():], words, local_now.date())
    moment = datetime.combine(day, wanted, tz)
    if day == local_now.date() and moment <= now and not set(words) & TODAY and \
            not _has_date(lowered):
        moment += timedelta(days=1)
    if moment < now - timedelta(minutes=1):
        raise WhenError(_("That time has already passed. Choose a later one."))
    return When(moment.astimezone(ZoneInfo("UTC")))


def _find_time(text: str) -> re.Match[str] | None:
    """A time of day: "10:00" first; "9.30" only where it is not part of a date."""
    found = _COLON_TIME.search(text)
    if found:
        return found
    masked = _FULL_DATE.sub(lambda m: " " * len(m.group()), text)
    return _TIME.search(masked)


def _has_date(text: str) -> bool:
    return any(form.search(_TIME.sub(" ", text)) for form in _DATE_FORMS)


def _date_in(text: str, words: list[str], today: date) -> date:
    if set(words) & TOMORROW:
        return today + timedelta(days=1)
    for form in _DATE_FORMS:
        found = form.search(text)
        if found:
            year = found.group("y")
            y = today.year if year is None else int(year) + (2000 if len(year) == 2 else 0)
            try:
                result = date(y, int(found.group("m")), int(found.group("d")))
            except ValueError as exc:
                raise WhenError(_("There is no such date. Type it as day.month.year, "
                                  "for example “25.12.2026 10:00”.")) from exc
            if year is None and result < today:
                result = result.replace(year=today.year + 1)
            return result
    return today
