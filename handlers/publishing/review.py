"""Approval by a second person: Approve and Reject under a post sent for review (nobody
decides on their own post; the service checks it and records refused attempts)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.publishing import service as posts
from bot.publishing.callbacks import DraftAct, ReviewAct
from bot.publishing.posts import Publisher
from bot.publishing.states import ReviewForm
from bot.shared.audit import Action
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from bot.shared.tghtml import quote
from handlers.publishing.view import errors_text, tell, when_label
from handlers.ui import show


async def approve(query: CallbackQuery, callback_data: ReviewAct, uow: UnitOfWork, bot: Bot,
                  i18n: I18n, settings: Settings, publisher: Publisher) -> None:
    done = await posts.approve(uow.session, callback_data.post_id, query.from_user.id)
    if done.refusal:
        await query.answer(done.refusal, show_alert=True)
        return
    if done.post is None:
        await query.answer()
        await show(query, Screenful(errors_text(done.errors) + "\n" + _(
            "The author can reschedule or edit it in /posts.")))
        return
    post = done.post
    await query.answer(_("Approved."))
    # The author hears of the approval before the run can start: a post due now may
    # otherwise report its delivery to the author first.
    name = query.from_user.full_name
    await tell(bot, i18n, uow.session, post.author_id, lambda: _(
        "Your post #{id} was approved by {name} and is scheduled.").format(
            id=post.id, name=quote(name)))
    uow.after_commit(lambda: publisher.schedule(post.id, recorded=True))
    await show(query, Screenful(_("Post #{id} approved and scheduled: {when}.").format(
        id=post.id, when=when_label(post.send_at, post.repeat, i18n.current_locale, settings))))


async def ask_reason(query: CallbackQuery, callback_data: ReviewAct, uow: UnitOfWork,
                     state: FSMContext) -> None:
    checked = await posts.reviewable(uow.session, callback_data.post_id, query.from_user.id,
                                     Action.POST_REJECT)
    if checked.post is None:
        await query.answer(checked.refusal, show_alert=True)
        return
    await state.set_state(ReviewForm.reason)
    await state.update_data(post_id=checked.post.id)
    await query.answer()
    await show(query, Screenful(
        _("Why is post #{id} rejected? Type the reason: the author will read it.").format(
            id=checked.post.id), [[Button(_("✖ Cancel"), DraftAct(action="cancel").pack())]]))


async def got_reason(message: Message, state: FSMContext, uow: UnitOfWork, bot: Bot,
                     i18n: I18n) -> None:
    if not message.text or message.text.startswith("/"):
        await message.answer(_("Type the reason as text, or /cancel."))
        return
    reason = message.text.strip()[:1000]
    post_id = (await state.get_data())["post_id"]
    reviewer = message.from_user
    assert reviewer is not None
    done = await posts.reject(uow.session, post_id, reviewer.id, reason)
    await state.clear()
    if done.post is None:
        await message.answer(done.refusal or "")
        return
    await message.answer(_("Post #{id} rejected. The author has your reason.").format(id=post_id))
    await tell(bot, i18n, uow.session, done.post.author_id, lambda: _(
        "Your post #{id} was rejected by {name}. Reason: {reason}").format(
            id=post_id, name=quote(reviewer.full_name), reason=quote(reason)))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(got_reason, StateFilter(ReviewForm.reason))
    router.callback_query.register(approve, ReviewAct.filter(F.action == "ok"))
    router.callback_query.register(ask_reason, ReviewAct.filter(F.action == "no"))
    return router
