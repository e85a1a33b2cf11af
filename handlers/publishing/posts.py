"""Editors' posts: /posts (the lists and one post's actions: preview, report, cancel, a new
text, a new time), and the router of the whole posts feature with /newpost
(handlers/publishing/newpost.py) and review (handlers/publishing/review.py) under it.

Gated by the editors' parent router (see handlers/publishing/editors.py); nothing here checks
roles except the one rule the gate cannot know: nobody approves or rejects their own post.
An editor whom nobody else can review is told so plainly, with how an administrator adds a
second person.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES, Settings
from bot.publishing import service as posts
from bot.publishing.callbacks import ADMIN_PREFIXES, EDITOR_PREFIXES, PostAct, PostList
from bot.publishing.filters import EditorTraffic
from bot.publishing.posts import Publisher, language_name
from bot.publishing.service import EDITABLE, PAGE_SIZE, as_draft, status_label
from bot.publishing.states import PostEdit, PostForm, ReviewForm
from bot.shared import tghtml
from bot.shared.i18n import locale
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from bot.shared.tghtml import quote
from handlers.publishing import newpost, review
from handlers.publishing.newpost import new_post, typed_when
from handlers.publishing.view import (
    errors_text,
    nobody_to_review,
    notify_reviewers,
    post_screen,
    send_previews,
    when_label,
)
from handlers.ui import send, show


def _title(post: posts.PostDTO) -> str:
    text = next((t for t in (post.texts.get(c) for c in LANGUAGES) if t), "")
    try:
        plain = tghtml.parse(text).text
    except tghtml.TelegramHTMLError:
        plain = text
    plain = " ".join(plain.split())
    return plain[:32] + ("…" if len(plain) > 32 else "")


def list_screen(tab: str, page: int, items: list[posts.PostDTO], total: int) -> Screenful:
    pages = max(1, -(-total // PAGE_SIZE))
    names = {"upcoming": _("Upcoming"), "sent": _("Sent"), "failed": _("Failed or stopped")}
    tabs = [Button(("• " if key == tab else "") + label, PostList(tab=key).pack())
            for key, label in names.items()]
    rows = [tabs]
    rows += [[Button(f"#{p.id} {status_label(p.status)} · {_title(p)}",
                     PostAct(action="view", post_id=p.id).pack())] for p in items]
    pager = []
    if page > 0:
        pager.append(Button(_("‹ Previous"), PostList(tab=tab, page=page - 1).pack()))
    if pages > 1:
        pager.append(Button(_("{page} of {pages}").format(page=page + 1, pages=pages),
                            PostList(tab=tab, page=page).pack()))
    if page < pages - 1:
        pager.append(Button(_("Next ›"), PostList(tab=tab, page=page + 1).pack()))
    if pager:
        rows.append(pager)
    head = _("<b>Posts: {tab}</b>").format(tab=names.get(tab, names["upcoming"]))
    return Screenful(head + "\n" + (_("{count} in all.").format(count=total) if total
                                    else _("Nothing here.")), rows)


async def posts_command(message: Message, uow: UnitOfWork, state: FSMContext) -> None:
    await state.clear()
    await send(message, list_screen("upcoming", 0, *await posts.page(uow.session, "upcoming", 0)))


async def posts_page(query: CallbackQuery, callback_data: PostList, uow: UnitOfWork) -> None:
    tab, page = callback_data.tab, max(callback_data.page, 0)
    await show(query, list_screen(tab, page, *await posts.page(uow.session, tab, page)))
    await query.answer()


async def _post(query: CallbackQuery, uow: UnitOfWork, post_id: int) -> posts.PostDTO | None:
    post = await posts.get(uow.session, post_id)
    if post is None:
        await query.answer(_("This post no longer exists."), show_alert=True)
    return post


async def view_post(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork,
                    i18n: I18n, settings: Settings) -> None:
    post = await _post(query, uow, callback_data.post_id)
    if post:
        await show(query, post_screen(post, i18n.current_locale, settings))
        await query.answer()


async def preview_post(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork,
                       bot: Bot) -> None:
    post = await _post(query, uow, callback_data.post_id)
    if post:
        await query.answer()
        await send_previews(bot, query.from_user.id, as_draft(post))


async def report(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork, bot: Bot,
                 i18n: I18n, publisher: Publisher) -> None:
    post = await _post(query, uow, callback_data.post_id)
    if post is None:
        return
    await query.answer()
    text = await publisher.report(post.id, i18n.current_locale)
    await bot.send_message(query.from_user.id, text)


async def cancel_post(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork,
                      i18n: I18n, settings: Settings, publisher: Publisher) -> None:
    done = await posts.cancel(uow.session, callback_data.post_id, query.from_user.id)
    if done is None:
        await query.answer(_("This post can't be cancelled now."), show_alert=True)
        return
    uow.after_commit(lambda: publisher.unschedule(done.id, recorded=True))
    await query.answer(_("Cancelled."))
    await show(query, post_screen(done, i18n.current_locale, settings,
                                  _("Post #{id} is cancelled.").format(id=done.id)))


async def choose_edit_language(query: CallbackQuery, callback_data: PostAct,
                               uow: UnitOfWork) -> None:
    post = await _post(query, uow, callback_data.post_id)
    if post is None:
        return
    if post.status not in EDITABLE:
        await query.answer(_("This post can't be edited now."), show_alert=True)
        return
    await query.answer()
    row = [Button(language_name(c), PostAct(action="lang", post_id=post.id, value=c).pack())
           for c in LANGUAGES]
    await show(query, Screenful(_("Which text of post #{id} do you want to replace?").format(
        id=post.id), [row, [Button(_("‹ Back"), PostAct(action="view", post_id=post.id).pack())]]))


async def ask_new_text(query: CallbackQuery, callback_data: PostAct, state: FSMContext) -> None:
    if callback_data.value not in LANGUAGES:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.set_state(PostEdit.text)
    await state.update_data(post_id=callback_data.post_id, lang=callback_data.value)
    await query.answer()
    await show(query, Screenful(_("Send the new {language} text of post #{id}, or /cancel.")
                                .format(language=language_name(callback_data.value),
                                        id=callback_data.post_id)))


async def got_new_text(message: Message, state: FSMContext, uow: UnitOfWork, bot: Bot,
                       i18n: I18n, settings: Settings, publisher: Publisher,
                       role: str | None = None) -> None:
    if not message.text or message.text.startswith("/"):
        await message.answer(_("I need the new text as a text message, or /cancel."))
        return
    data = await state.get_data()
    editor = message.from_user
    assert editor is not None
    lang = data["lang"]
    done = await posts.replace_text(uow.session, settings, data["post_id"], editor.id, role,
                                    lang, message.html_text)
    if done.errors:
        await message.answer(errors_text(done.errors))
        return
    await state.clear()
    if done.post is None:
        await message.answer(done.refusal or "")
        return
    updated, ui = done.post, i18n.current_locale
    note = _("The {language} text of post #{id} is replaced.").format(
        language=language_name(lang), id=updated.id)
    if done.before == "sent":
        async def edit_sent() -> None:  # the publisher reads the new text in its own session
            edited, failed = await publisher.edit_published(updated.id)
            with locale(i18n, ui):
                await send(message, post_screen(updated, ui, settings, note + "\n" + _(
                    "Edited in {edited} sent messages; {failed} could not be edited.").format(
                        edited=edited, failed=failed)))

        uow.after_commit(edit_sent)
        return
    if done.review:
        uow.after_commit(lambda: publisher.unschedule(updated.id, recorded=True))
        note += "\n" + _("It needs approval again.")
        if not await notify_reviewers(bot, i18n, uow.session, settings, updated,
                                      done.reviewers, editor.full_name):
            note += "\n" + nobody_to_review()
    await send(message, post_screen(updated, ui, settings, note))


async def ask_new_time(query: CallbackQuery, callback_data: PostAct, state: FSMContext,
                       settings: Settings) -> None:
    await state.set_state(PostEdit.when)
    await state.update_data(post_id=callback_data.post_id)
    await query.answer()
    await show(query, Screenful(_("Type the new time of post #{id} ({zone}), for example "
                                  "<code>25.12.2026 10:00</code> or <code>every Monday "
                                  "10:00</code>, or /cancel.").format(
                                      id=callback_data.post_id, zone=quote(settings.timezone))))


async def got_new_time(message: Message, state: FSMContext, uow: UnitOfWork, bot: Bot,
                       i18n: I18n, settings: Settings, publisher: Publisher,
                       role: str | None = None) -> None:
    when = await typed_when(message, settings, _("Type the date and time as text, or /cancel."))
    if when is None:
        return
    editor = message.from_user
    assert editor is not None
    post_id = (await state.get_data())["post_id"]
    done = await posts.reschedule(uow.session, settings, post_id, editor.id, role, when)
    await state.clear()
    if done.post is None:
        await message.answer(done.refusal or "")
        return
    updated = done.post
    if updated.status == "scheduled":
        async def again() -> None:
            await publisher.unschedule(post_id, recorded=True)
            await publisher.schedule(post_id, recorded=True)

        uow.after_commit(again)
    lang = i18n.current_locale
    note = _("Post #{id} now goes out: {when}.").format(
        id=post_id, when=when_label(updated.send_at, updated.repeat, lang, settings))
    if done.review and not await notify_reviewers(bot, i18n, uow.session, settings, updated,
                                                  done.reviewers, editor.full_name):
        note += "\n" + nobody_to_review()
    await send(message, post_screen(updated, lang, settings, note))


async def use_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel."))


async def stale_button(query: CallbackQuery) -> None:
    """A post button pressed out of its step (an old message, or a forged press)."""
    await query.answer(_("This button is out of date."), show_alert=True)


def create_router() -> Router:
    """The commands first (so /newpost and /posts leave any dialogue), this module's
    handlers, the dialogue and review under it, and last what no step took."""
    router = Router(name=__name__)
    m, c = router.message, router.callback_query
    m.register(new_post, Command("newpost"))
    m.register(posts_command, Command("posts"))
    m.register(got_new_text, StateFilter(PostEdit.text))
    m.register(got_new_time, StateFilter(PostEdit.when))
    c.register(posts_page, PostList.filter())
    c.register(view_post, PostAct.filter(F.action == "view"))
    c.register(preview_post, PostAct.filter(F.action == "preview"))
    c.register(report, PostAct.filter(F.action == "report"))
    c.register(cancel_post, PostAct.filter(F.action == "cancel"))
    c.register(choose_edit_language, PostAct.filter(F.action == "edit"))
    c.register(ask_new_text, PostAct.filter(F.action == "lang"))
    c.register(ask_new_time, PostAct.filter(F.action == "resched"))
    leftovers = Router(name=f"{__name__}.leftovers")
    leftovers.message.register(use_buttons, StateFilter(PostForm, PostEdit, ReviewForm))
    leftovers.callback_query.register(
        stale_button, EditorTraffic(prefixes=EDITOR_PREFIXES - ADMIN_PREFIXES,
                                    commands=frozenset(), states=False))
    router.include_routers(newpost.create_router(), review.create_router(), leftovers)
    return router
