"""The right mission: "Where are you?" buttons on a several-mission country's card."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n

from bot.answers.cards import country_card
from bot.answers.store import ContentStore
from bot.config import Settings
from bot.places.callbacks import MissionCard
from bot.travel.alert_board import Board
from handlers.ui import show


async def known_mission(_: CallbackQuery, callback_data: MissionCard,
                        store: ContentStore) -> bool:
    country = store.countries.get(callback_data.mission[:2].upper())
    return country is not None and any(m.id == callback_data.mission for m in country.missions)


async def open_mission(query: CallbackQuery, callback_data: MissionCard, store: ContentStore,
                       settings: Settings, i18n: I18n, alert_board: Board) -> None:
    iso = callback_data.mission[:2].upper()
    await show(query, country_card(store, iso, i18n.current_locale, settings.tz,
                                   callback_data.mission, board=alert_board))
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(open_mission, MissionCard.filter(), known_mission)
    return router
