"""Whatever no other handler took: unknown commands, media, stale or forged buttons."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.navigation import screens
from bot.shared.filters import CommandText, HasLocation
from bot.shared.render import Screenful
from handlers.ui import send, show


async def unknown_command(message: Message) -> None:
    help_ = screens.help_screen()
    await send(message, Screenful(_("I don't know that command.") + "\n\n" + help_.html,
                                  help_.buttons))


async def location(message: Message) -> None:
    await send(message, Screenful(
        _("Thank you, but I don't use locations. Type the name of the country you are in, "
          "and I will show its embassy and emergency numbers."),
        screens.main_menu().buttons,
    ))


async def not_text(message: Message) -> None:
    await send(message, Screenful(
        _("I can only read text. Please type your question, or choose from the menu."),
        screens.main_menu().buttons,
    ))


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is out of date. Here is the menu."))
    await show(query, screens.main_menu())


async def unanswered_button(query: CallbackQuery) -> None:
    """Any button no router took, wherever it was (a group, an inline message): answered,
    so the person's spinner stops; there may be no chat to show a menu in."""
    await query.answer(_("This button is out of date."))


def create_unanswered_router() -> Router:
    """The last router of the tree: every callback query gets an answer."""
    router = Router(name=__name__ + ".unanswered")
    router.callback_query.register(unanswered_button)
    return router


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(unknown_command, CommandText())
    router.message.register(location, HasLocation())
    router.message.register(not_text)
    router.callback_query.register(stale_button)
    return router
