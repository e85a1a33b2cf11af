"""👍 / 👎 on answers; after 👎, what was missing (a reason, and for "other" free text)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.feedback import votes
from bot.feedback.callbacks import Vote
from bot.feedback.votes import Verdict, officer_button, reasons_screen
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Screenful
from handlers.ui import send


class FeedbackForm(StatesGroup):
    comment = State()


def _without_votes(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    if markup is None:
        return None
    rows = [row for row in markup.inline_keyboard
            if not any((b.callback_data or "").startswith("fb:") for b in row)]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def vote(query: CallbackQuery, callback_data: Vote, uow: UnitOfWork, state: FSMContext,
               settings: Settings) -> None:
    voted = await votes.vote(uow.session, query.from_user.id, callback_data.qid, callback_data.v)
    if voted.verdict is Verdict.INVALID:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    message = query.message if not isinstance(query.message, InaccessibleMessage) else None
    if callback_data.v in ("up", "down"):
        if voted.verdict is Verdict.ALREADY:
            await query.answer(_("You have already rated this answer."))
            return
        if message is not None:
            await message.edit_reply_markup(reply_markup=_without_votes(message.reply_markup))
        if callback_data.v == "up":
            await query.answer(_("Thank you!"))
        else:
            await query.answer()
            if message is not None:
                await send(message, reasons_screen(voted.question_id))
        return
    if voted.verdict is Verdict.ALREADY:
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer(_("Thank you!"))
    if message is None:
        return
    if callback_data.v == "other":
        await state.set_state(FeedbackForm.comment)
        await state.set_data({"feedback": voted.feedback_id})
        await message.edit_text(_("What were you looking for? Type it in a few words, "
                                  "or /cancel."))
        return
    rows = [[officer_button(voted.question_id)]] if settings.operators_chat_id else []
    await message.delete_reply_markup()
    await send(message, Screenful(_("Thank you: the editors will see it. You can also ask a "
                                    "consular officer."), rows))


async def comment(message: Message, uow: UnitOfWork, state: FSMContext) -> None:
    if not message.text or message.text.startswith("/"):
        await message.answer(_("Please type a few words, or /cancel."))
        return
    feedback_id = (await state.get_data()).get("feedback")
    await state.clear()
    if feedback_id:
        await votes.comment(uow.session, int(feedback_id), message.text)
    await message.answer(_("Thank you: the editors will see it."))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(vote, Vote.filter())
    router.message.register(comment, StateFilter(FeedbackForm.comment))
    return router
