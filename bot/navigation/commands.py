"""Which commands each person has: one list by role, for /help and for the command menu.

Citizens' commands are everyone's; editors add theirs, administrators theirs; consular
operators have theirs in the operators' group. /help (bot/navigation/screens.py) and the menus
set with setMyCommands (:func:`refresh_menu`, :func:`set_menus`) read the same lists, so
the two cannot drift apart.

Menus: the citizens' list for all private chats in each language; each editor and
administrator gets their own list in the language they read (``BotCommandScopeChat``),
set at start-up and again when /editors grants or removes the role; the operators' group
gets the operators' list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LANGUAGES, Settings
from bot.shared.i18n import locale, reader_language
from bot.shared.roles import role_of
from bot.shared.translation import gettext as _
from storage.roles import ADMIN, EDITOR, RoleRepo
from storage.users import UserRepo

log = logging.getLogger(__name__)


def citizen_commands() -> list[tuple[str, str]]:
    """(command, description) in the current language."""
    return [
        ("menu", _("Main menu")),
        ("trip", _("Register a trip")),
        ("mytrips", _("My trips")),
        ("alerts", _("Countries whose alerts I follow")),
        ("officer", _("Ask a consular officer")),
        ("case", _("The status of my application")),
        ("book", _("Book a visit to a mission")),
        ("appointments", _("My appointments")),
        ("subscribe", _("Subscribe to the ministry's news")),
        ("my_data", _("What the bot holds about me")),
        ("forget_me", _("Erase everything about me")),
        ("language", _("Change the language")),
        ("help", _("How to use the bot")),
        ("cancel", _("Stop the current action")),
    ]


def editor_commands() -> list[tuple[str, str]]:
    return [
        ("newpost", _("Write a post")),
        ("posts", _("Posts: upcoming, sent, failed")),
        ("alert", _("Issue a travel alert")),
        ("stats", _("Statistics of questions and answers")),
        ("unanswered", _("Teach the bot the questions it could not answer")),
    ]


def admin_commands() -> list[tuple[str, str]]:
    return [
        ("editors", _("Editors and administrators")),
        ("channels", _("Channels that receive posts")),
    ]


def operator_commands() -> list[tuple[str, str]]:
    return [("answer", _("Send a topic's card to the citizen (in a request's topic)")),
            ("slots", _("A mission's weekly hours for appointments")),
            ("closed", _("Close a mission for appointments on a date")),
            ("open", _("Open a mission on an extra date")),
            ("day", _("A mission's appointments of a day")),
            ("case", _("Show or update a case: /case NUMBER status STATUS"))]


def private_commands(role: str | None) -> list[tuple[str, str]]:
    """The menu of a person with ``role`` (None: a citizen) in a private chat."""
    out = citizen_commands()
    if role in (EDITOR, ADMIN):
        out += editor_commands()
    if role == ADMIN:
        out += admin_commands()
    return out


def _bot_commands(items: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command=c, description=d) for c, d in items]


@dataclass(frozen=True)
class Menu:
    user_id: int
    role: str | None
    chosen: str | None  # the language chosen with /language
    lang: str  # the language the person reads


async def menu_of(session: AsyncSession, settings: Settings, user_id: int) -> Menu:
    role = await role_of(session, settings, user_id)
    user = await UserRepo(session).get(user_id)
    chosen = user.language if user else None
    return Menu(user_id, role, chosen,
                await reader_language(session, user_id, settings.default_language))


async def apply_menu(bot: Bot, i18n: I18n, menu: Menu) -> bool:
    """Set the person's own menu (staff) or remove it (citizens: the common menu applies).

    Telegram picks a chat's menu by the app's language first, so each language code gets
    a variant: all in the chosen language if there is one, else each in its own language,
    and the variant without a code in the language the person reads. False if Telegram
    refused (e.g. the person never wrote to the bot).
    """
    scope = BotCommandScopeChat(chat_id=menu.user_id)
    try:
        if menu.role not in (EDITOR, ADMIN):
            for code in (*LANGUAGES, None):
                await bot.delete_my_commands(scope=scope, language_code=code)
            return True
        for code in (*LANGUAGES, None):
            with locale(i18n, menu.chosen or code or menu.lang):
                commands = _bot_commands(private_commands(menu.role))
            await bot.set_my_commands(commands, scope=scope, language_code=code)
    except TelegramAPIError as exc:
        log.info("could not set the command menu of %s: %s", menu.user_id, exc)
        return False
    return True


async def refresh_menu(bot: Bot, session: AsyncSession, i18n: I18n, settings: Settings,
                       user_id: int) -> bool:
    """The person's menu from their role and language now (after /editors changed it)."""
    return await apply_menu(bot, i18n, await menu_of(session, settings, user_id))


async def set_menus(bot: Bot, i18n: I18n, settings: Settings,
                    session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Start-up hook (after ADMIN_IDS are written to the roles table): every menu."""
    async with session_factory() as session:
        staff = [await menu_of(session, settings, r.user_id)
                 for r in await RoleRepo(session).all() if r.role in (EDITOR, ADMIN)]
    scope = BotCommandScopeAllPrivateChats()
    for lang in LANGUAGES:
        with locale(i18n, lang):
            await bot.set_my_commands(_bot_commands(private_commands(None)), scope=scope,
                                      language_code=lang)
    with locale(i18n, settings.default_language):
        await bot.set_my_commands(_bot_commands(private_commands(None)), scope=scope)
    if settings.operators_chat_id:
        group = BotCommandScopeChat(chat_id=settings.operators_chat_id)
        try:
            for lang in LANGUAGES:
                with locale(i18n, lang):
                    await bot.set_my_commands(_bot_commands(operator_commands()), scope=group,
                                              language_code=lang)
            with locale(i18n, settings.default_language):
                await bot.set_my_commands(_bot_commands(operator_commands()), scope=group)
        except TelegramAPIError as exc:
            log.warning("could not set the operators' group command menu: %s", exc)
    for menu in staff:
        await apply_menu(bot, i18n, menu)


async def is_operator(bot: Bot, settings: Settings, user_id: int) -> bool:
    """A member of the operators' group (asked of Telegram; False when it cannot say)."""
    if not settings.operators_chat_id:
        return False
    try:
        member = await bot.get_chat_member(settings.operators_chat_id, user_id)
    except TelegramAPIError:
        return False
    return member.status in ("creator", "administrator", "member")


async def help_for(bot: Bot, session: AsyncSession, settings: Settings,
                   user_id: int) -> tuple[str | None, bool]:
    """(role, is an operator) of the person asking for /help."""
    return await role_of(session, settings, user_id), await is_operator(bot, settings, user_id)
