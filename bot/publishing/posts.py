"""Posts without Telegram: validation, what each audience receives, and when it is sent.

What a post looks like to each audience is :mod:`bot.publishing.render`'s, for the editor's
preview and for delivery alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES
from bot.publishing.render import SKIP
from bot.shared import tghtml, when
from bot.shared.translation import fmt_number

BUTTON_LABEL_LIMIT = 64
MAX_BUTTONS = 8


class Publisher(Protocol):
    """The publishing backend (bot/publishing/publisher.py), as the editors' UI uses it."""

    async def schedule(self, post_id: int, *, recorded: bool = False) -> None: ...
    async def unschedule(self, post_id: int, *, recorded: bool = False) -> None: ...
    async def edit_published(self, post_id: int) -> tuple[int, int]: ...
    async def report(self, post_id: int, lang: str) -> str: ...


def language_name(lang: str) -> str:
    return {"kk": _("Kazakh"), "ru": _("Russian"), "en": _("English")}[lang]


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

REPEAT_WORDS = {"every", "each", "weekly", "сайын", "апта", "каждый", "каждую", "каждое",
                "каждые", "по", "еженедельно"}
DAILY_WORDS = {"day", "daily", "күн", "день", "ежедневно"}
NOW = {"now", "сейчас", "қазір"}


@dataclass(frozen=True)
class When:
    send_at: datetime | None  # UTC; None means now
    repeat: dict[str, Any] | None = None


class WhenError(ValueError):
    """The text is not a time we understand; the message says what to type."""


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
    """"now", a date and time in ``tz`` (read by :mod:`bot.shared.when`), or a weekly
    rule such as "every Monday 10:00"."""
    lowered = text.strip().lower()
    words = re.findall(r"[^\W\d_]+", lowered)
    try:
        clock = when.parse_time(lowered)
        if set(words) & NOW and clock is None:
            return When(None)
        days = sorted({d for w in words if (d := when.weekday_of(w)) is not None})
        repeating = bool(set(words) & REPEAT_WORDS) or any(w.startswith("кажд") for w in words)
        if repeating and (days or set(words) & DAILY_WORDS):
            if clock is None:
                raise WhenError(_("Add the time of day, for example “every Monday 10:00”."))
            rule = {"weekdays": days or list(range(7)), "time": f"{clock[0]:02d}:{clock[1]:02d}"}
            return When(next_occurrence(rule, tz, now), rule)
        return When(when.parse_moment(text, tz, now))
    except when.Unreadable as exc:
        raise WhenError(when.refusal(exc, "moment")) from exc
