"""Gettext for the services, without Telegram: the catalogs, the current language, Babel formats.

The services (answers, cards, screens) run both inside the bot and in ``bot.py ask``; they
import only this module, so answering a question never loads the Telegram framework. Inside
an update the locale middleware sets the language here as well as in aiogram's i18n, from
the same compiled catalogs, so both read the same translation.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from bot.config import LANGUAGES
from bot.errors import StartupError

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
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


@lru_cache(maxsize=4)
def catalogs(path: Path = LOCALES_DIR) -> dict[str, _gettext.GNUTranslations]:
    check_catalogs(path)
    out = {}
    for lang in LANGUAGES:
        with open(path / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
            out[lang] = _gettext.GNUTranslations(f)
    return out


def current_language() -> str | None:
    return _language.get()


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


def fmt_date(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    return format_date(moment.astimezone(tz), format="long", locale=lang)


def fmt_datetime(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    return format_datetime(moment.astimezone(tz), format="medium", tzinfo=tz, locale=lang)


def fmt_number(value: float | int, lang: str) -> str:
    return format_decimal(value, locale=lang)
