"""Free-text questions: analysed, answered in the question's language, gaps recorded."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.filters import PlainText
from bot.middlewares import UnitOfWork
from bot.services import feedback as dialogue
from bot.services.answers import AnswerService
from bot.services.question_log import QuestionLogBuffer
from handlers.ui import send

STORED_QUESTION_CHARS = 1000


async def question(message: Message, answers: AnswerService, uow: UnitOfWork, i18n: I18n,
                   settings: Settings, question_log: QuestionLogBuffer) -> None:
    text = message.text or ""
    reply = answers.answer(text, fallback=i18n.current_locale)
    if reply.unanswered:
        question_log.add_unanswered(
            message.from_user.id if message.from_user else None,
            reply.lang, text[:STORED_QUESTION_CHARS], reply.analysis.country,
            list(reply.analysis.alternatives),
        )
    await send(message, await dialogue.logged_reply(question_log, message, reply, text, settings))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(question, PlainText())
    return router
