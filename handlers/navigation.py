"""Menu navigation by inline buttons: every press edits the message it was pressed on."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n

from bot.answers.callbacks import CountryCard, TopicCard
from bot.answers.cards import country_card, topic_card
from bot.answers.content import Section
from bot.answers.store import ContentStore
from bot.config import Settings
from bot.navigation import screens
from bot.navigation.callbacks import Nav, Screen
from bot.shared.render import Button, Screenful
from bot.travel.alert_board import Board
from handlers.ui import show


async def known_topic(_: CallbackQuery, callback_data: TopicCard, store: ContentStore) -> bool:
    return callback_data.slug in store.topics


async def known_country(_: CallbackQuery, callback_data: CountryCard, store: ContentStore) -> bool:
    return callback_data.iso.upper() in store.countries


def _screen(store: ContentStore, nav: Nav, lang: str) -> Screenful:
    match nav.screen:
        case Screen.CONSULAR:
            return screens.topic_list(store, Section.CONSULAR, nav.page, lang)
        case Screen.ABOUT:
            return screens.topic_list(store, Section.ABOUT, nav.page, lang)
        case Screen.COUNTRIES:
            return screens.country_list(store, nav.page, lang)
        case Screen.LANGUAGE:
            return screens.language_screen()
        case Screen.HELP:
            return screens.help_screen()
        case Screen.CONTACT:
            return screens.contact_screen()
        case _:
            return screens.main_menu()


async def navigate(
    query: CallbackQuery, callback_data: Nav, store: ContentStore, i18n: I18n
) -> None:
    await show(query, _screen(store, callback_data, i18n.current_locale))
    await query.answer()


async def open_topic(query: CallbackQuery, callback_data: TopicCard, store: ContentStore,
                     settings: Settings, i18n: I18n) -> None:
    slug, iso = callback_data.slug, callback_data.iso.upper()
    lang = i18n.current_locale
    back = None
    if iso in store.countries:
        back = Button("⬅️ " + store.country_name(iso, lang), CountryCard(iso=iso).pack())
    await show(query, topic_card(store, slug, lang, settings.tz,
                                 iso if iso in store.countries else None, back=back))
    await query.answer()


async def open_country(query: CallbackQuery, callback_data: CountryCard, store: ContentStore,
                       settings: Settings, i18n: I18n, alert_board: Board) -> None:
    iso = callback_data.iso.upper()
    await show(query, country_card(store, iso, i18n.current_locale, settings.tz,
                                   board=alert_board))
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(navigate, Nav.filter())
    router.callback_query.register(open_topic, TopicCard.filter(), known_topic)
    router.callback_query.register(open_country, CountryCard.filter(), known_country)
    return router
