"""Advice that says what changed: a country's past alerts, from the button on its card."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n

from bot.answers.store import ContentStore
from bot.config import Settings
from bot.shared.middlewares import UnitOfWork
from bot.travel import advice
from bot.travel.callbacks import AlertArchive
from handlers.ui import show


async def known_country(_: CallbackQuery, callback_data: AlertArchive,
                        store: ContentStore) -> bool:
    return callback_data.iso.upper() in store.countries


async def open_archive(query: CallbackQuery, callback_data: AlertArchive, store: ContentStore,
                       settings: Settings, i18n: I18n, uow: UnitOfWork) -> None:
    iso, lang = callback_data.iso.upper(), i18n.current_locale
    screen = await advice.archive(uow.session, iso, store.country_name(iso, lang),
                                  callback_data.page, lang, settings.tz)
    await uow.release()
    await show(query, screen)
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(open_archive, AlertArchive.filter(), known_country)
    return router
