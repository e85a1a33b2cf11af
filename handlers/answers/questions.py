"""Free-text questions: analysed, answered in the question's language, gaps recorded."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.callbacks import AskBack
from bot.answers.service import AnswerService
from bot.config import Settings
from bot.feedback import votes as dialogue
from bot.feedback.question_log import QuestionLogBuffer
from bot.shared.filters import PlainText
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Screenful
from bot.shared.textnorm import READ_CHARS
from handlers.ui import send, show


async def question(message: Message, answers: AnswerService, uow: UnitOfWork, i18n: I18n,
                   settings: Settings, question_log: QuestionLogBuffer) -> None:
    text = message.text or ""
    reply = answers.answer(text, fallback=i18n.current_locale)
    if reply.unanswered:
        question_log.add_unanswered(
            message.from_user.id if message.from_user else None,
            reply.lang, text[:READ_CHARS], reply.analysis.country,
            list(reply.analysis.alternatives),
        )
    await send(message, await dialogue.logged_reply(question_log, message, reply, text, settings))


async def show_choice(query: CallbackQuery, callback_data: AskBack, answers: AnswerService,
                      i18n: I18n, adapt: Callable[[Screenful], Screenful] | None = None) -> None:
    """A topic picked when the bot asked back: the question becomes its card, for the
    country asked about (``adapt`` keeps only what works where it is shown)."""
    lang = callback_data.lang or i18n.current_locale
    screen = answers.chosen(callback_data.slug, callback_data.iso, lang)
    if screen is None:
        await query.answer(_("This choice is not available any more. "
                             "Please type your question again."), show_alert=True)
        return
    await show(query, adapt(screen) if adapt else screen)
    await query.answer()


async def choose(query: CallbackQuery, callback_data: AskBack, answers: AnswerService,
                 i18n: I18n) -> None:
    await show_choice(query, callback_data, answers, i18n)


def create_choice_router() -> Router:
    """The buttons of the bot's ask-back question."""
    router = Router(name=__name__ + ".choice")
    router.callback_query.register(choose, AskBack.filter())
    return router


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(question, PlainText())
    return router
