"""Languages in the bot: aiogram's i18n as a view of :mod:`bot.shared.translation`.

:class:`SharedI18n` is the aiogram ``I18n`` handlers use (``gettext``, ``lazy_gettext``,
``current_locale``), over the one loader and the one current language of
:mod:`bot.shared.translation` that the services use: there is one gettext, not two kept in step.

One chain decides the language a person reads (:func:`pick_language`): the one they chose
with /language → the one their Telegram reports → ``DEFAULT_LANGUAGE``. In an update,
:class:`bot.shared.middlewares.LocaleMiddleware` applies it, for handlers and services at
once. For a message the bot writes first (a notice, a report, a reminder, an alert, a
digest), :func:`reader_language` applies it to the person's stored row;
``ChosenLanguageMiddleware`` keeps that row's Telegram language up to date.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Generator, Iterator
from contextlib import contextmanager

from aiogram.utils.i18n import I18n  # not on the answering path: bot.py ask never imports this
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES
from bot.shared.translation import (
    DOMAIN,
    LOCALES_DIR,
    catalogs,
    current_language,
    set_language,
    use_language,
)
from storage.users import UserRepo


class SharedI18n(I18n):
    """aiogram's I18n over :mod:`bot.shared.translation`: its catalogs, its language."""

    def find_locales(self) -> dict[str, _gettext.GNUTranslations]:
        return dict(catalogs(self.path))

    @property
    def current_locale(self) -> str:
        return current_language() or self.default_locale

    @current_locale.setter
    def current_locale(self, value: str) -> None:
        set_language(value)

    @contextmanager
    def use_locale(self, locale: str) -> Generator[None, None, None]:
        with use_language(locale):
            yield

    @contextmanager
    def context(self) -> Generator[I18n, None, None]:
        # aiogram's gettext and lazy_gettext look in I18n's slot, not in a subclass's own
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def create_i18n(default_language: str) -> I18n:
    """The running bot's I18n (catalogs missing: :class:`~bot.errors.StartupError`)."""
    return SharedI18n(path=LOCALES_DIR, default_locale=default_language, domain=DOMAIN)


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
    with i18n.context(), i18n.use_locale(lang):
        yield
