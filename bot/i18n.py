"""Languages: the gettext catalogs, the one place a person's locale is chosen, Babel formats."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from bot.config import LANGUAGES
from bot.errors import StartupError

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


class CatalogsMissing(StartupError):
    pass


def create_i18n(default_language: str) -> I18n:
    missing = [lang for lang in LANGUAGES
               if not (LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()]
    if missing:
        raise CatalogsMissing(
            f"compiled catalogs missing for {', '.join(missing)}: run `make i18n-compile`"
        )
    return I18n(path=LOCALES_DIR, default_locale=default_language, domain=DOMAIN)


def language_from_telegram(code: str | None, default: str) -> str:
    """Telegram's ``language_code`` → kk, ru, else en (no code at all → the default)."""
    if not code:
        return default
    base = code.split("-")[0].lower()
    return base if base in ("kk", "ru") else "en"


class LocaleMiddleware(I18nMiddleware):
    """The language the person chose → Telegram's ``language_code`` → the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chosen = data.get("chosen_language")
        if chosen in LANGUAGES:
            return str(chosen)
        user: User | None = data.get("event_from_user")
        return language_from_telegram(user.language_code if user else None, self.i18n.default_locale)


@contextmanager
def locale(i18n: I18n, lang: str) -> Iterator[None]:
    """Render outside an update (CLI, jobs) or in another language than the person's."""
    with i18n.context(), i18n.use_locale(lang):
        yield


def fmt_date(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    return format_date(moment.astimezone(tz), format="long", locale=lang)


def fmt_datetime(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    return format_datetime(moment.astimezone(tz), format="medium", tzinfo=tz, locale=lang)


def fmt_number(value: float | int, lang: str) -> str:
    return format_decimal(value, locale=lang)
