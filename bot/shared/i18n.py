"""Languages in the bot: aiogram's i18n wired to the same catalogs as bot.shared.translation.

One chain decides the language a person reads (:func:`pick_language`): the one they chose
with /language → the one their Telegram reports → ``DEFAULT_LANGUAGE``. In an update,
:class:`bot.shared.middlewares.LocaleMiddleware` applies it, for aiogram's ``gettext`` (used in
handlers) and for :mod:`bot.shared.translation` (used in the services) at once. For a message the
bot writes first (a notice, a report, a reminder, an alert, a digest),
:func:`reader_language` applies it to the person's stored row; ``ChosenLanguageMiddleware``
keeps that row's Telegram language up to date.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES
from bot.shared.translation import DOMAIN, LOCALES_DIR, check_catalogs, use_language
from storage.users import UserRepo

if TYPE_CHECKING:  # the services render with it; only the running bot loads aiogram
    from aiogram.utils.i18n import I18n


def create_i18n(default_language: str) -> I18n:
    from aiogram.utils.i18n import I18n

    check_catalogs(LOCALES_DIR)
    return I18n(path=LOCALES_DIR, default_locale=default_language, domain=DOMAIN)


def language_from_telegram(code: str | None, default: str) -> str:
    """Telegram's ``language_code`` → kk, ru, else en (no code at all → the default)."""
    if not code:
        return default
    base = code.split("-")[0].lower()
    return base if base in ("kk", "ru") else "en"


def pick_language(chosen: str | None, telegram: str | None, default: str) -> str:
    """The language a person reads: chosen → Telegram's → the default."""
    for lang in (chosen, telegram):
        if lang in LANGUAGES:
            return str(lang)
    return default


async def reader_language(session: AsyncSession, user_id: int, default: str) -> str:
    """Which language person ``user_id`` reads, from their stored row (one query).

    Use it for every message the bot writes to someone first; ``default`` is
    ``settings.default_language`` (or ``i18n.default_locale``).
    """
    return pick_language(await UserRepo(session).reads(user_id), None, default)


@contextmanager
def locale(i18n: I18n, lang: str) -> Iterator[None]:
    """Render outside an update (jobs, broadcasts) or in another language than the person's."""
    with i18n.context(), i18n.use_locale(lang), use_language(lang):
        yield
