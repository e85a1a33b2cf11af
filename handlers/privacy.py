"""/my_data shows what the bot holds about the person; /forget_me erases it after a yes,
including the copies of their requests in the operators' group."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.store import ContentStore
from bot.config import Settings
from bot.officer.desk import CopiesErased, OfficerDesk
from bot.privacy import service
from bot.privacy.callbacks import ForgetMe
from bot.privacy.registry import Context, PrivacyRegistry
from bot.shared.middlewares import LanguageCache, UnitOfWork
from bot.shared.render import Button, Screenful
from bot.shared.translation import ngettext
from handlers.ui import send, show


async def my_data(message: Message, uow: UnitOfWork, privacy: PrivacyRegistry,
                  store: ContentStore, settings: Settings, i18n: I18n) -> None:
    ctx = Context(uow.session, store, i18n.current_locale, settings.tz)
    sections = await service.held(privacy, ctx, message.chat.id)
    if not sections:
        await message.answer(_("I hold nothing about you."))
        return
    lines = [_("<b>What I hold about you</b>")]
    for section in sections:
        lines.append("")
        lines.append(f"<b>{section.label}</b>")
        lines += [f"• {line}" for line in section.lines]
    lines += ["", _("Only you see this. /forget_me erases all of it.")]
    await send(message, Screenful("\n".join(lines)))


async def forget_me(message: Message) -> None:
    await send(message, Screenful(
        _("Erase everything I hold about you: trips, followed countries, subscriptions, "
          "your language and your unanswered questions? This cannot be undone."),
        [[Button(_("Yes, erase everything"), ForgetMe(action="yes").pack()),
          Button(_("No"), ForgetMe(action="no").pack())]]))


def _copies_lines(copies: CopiesErased) -> list[str]:
    lines = []
    if copies.topics:
        lines.append("• " + _("Your conversations with consular officers, deleted from their "
                              "chat ({count})").format(count=copies.topics))
    if copies.messages:
        lines.append("• " + _("Your messages in the consular officers' chat ({count})").format(
            count=copies.messages))
    if copies.kept:
        lines += ["", ngettext(
            "{count} message with your words is still in the consular officers' chat: Telegram "
            "lets a bot delete a message there only within 48 hours, or as an administrator. "
            "The officers have been asked to delete it.",
            "{count} messages with your words are still in the consular officers' chat: "
            "Telegram lets a bot delete a message there only within 48 hours, or as an "
            "administrator. The officers have been asked to delete them.",
            copies.kept).format(count=copies.kept)]
    return lines


async def forget_confirmed(query: CallbackQuery, uow: UnitOfWork, state: FSMContext,
                           lang_cache: LanguageCache, privacy: PrivacyRegistry, bot: Bot,
                           settings: Settings, store: ContentStore, i18n: I18n) -> None:
    uid = query.from_user.id
    erasure = await service.forget(privacy, OfficerDesk(bot, settings, store, i18n),
                                   uow.session, uid)
    await state.clear()
    lang_cache.forget(uid)
    if erasure.erased:
        lines = [_("Erased:")]
        lines += [f"• {label} ({count})" for label, count in erasure.erased]
        lines += _copies_lines(erasure.copies)
        text = "\n".join(lines) + "\n\n" + _("I no longer hold anything about you.")
    else:
        text = _("I held nothing about you, so there was nothing to erase.")
    await show(query, Screenful(text))
    await query.answer()


async def forget_declined(query: CallbackQuery) -> None:
    await show(query, Screenful(_("Nothing was erased.")))
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(my_data, Command("my_data", "mydata"))
    router.message.register(forget_me, Command("forget_me", "forgetme"))
    router.callback_query.register(forget_confirmed, ForgetMe.filter(F.action == "yes"))
    router.callback_query.register(forget_declined, ForgetMe.filter(F.action == "no"))
    return router
