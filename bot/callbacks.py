"""Callback data of every inline button. Anything that does not unpack is stale or forged."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class Screen(StrEnum):
    MAIN = "main"
    CONSULAR = "consular"
    ABOUT = "about"
    COUNTRIES = "countries"
    LANGUAGE = "lang"
    HELP = "help"
    CONTACT = "contact"


class Nav(CallbackData, prefix="n"):
    screen: Screen
    page: int = 0


class TopicCard(CallbackData, prefix="t"):
    slug: str
    iso: str = ""


class CountryCard(CallbackData, prefix="c"):
    iso: str


class SetLanguage(CallbackData, prefix="l"):
    code: str
