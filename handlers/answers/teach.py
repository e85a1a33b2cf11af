"""/unanswered: editors file the questions the bot could not answer (and answers marked 👎)
under a topic, or as out of scope, and the bot learns them at once.

Gated by the editors' parent router (``te:`` buttons and /unanswered are editor traffic).
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers import teach as teaching
from bot.answers.callbacks import TeachCb
from bot.answers.content import Section
from bot.answers.store import ContentStore
from bot.answers.teach import Teacher
from bot.config import Settings
from bot.shared.i18n import locale
from bot.shared.middlewares import UnitOfWork
from handlers.ui import send, show

log = logging.getLogger(__name__)


async def unanswered(message: Message, uow: UnitOfWork, store: ContentStore, i18n: I18n,
                     settings: Settings) -> None:
    screen = await teaching.page(uow.session, store, i18n.current_locale, settings.tz, 0)
    await send(message, screen)


async def navigate(query: CallbackQuery, callback_data: TeachCb, uow: UnitOfWork,
                   store: ContentStore, i18n: I18n, settings: Settings) -> None:
    screen = await teaching.page(uow.session, store, i18n.current_locale, settings.tz,
                                 int(callback_data.arg))
    await query.answer()
    await show(query, screen)


async def open_list(query: CallbackQuery, uow: UnitOfWork, store: ContentStore, i18n: I18n,
                    settings: Settings) -> None:
    """From the weekly digest: the list comes as a new message, the digest stays."""
    screen = await teaching.page(uow.session, store, i18n.current_locale, settings.tz, 0)
    await query.answer()
    if isinstance(query.message, Message):
        await send(query.message, screen)
    else:
        await show(query, screen)  # a message too old to reach: show sends a new one


async def pick(query: CallbackQuery, callback_data: TeachCb, uow: UnitOfWork,
               store: ContentStore, i18n: I18n, settings: Settings) -> None:
    """"Another topic…" (the sections), a section's topics, or back to the question."""
    section = None
    if callback_data.action == "s":
        if callback_data.arg not in set(Section):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        section = Section(callback_data.arg)
    screen = await teaching.pick_screen(uow.session, store, callback_data.qid,
                                        callback_data.action, section, i18n.current_locale,
                                        settings.tz)
    if screen is None:
        await query.answer(_("This question is no longer on the list."), show_alert=True)
        return
    await query.answer()
    await show(query, screen)


async def file_under(query: CallbackQuery, callback_data: TeachCb, uow: UnitOfWork,
                     store: ContentStore, i18n: I18n, settings: Settings, teacher: Teacher,
                     bot: Bot) -> None:
    """"This is topic …" or "out of scope": stored and audited at once, then learned."""
    topic = callback_data.arg if callback_data.action == "t" else None
    if callback_data.action == "t" and topic not in store.topics:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    lang = i18n.current_locale
    filed = await teaching.file_under(uow.session, store, callback_data.qid, topic,
                                      query.from_user.id, lang, settings.tz)
    if filed is None:
        await query.answer(_("This question is no longer on the list."), show_alert=True)
        return
    taught, screen = filed
    await uow.release()  # the example is committed before the model looks for it
    await query.answer(_("Taught."))
    await show(query, screen)
    chat_id = query.from_user.id

    async def tell() -> None:
        with locale(i18n, lang):
            text = teaching.learned_text(store, taught, lang)
        try:
            await bot.send_message(chat_id, text)
        except TelegramAPIError as exc:
            log.info("could not tell %s the example was learned: %s", chat_id, exc)

    teacher.refresh_soon(tell)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(unanswered, Command("unanswered"))
    router.callback_query.register(navigate, TeachCb.filter(F.action == "n"))
    router.callback_query.register(open_list, TeachCb.filter(F.action == "l"))
    router.callback_query.register(pick, TeachCb.filter(F.action.in_({"p", "s", "v"})))
    router.callback_query.register(file_under, TeachCb.filter(F.action.in_({"t", "o"})))
    return router
