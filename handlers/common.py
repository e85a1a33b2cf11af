"""Commands every person has: /start (with deep links), /menu, /help, /language, /cancel."""

from __future__ import annotations

import re

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.cards import country_card, topic_card
from bot.answers.store import ContentStore
from bot.config import Settings
from bot.navigation import commands, screens
from bot.navigation.callbacks import SetLanguage
from bot.shared.i18n import locale
from bot.shared.middlewares import LanguageCache, UnitOfWork
from bot.shared.render import Button, Screenful
from bot.travel.alert_board import Board
from handlers.ui import send, show

DEEP_LINK = re.compile(r"^(topic|country)_([A-Za-z0-9-]{1,40})$")


def _greeting() -> str:
    return _("Hello! I am the digital assistant of Kazakhstan's embassies and consulates. "
             "I answer questions about passports, visas, consular registration and help abroad, "
             "and I know the countries our citizens travel to.")


def _with_language_offer(screen: Screenful, current: str) -> Screenful:
    offer = [Button(name, SetLanguage(code=code).pack())
             for code, name in screens.LANGUAGE_BUTTONS.items() if code != current]
    return Screenful(screen.html, [*screen.buttons, offer])


async def start(message: Message, command: CommandObject, i18n: I18n, store: ContentStore,
                settings: Settings, state: FSMContext, alert_board: Board) -> None:
    await state.clear()
    lang = i18n.current_locale
    match = DEEP_LINK.match(command.args or "")
    if match:
        kind, key = match.groups()
        if kind == "topic" and key in store.topics:
            await send(message, topic_card(store, key, lang, settings.tz))
            return
        if kind == "country" and key.upper() in store.countries:
            await send(message, country_card(store, key.upper(), lang, settings.tz,
                                             board=alert_board))
            return
    greeting = _greeting()
    if command.args:
        greeting += "\n\n" + _("The link you followed is out of date, so here is the menu.")
    await send(message, _with_language_offer(screens.main_menu(greeting), lang))


async def menu(message: Message, state: FSMContext) -> None:
    await state.clear()
    await send(message, screens.main_menu())


async def help_(message: Message, bot: Bot, uow: UnitOfWork, settings: Settings) -> None:
    uid = message.from_user.id if message.from_user else message.chat.id
    role, operator = await commands.help_for(bot, uow.session, settings, uid)
    await send(message, screens.help_screen(role, operator))


async def language(message: Message) -> None:
    await send(message, screens.language_screen())


async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        text = _("There is nothing to cancel. Here is the menu.")
    else:
        await state.clear()
        text = _("Cancelled. Here is the menu.")
    await send(message, screens.main_menu(text))


async def set_language(query: CallbackQuery, callback_data: SetLanguage, uow: UnitOfWork,
                       lang_cache: LanguageCache, i18n: I18n, bot: Bot,
                       settings: Settings) -> None:
    code = callback_data.code
    await uow.users.set_language(query.from_user.id, code)
    lang_cache.put(query.from_user.id, code)
    menu = await commands.menu_of(uow.session, settings, query.from_user.id)
    if menu.role is not None:  # staff have their own menu, in the language they read
        await commands.apply_menu(bot, i18n, menu)
    # Both gettexts: aiogram's (this handler) and bot.shared.translation's (the screens).
    with locale(i18n, code):
        await query.answer(_("Language changed."))
        await show(query, screens.main_menu(_("I will now speak English with you.")))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.message.register(menu, Command("menu"))
    router.message.register(help_, Command("help"))
    router.message.register(language, Command("language"))
    router.message.register(cancel, Command("cancel"))
    router.callback_query.register(set_language, SetLanguage.filter())
    return router
