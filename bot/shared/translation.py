"""The one gettext, without Telegram: the catalogs, the current language, Babel formats.

The services (answers, cards, screens) run both inside the bot and in ``bot.py ask``; they
import only this module, so answering a question never loads the Telegram framework. The
running bot's aiogram ``I18n`` (:func:`bot.shared.i18n.create_i18n`) is a view of this
module: its catalogs are :func:`catalogs` and its current locale is :func:`current_language`,
so handlers (aiogram's ``gettext``) and services read one translation in one language.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from bot.config import LANGUAGES
from bot.errors import StartupError

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"

_language: ContextVar[str | None] = ContextVar("embassy_language", default=None)


class CatalogsMissing(StartupError):
    pass


def check_catalogs(path: Path = LOCALES_DIR) -> None:
    missing = [lang for lang in LANGUAGES
               if not (path / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()]
    if missing:
        raise CatalogsMissing(
            f"compiled catalogs missing for {', '.join(missing)}: run `make i18n-compile`"
        )


def catalogs(path: Path = LOCALES_DIR) -> dict[str, _gettext.GNUTranslations]:
    """The compiled catalogs, loaded once per directory for the whole process."""
    return _load(path.resolve())


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, _gettext.GNUTranslations]:
    check_catalogs(path)
    out = {}
    for lang in LANGUAGES:
        with open(path / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
            out[lang] = _gettext.GNUTranslations(f)
    return out


def current_language() -> str | None:
    return _language.get()


def set_language(lang: str) -> None:
    """The current language from here on, in this context (prefer :func:`use_language`)."""
    _language.set(lang)


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    token = _language.set(lang)
    try:
        yield
    finally:
        _language.reset(token)


def gettext(message: str) -> str:
    lang = _language.get()
    if lang is None:
        return message
    return catalogs()[lang].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    lang = _language.get()
    if lang is None:
        return singular if n == 1 else plural
    return catalogs()[lang].ngettext(singular, plural, n)


_ = gettext


# One display style for dates and times: the month's full name, the day without a leading
# zero, the time as HH:MM with no seconds. Babel's Kazakh "2026 ж. 2 желтоқсан" reads as an
# abbreviation; a Kazakh writes "2026 жылғы 2 желтоқсан".
_DATE_PATTERNS = {"kk": "y 'жылғы' d MMMM", "ru": "d MMMM y 'г'.", "en": "d MMMM y"}
_TIME_PATTERN = "HH:mm"


def fmt_date(moment: datetime | date, lang: str, tz: ZoneInfo) -> str:
    """A day as a person reads it: "2026 жылғы 25 желтоқсан", "25 декабря 2026 г.",
    "25 December 2026" (a datetime is first moved into ``tz``)."""
    day = moment.astimezone(tz).date() if isinstance(moment, datetime) else moment
    return format_date(day, _DATE_PATTERNS.get(lang, _DATE_PATTERNS["en"]), locale=lang)


def fmt_time(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    return format_time(moment.astimezone(tz), _TIME_PATTERN, tzinfo=tz, locale=lang)


def fmt_datetime(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    """"2026 жылғы 25 желтоқсан, 10:00", "25 декабря 2026 г., 10:00",
    "25 December 2026, 10:00": the time in ``tz``, without seconds."""
    return f"{fmt_date(moment, lang, tz)}, {fmt_time(moment, lang, tz)}"


def fmt_number(value: float | int, lang: str) -> str:
    return format_decimal(value, locale=lang)
