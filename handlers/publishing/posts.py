"""Editors' posts: the /newpost dialogue, approval by a second person, and /posts.

Gated by the editors' parent router (see handlers/publishing/editors.py); nothing here checks roles
except the one rule the gate cannot know: nobody approves or rejects their own post.

With POSTS_NEED_APPROVAL an editor's post waits for another editor or an administrator;
an administrator's own post is approved at once and audited as self-approved (a lone
administrator can publish). An editor whom nobody else can review is told so plainly,
with how an administrator adds a second person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import get_day_names

from bot.config import LANGUAGES, Settings
from bot.publishing import posts as svc
from bot.publishing import render
from bot.publishing.callbacks import (
    ADMIN_PREFIXES,
    EDITOR_PREFIXES,
    DraftAct,
    PostAct,
    PostList,
    ReviewAct,
)
from bot.publishing.posts import Publisher, WhenError, language_name
from bot.publishing.render import SKIP
from bot.publishing.states import PostEdit, PostForm, ReviewForm
from bot.shared import audit, tghtml
from bot.shared.audit import Action
from bot.shared.i18n import locale, reader_language
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_datetime
from handlers.ui import send, show
from storage.publishing.posts import PostDTO, PostRepo
from storage.publishing.subscriptions import SubscriptionRepo
from storage.roles import ADMIN, RoleRepo

log = logging.getLogger(__name__)
PAGE_SIZE = 5
TABS: dict[str, tuple[str, ...]] = {
    "upcoming": ("draft", "pending", "scheduled", "sending"),
    "sent": ("sent",),
    "failed": ("failed", "missed", "rejected", "cancelled"),
}
EDITABLE = ("pending", "scheduled", "sent")
RESCHEDULABLE = ("pending", "scheduled", "missed")
CANCELLABLE = ("draft", "pending", "scheduled", "sending")
WITH_REPORT = ("sending", "sent", "failed")


def _now() -> datetime:
    return datetime.now(UTC)


# --- rendering -----------------------------------------------------------------------


async def send_previews(bot: Bot, chat_id: int, post: dict[str, Any]) -> None:
    wanted = svc.audiences(post.get("targets") or {})
    for lang in (code for code in LANGUAGES if code in wanted):
        rendered = render.of_draft(post, lang)
        if rendered is None:
            continue
        await bot.send_message(chat_id, _("Preview for the {language} audience:").format(
            language=language_name(lang)))
        await rendered.send(bot, chat_id)


def status_label(status: str) -> str:
    return {
        "draft": _("📝 draft"), "pending": _("⏳ awaiting approval"),
        "scheduled": _("🗓 scheduled"), "sending": _("📤 sending"), "sent": _("✅ sent"),
        "failed": _("❌ failed"), "cancelled": _("🚫 cancelled"), "missed": _("⌛ missed"),
        "rejected": _("↩️ rejected"),
    }.get(status, status)


def when_label(send_at: datetime | None, repeat: dict[str, Any] | None, lang: str,
               settings: Settings) -> str:
    if repeat:
        names = get_day_names("wide", locale=lang)
        days = ", ".join(names[d] for d in repeat["weekdays"])
        if len(repeat["weekdays"]) == 7:
            return _("every day at {time}").format(time=repeat["time"])
        return _("every {days} at {time}").format(days=days, time=repeat["time"])
    if send_at is None:
        return _("now")
    return fmt_datetime(send_at, lang, settings.tz)


def summary(post: dict[str, Any], lang: str, settings: Settings) -> str:
    texts = post.get("texts") or {}
    fallbacks = post.get("fallbacks") or {}
    langs = []
    for code in LANGUAGES:
        if texts.get(code):
            langs.append(language_name(code))
        elif code in fallbacks:
            other = fallbacks[code]
            langs.append(_("{language}: skipped").format(language=language_name(code))
                         if other == SKIP else
                         _("{language}: gets {other}").format(language=language_name(code),
                                                              other=language_name(other)))
    targets = post.get("targets") or {}
    aims = []
    if targets.get("channels"):
        aims.append(_("channels"))
    if targets.get("groups"):
        aims.append(_("groups"))
    if targets.get("citizens"):
        aims.append(_("citizens ({languages})").format(
            languages=", ".join(language_name(c) for c in targets["citizens"])))
    media = (post.get("media") or {}).get("type")
    lines = [
        _("Languages: {list}").format(list="; ".join(langs) or "—"),
        _("Audiences: {list}").format(list=", ".join(aims) or "—"),
        _("Time: {when}").format(when=when_label(_moment(post.get("send_at")),
                                                 post.get("repeat"), lang, settings)),
    ]
    if media:
        lines.append(_("Attachment: {kind}").format(
            kind=_("photo") if media == "photo" else _("document")))
    rows = (post.get("buttons") or {}).get("rows", [])
    if rows:
        lines.append(_("Link buttons: {count}").format(count=len(rows)))
    return "\n".join(lines)


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _as_dict(post: PostDTO) -> dict[str, Any]:
    return {"texts": post.texts, "media": post.media, "buttons": post.buttons,
            "targets": post.targets, "fallbacks": post.fallbacks, "send_at": post.send_at,
            "repeat": post.repeat}


def _draft_fields(draft: dict[str, Any]) -> dict[str, Any]:
    return {**draft, "send_at": _moment(draft.get("send_at"))}


async def tell(bot: Bot, i18n: I18n, uow: UnitOfWork, user_id: int,
               make: Callable[[], str], markup: InlineKeyboardMarkup | None = None) -> bool:
    """Message another person in their own language; False if Telegram refused."""
    lang = await reader_language(uow.session, user_id, i18n.default_locale)
    with locale(i18n, lang):
        try:
            await bot.send_message(user_id, make(), reply_markup=markup)
        except TelegramAPIError as exc:
            log.info("could not message %s: %s", user_id, exc)
            return False
    return True


async def _commit(uow: UnitOfWork) -> None:
    """Make a decision visible to the publisher (its own session) before calling it."""
    await uow.session.commit()


# --- /newpost ------------------------------------------------------------------------


def _cancel_button() -> Button:
    return Button(_("✖ Cancel"), DraftAct(action="cancel").pack())


def _skip_row() -> list[Button]:
    return [Button(_("Skip ›"), DraftAct(action="skip").pack()), _cancel_button()]


def text_step(lang: str) -> Screenful:
    step = LANGUAGES.index(lang) + 1
    return Screenful(
        _("<b>New post</b> · step {step} of 7\nSend the text in {language}. Formatting "
          "(bold, italics, links) is kept. If there is no {language} version, press Skip.")
        .format(step=step, language=language_name(lang)),
        [_skip_row()])


def media_step() -> Screenful:
    return Screenful(_("<b>New post</b> · step 4 of 7\nSend a photo or a document to attach "
                       "to the post, or press Skip."), [_skip_row()])


def buttons_step() -> Screenful:
    return Screenful(_(
        "<b>New post</b> · step 5 of 7\nLink buttons under the post: one per line, as\n"
        "<code>https://link | label</code> (the same label in every language) or\n"
        "<code>https://link | Kazakh label | Russian label | English label</code>.\n"
        "Or press Skip."), [_skip_row()])


async def targets_step(uow: UnitOfWork, draft: dict[str, Any]) -> Screenful:
    subs = SubscriptionRepo(uow.session)
    channels = len(await subs.chats("channel"))
    groups = len(await subs.chats("group"))
    citizens = await subs.citizen_counts()
    targets = draft["targets"]

    def mark(on: bool) -> str:
        return "✅ " if on else "▫️ "

    rows = [
        [Button(mark(targets["channels"]) + _("Channels ({count})").format(count=channels),
                DraftAct(action="target", value="channels").pack())],
        [Button(mark(targets["groups"]) + _("Groups ({count})").format(count=groups),
                DraftAct(action="target", value="groups").pack())],
        [Button(mark(code in targets["citizens"]) + _("Citizens: {language} ({count})").format(
            language=language_name(code), count=citizens.get(code, 0)),
            DraftAct(action="target", value=code).pack()) for code in LANGUAGES],
        [Button(_("Next ›"), DraftAct(action="next").pack()), _cancel_button()],
    ]
    return Screenful(_("<b>New post</b> · step 6 of 7\nWho should receive it? Press to "
                       "switch each audience on or off, then Next."), rows)


def fallback_step(draft: dict[str, Any], lang: str) -> Screenful:
    texts = draft["texts"]
    row = [Button(_("Skip that audience"), DraftAct(action="fallback", value=SKIP).pack())]
    row += [Button(_("Send {language}").format(language=language_name(code)),
                   DraftAct(action="fallback", value=code).pack())
            for code in LANGUAGES if texts.get(code)]
    return Screenful(_("There is no {language} text. What should the {language} audience "
                       "get?").format(language=language_name(lang)),
                     [row[:2], row[2:], [_cancel_button()]])


def when_step(settings: Settings) -> Screenful:
    return Screenful(_(
        "<b>New post</b> · step 7 of 7\nWhen should it go out? Press Now, or type a date and "
        "time ({zone}), for example <code>25.12.2026 10:00</code> or <code>tomorrow 9:30</code>, "
        "or a weekly rule such as <code>every Monday 10:00</code>.").format(
            zone=quote(settings.timezone)),
        [[Button(_("Now"), DraftAct(action="now").pack()), _cancel_button()]])


def needs_review(settings: Settings, role: str | None) -> bool:
    """A second person approves, unless approval is off or the author is an administrator."""
    return settings.posts_need_approval and role != ADMIN


def confirm_step(draft: dict[str, Any], lang: str, settings: Settings,
                 role: str | None = None) -> Screenful:
    label = _("Submit for approval") if needs_review(settings, role) else _("Schedule")
    return Screenful(_("<b>Ready.</b> Check the post:") + "\n" + summary(draft, lang, settings),
                     [[Button(label, DraftAct(action="submit").pack()), _cancel_button()]])


def _errors(errors: list[str]) -> str:
    return _("Please fix this first:") + "\n" + "\n".join(f"• {e}" for e in errors)


async def new_post(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(PostForm.text)
    draft = {"texts": {}, "media": None, "buttons": None, "fallbacks": {},
             "targets": {"channels": False, "groups": False, "citizens": []},
             "send_at": None, "repeat": None}
    await state.update_data(draft=draft, lang=LANGUAGES[0])
    await send(message, text_step(LANGUAGES[0]))


async def cancel_draft(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, Screenful(_("Cancelled. Nothing was saved.")))
    await query.answer()


async def got_text(message: Message, state: FSMContext) -> None:
    if not message.text:
        await message.answer(_("I need text here: stickers, voice messages and files can't be "
                               "the text of a post. Send the text, or press Skip."))
        return
    if message.text.startswith("/"):
        await message.answer(_("You are writing a post. Send its text, or /cancel."))
        return
    data = await state.get_data()
    lang, draft = data["lang"], data["draft"]
    markup = message.html_text
    errors = svc.text_errors(markup, lang, with_media=False)
    if errors:
        await message.answer(_errors(errors))
        return
    draft["texts"][lang] = markup
    await _after_text(message, state, draft, lang)


async def _after_text(target: Message, state: FSMContext, draft: dict[str, Any],
                      lang: str) -> None:
    index = LANGUAGES.index(lang)
    if index + 1 < len(LANGUAGES):
        nxt = LANGUAGES[index + 1]
        await state.update_data(draft=draft, lang=nxt)
        await send(target, text_step(nxt))
        return
    if not any(draft["texts"].values()):
        await state.update_data(draft=draft, lang=LANGUAGES[0])
        await target.answer(_("A post needs text in at least one language."))
        await send(target, text_step(LANGUAGES[0]))
        return
    await state.update_data(draft=draft)
    await state.set_state(PostForm.media)
    await send(target, media_step())


async def skip(query: CallbackQuery, state: FSMContext, uow: UnitOfWork) -> None:
    current = await state.get_state()
    data = await state.get_data()
    message = query.message
    await query.answer()
    if current is None or not isinstance(message, Message):
        return
    draft = data["draft"]
    if current == PostForm.text.state:
        await _after_text(message, state, draft, data["lang"])
    elif current == PostForm.media.state:
        draft["media"] = None
        await state.update_data(draft=draft)
        await state.set_state(PostForm.buttons)
        await send(message, buttons_step())
    elif current == PostForm.buttons.state:
        await state.set_state(PostForm.targets)
        await send(message, await targets_step(uow, draft))


async def got_media(message: Message, state: FSMContext) -> None:
    if message.photo:
        media = {"type": "photo", "file_id": message.photo[-1].file_id}
    elif message.document:
        media = {"type": "document", "file_id": message.document.file_id}
    else:
        await message.answer(_("Send a photo or a document (other kinds of files can't be "
                               "attached), or press Skip."))
        return
    draft = (await state.get_data())["draft"]
    errors = [e for lang, text in draft["texts"].items() if text
              for e in svc.text_errors(text, lang, with_media=True)]
    if errors:
        await message.answer(_errors(errors) + "\n" + _("Or press Skip to send it without the "
                                                        "attachment."))
        return
    draft["media"] = media
    await state.update_data(draft=draft)
    await state.set_state(PostForm.buttons)
    await send(message, buttons_step())


def parse_buttons(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    rows, errors = [], []
    for line in filter(None, (x.strip() for x in text.splitlines())):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 2:
            labels = dict.fromkeys(LANGUAGES, parts[1])
        elif len(parts) == 1 + len(LANGUAGES):
            labels = dict(zip(LANGUAGES, parts[1:], strict=True))
        else:
            errors.append(_("This line needs a link and one label or three labels, separated "
                            "by |: {line}").format(line=quote(line[:80])))
            continue
        errors.extend(svc.button_errors(parts[0], labels))
        rows.append({"url": parts[0], "labels": labels})
    if len(rows) > svc.MAX_BUTTONS:
        errors.append(_("At most {count} buttons.").format(count=svc.MAX_BUTTONS))
    if not rows and not errors:
        errors.append(_("Send at least one line, or press Skip."))
    return rows, errors


async def got_buttons(message: Message, state: FSMContext, uow: UnitOfWork) -> None:
    if not message.text or message.text.startswith("/"):
        await message.answer(_("Send the buttons as text, one per line, or press Skip."))
        return
    rows, errors = parse_buttons(message.text)
    if errors:
        await message.answer(_errors(errors))
        return
    draft = (await state.get_data())["draft"]
    draft["buttons"] = {"rows": rows}
    await state.update_data(draft=draft)
    await state.set_state(PostForm.targets)
    await send(message, await targets_step(uow, draft))


async def toggle_target(query: CallbackQuery, callback_data: DraftAct, state: FSMContext,
                        uow: UnitOfWork) -> None:
    draft = (await state.get_data())["draft"]
    targets, value = draft["targets"], callback_data.value
    if value in ("channels", "groups"):
        targets[value] = not targets[value]
    elif value in LANGUAGES:
        chosen = set(targets["citizens"]) ^ {value}
        targets["citizens"] = [c for c in LANGUAGES if c in chosen]
    await state.update_data(draft=draft)
    await show(query, await targets_step(uow, draft))
    await query.answer()


async def targets_done(query: CallbackQuery, state: FSMContext, settings: Settings) -> None:
    draft = (await state.get_data())["draft"]
    t = draft["targets"]
    if not (t["channels"] or t["groups"] or t["citizens"]):
        await query.answer(_("Choose at least one audience: channels, groups or citizens."),
                           show_alert=True)
        return
    await query.answer()
    await _next_fallback(query, state, draft, settings)


async def _next_fallback(query: CallbackQuery, state: FSMContext, draft: dict[str, Any],
                         settings: Settings) -> None:
    draft["fallbacks"] = {k: v for k, v in draft["fallbacks"].items()
                          if k in svc.missing_languages(draft)}
    pending = [c for c in svc.missing_languages(draft) if c not in draft["fallbacks"]]
    await state.update_data(draft=draft)
    if pending:
        await state.set_state(PostForm.fallback)
        await state.update_data(lang=pending[0])
        await show(query, fallback_step(draft, pending[0]))
        return
    await state.set_state(PostForm.when)
    message = query.message
    if isinstance(message, Message) and query.bot:
        await show(query, Screenful(_("Here is how each audience will see the post:")))
        await send_previews(query.bot, message.chat.id, draft)
        await send(message, when_step(settings))


async def choose_fallback(query: CallbackQuery, callback_data: DraftAct, state: FSMContext,
                          settings: Settings) -> None:
    data = await state.get_data()
    draft, lang, choice = data["draft"], data["lang"], callback_data.value
    if choice != SKIP and not draft["texts"].get(choice):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    draft["fallbacks"][lang] = choice
    await query.answer()
    await _next_fallback(query, state, draft, settings)


async def _to_confirm(target: Message, state: FSMContext, draft: dict[str, Any],
                      i18n: I18n, settings: Settings, role: str | None) -> None:
    errors = svc.validate(_draft_fields(draft), _now())
    if errors:
        await target.answer(_errors(errors))
        return
    await state.update_data(draft=draft)
    await state.set_state(PostForm.confirm)
    await send(target, confirm_step(draft, i18n.current_locale, settings, role))


async def send_now(query: CallbackQuery, state: FSMContext, i18n: I18n,
                   settings: Settings, role: str | None = None) -> None:
    draft = (await state.get_data())["draft"]
    draft["send_at"], draft["repeat"] = None, None
    await query.answer()
    if isinstance(query.message, Message):
        await _to_confirm(query.message, state, draft, i18n, settings, role)


async def _typed_when(message: Message, settings: Settings, hint: str) -> svc.When | None:
    """The time an editor typed, or None after telling them what is wrong (``hint`` when
    the message is not text at all)."""
    if not message.text or message.text.startswith("/"):
        await message.answer(hint)
        return None
    try:
        return svc.parse_when(message.text, settings.tz, _now())
    except WhenError as exc:
        await message.answer(str(exc))
        return None


async def got_when(message: Message, state: FSMContext, i18n: I18n, settings: Settings,
                   role: str | None = None) -> None:
    when = await _typed_when(message, settings,
                             _("Type the date and time as text, or press Now."))
    if when is None:
        return
    draft = (await state.get_data())["draft"]
    draft["send_at"] = when.send_at.isoformat() if when.send_at else None
    draft["repeat"] = when.repeat
    await _to_confirm(message, state, draft, i18n, settings, role)


async def submit(query: CallbackQuery, state: FSMContext, uow: UnitOfWork, bot: Bot,
                 i18n: I18n, settings: Settings, publisher: Publisher,
                 role: str | None = None) -> None:
    draft = _draft_fields((await state.get_data())["draft"])
    errors = svc.validate(draft, _now())
    if errors:
        await query.answer()
        await state.set_state(PostForm.when)
        await show(query, Screenful(_errors(errors)))
        return
    author = query.from_user.id
    review = needs_review(settings, role)
    self_approved = settings.posts_need_approval and not review
    fields: dict[str, Any] = {**draft, "status": "pending" if review else "scheduled"}
    if self_approved:
        fields.update(approved_by=author, approved_at=_now())
    post = await PostRepo(uow.session).create(author, fields)
    await audit.record(uow.session, author, Action.POST_CREATED, audit.post_target(post.id))
    await state.clear()
    await query.answer()
    lang = i18n.current_locale
    if review:
        await audit.record(uow.session, author, Action.POST_SUBMITTED, audit.post_target(post.id))
        await _commit(uow)
        count = await notify_reviewers(bot, i18n, uow, settings, post, query.from_user.full_name)
        text = _("Post #{id} is waiting for approval by another editor or an administrator.") \
            .format(id=post.id)
        if count == 0:
            text += "\n" + nobody_to_review()
        await show(query, Screenful(text))
        return
    if self_approved:
        await audit.record(uow.session, author, Action.POST_APPROVED, audit.post_target(post.id),
                           self_approved=True)
    await audit.record(uow.session, author, Action.POST_SCHEDULED, audit.post_target(post.id))
    await _commit(uow)
    await publisher.schedule(post.id)
    text = _("Post #{id} is scheduled: {when}.").format(
        id=post.id, when=when_label(post.send_at, post.repeat, lang, settings))
    if self_approved:
        text = _("Your own post as an administrator is approved at once (recorded in the audit "
                 "log).") + "\n" + text
    await show(query, Screenful(text))


def nobody_to_review() -> str:
    return _("Nobody else can approve it yet: a second person is needed. An administrator "
             "adds an editor with /editors → “➕ Add an editor”; administrators are set with "
             "ADMIN_IDS in the bot's settings. Until then the post waits in /posts.")


# --- approval ------------------------------------------------------------------------


def review_markup(post_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("✅ Approve"),
                             callback_data=ReviewAct(action="ok", post_id=post_id).pack()),
        InlineKeyboardButton(text=_("↩️ Reject"),
                             callback_data=ReviewAct(action="no", post_id=post_id).pack()),
    ]])


async def notify_reviewers(bot: Bot, i18n: I18n, uow: UnitOfWork, settings: Settings,
                           post: PostDTO, author_name: str) -> int:
    """Every other editor and administrator gets the previews and the two buttons."""
    reached = 0
    for reviewer in await RoleRepo(uow.session).reviewers(except_user=post.author_id):
        lang = await reader_language(uow.session, reviewer.user_id, i18n.default_locale)
        with locale(i18n, lang):
            try:
                await bot.send_message(reviewer.user_id, _(
                    "<b>Post #{id}</b> by {author} needs approval.").format(
                        id=post.id, author=quote(author_name)) + "\n"
                    + summary(_as_dict(post), lang, settings))
                await send_previews(bot, reviewer.user_id, _as_dict(post))
                await bot.send_message(reviewer.user_id, _("Approve post #{id}?").format(
                    id=post.id), reply_markup=review_markup(post.id))
                reached += 1
            except TelegramAPIError as exc:
                log.info("could not reach reviewer %s: %s", reviewer.user_id, exc)
    return reached


async def _reviewable(query: CallbackQuery, uow: UnitOfWork, post_id: int,
                      action: audit.Action) -> PostDTO | None:
    post = await PostRepo(uow.session).get(post_id)
    if post is None:
        await query.answer(_("This post no longer exists."), show_alert=True)
        return None
    if post.author_id == query.from_user.id:
        await audit.record(uow.session, query.from_user.id, action, audit.post_target(post_id),
                           allowed=False, reason="own post")
        await query.answer(_("You cannot approve or reject your own post: another editor or "
                             "an administrator must review it."), show_alert=True)
        return None
    if post.status != "pending":
        await query.answer(_("This post was already handled: {status}.").format(
            status=status_label(post.status)), show_alert=True)
        return None
    return post


async def approve(query: CallbackQuery, callback_data: ReviewAct, uow: UnitOfWork, bot: Bot,
                  i18n: I18n, settings: Settings, publisher: Publisher) -> None:
    post = await _reviewable(query, uow, callback_data.post_id, Action.POST_APPROVE)
    if post is None:
        return
    errors = svc.validate(_as_dict(post), _now())
    if errors:
        await query.answer()
        await show(query, Screenful(_errors(errors) + "\n" + _(
            "The author can reschedule or edit it in /posts.")))
        return
    reviewer = query.from_user.id
    done = await PostRepo(uow.session).set_status(
        post.id, ("pending",), "scheduled", approved_by=reviewer, approved_at=_now())
    if done is None:
        await query.answer(_("This post was already handled."), show_alert=True)
        return
    await audit.record(uow.session, reviewer, Action.POST_APPROVED, audit.post_target(post.id))
    await audit.record(uow.session, reviewer, Action.POST_SCHEDULED, audit.post_target(post.id))
    await _commit(uow)
    lang = i18n.current_locale
    await query.answer(_("Approved."))
    # The author hears of the approval before the run can start: a post due now may
    # otherwise report its delivery to the author first.
    name = query.from_user.full_name
    await tell(bot, i18n, uow, post.author_id, lambda: _(
        "Your post #{id} was approved by {name} and is scheduled.").format(
            id=post.id, name=quote(name)))
    await publisher.schedule(post.id)
    await show(query, Screenful(_("Post #{id} approved and scheduled: {when}.").format(
        id=post.id, when=when_label(done.send_at, done.repeat, lang, settings))))


async def ask_reason(query: CallbackQuery, callback_data: ReviewAct, uow: UnitOfWork,
                     state: FSMContext) -> None:
    post = await _reviewable(query, uow, callback_data.post_id, Action.POST_REJECT)
    if post is None:
        return
    await state.set_state(ReviewForm.reason)
    await state.update_data(post_id=post.id)
    await query.answer()
    await show(query, Screenful(
        _("Why is post #{id} rejected? Type the reason: the author will read it.").format(
            id=post.id), [[Button(_("✖ Cancel"), DraftAct(action="cancel").pack())]]))


async def got_reason(message: Message, state: FSMContext, uow: UnitOfWork, bot: Bot,
                     i18n: I18n) -> None:
    if not message.text or message.text.startswith("/"):
        await message.answer(_("Type the reason as text, or /cancel."))
        return
    reason = message.text.strip()[:1000]
    post_id = (await state.get_data())["post_id"]
    reviewer = message.from_user.id  # type: ignore[union-attr]
    post = await PostRepo(uow.session).get(post_id)
    if post is None or post.author_id == reviewer:
        await state.clear()
        await message.answer(_("This post can't be rejected by you."))
        return
    done = await PostRepo(uow.session).set_status(post_id, ("pending",), "rejected",
                                                  rejection_reason=reason)
    await state.clear()
    if done is None:
        await message.answer(_("This post was already handled."))
        return
    await audit.record(uow.session, reviewer, Action.POST_REJECTED, audit.post_target(post_id),
                       reason=reason)
    await message.answer(_("Post #{id} rejected. The author has your reason.").format(id=post_id))
    name = message.from_user.full_name  # type: ignore[union-attr]
    await tell(bot, i18n, uow, done.author_id, lambda: _(
        "Your post #{id} was rejected by {name}. Reason: {reason}").format(
            id=post_id, name=quote(name), reason=quote(reason)))


# --- /posts --------------------------------------------------------------------------


def _title(post: PostDTO) -> str:
    text = next((t for t in (post.texts.get(c) for c in LANGUAGES) if t), "")
    try:
        plain = tghtml.parse(text).text
    except tghtml.TelegramHTMLError:
        plain = text
    plain = " ".join(plain.split())
    return plain[:32] + ("…" if len(plain) > 32 else "")


async def list_screen(uow: UnitOfWork, tab: str, page: int) -> Screenful:
    statuses = TABS.get(tab, TABS["upcoming"])
    items, total = await PostRepo(uow.session).page(statuses, page * PAGE_SIZE, PAGE_SIZE)
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
    await send(message, await list_screen(uow, "upcoming", 0))


async def posts_page(query: CallbackQuery, callback_data: PostList, uow: UnitOfWork) -> None:
    await show(query, await list_screen(uow, callback_data.tab, max(callback_data.page, 0)))
    await query.answer()


def post_screen(post: PostDTO, lang: str, settings: Settings, note: str | None = None
                ) -> Screenful:
    lines = [note, ""] if note else []
    lines += [_("<b>Post #{id}</b> · {status}").format(id=post.id,
                                                       status=status_label(post.status)),
              summary(_as_dict(post), lang, settings)]
    if post.rejection_reason and post.status == "rejected":
        lines.append(_("Rejection reason: {reason}").format(reason=quote(post.rejection_reason)))

    def act(label: str, action: str) -> Button:
        return Button(label, PostAct(action=action, post_id=post.id).pack())

    rows = [[act(_("👁 Preview"), "preview")]]
    actions = []
    if post.status in EDITABLE:
        actions.append(act(_("✏️ Edit"), "edit"))
    if post.status in RESCHEDULABLE:
        actions.append(act(_("🗓 Reschedule"), "resched"))
    if post.status in CANCELLABLE:
        actions.append(act(_("🚫 Cancel post"), "cancel"))
    if post.status in WITH_REPORT:
        actions.append(act(_("📊 Delivery report"), "report"))
    rows += [actions[i:i + 2] for i in range(0, len(actions), 2)]
    rows.append([Button(_("‹ All posts"), PostList(tab="upcoming").pack())])
    return Screenful("\n".join(lines), rows)


async def _post_or_alert(query: CallbackQuery, uow: UnitOfWork, post_id: int) -> PostDTO | None:
    post = await PostRepo(uow.session).get(post_id)
    if post is None:
        await query.answer(_("This post no longer exists."), show_alert=True)
    return post


async def view_post(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork,
                    i18n: I18n, settings: Settings) -> None:
    post = await _post_or_alert(query, uow, callback_data.post_id)
    if post:
        await show(query, post_screen(post, i18n.current_locale, settings))
        await query.answer()


async def preview_post(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork,
                       bot: Bot) -> None:
    post = await _post_or_alert(query, uow, callback_data.post_id)
    if post:
        await query.answer()
        await send_previews(bot, query.from_user.id, _as_dict(post))


async def report(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork, bot: Bot,
                 i18n: I18n, publisher: Publisher) -> None:
    post = await _post_or_alert(query, uow, callback_data.post_id)
    if post is None:
        return
    await query.answer()
    text = await publisher.report(post.id, i18n.current_locale)
    await bot.send_message(query.from_user.id, text)


async def cancel_post(query: CallbackQuery, callback_data: PostAct, uow: UnitOfWork,
                      i18n: I18n, settings: Settings, publisher: Publisher) -> None:
    done = await PostRepo(uow.session).set_status(callback_data.post_id, CANCELLABLE,
                                                  "cancelled")
    if done is None:
        await query.answer(_("This post can't be cancelled now."), show_alert=True)
        return
    await audit.record(uow.session, query.from_user.id, Action.POST_CANCELLED,
                       audit.post_target(done.id))
    await _commit(uow)
    await publisher.unschedule(done.id)
    await query.answer(_("Cancelled."))
    await show(query, post_screen(done, i18n.current_locale, settings,
                                  _("Post #{id} is cancelled.").format(id=done.id)))


async def choose_edit_language(query: CallbackQuery, callback_data: PostAct,
                               uow: UnitOfWork) -> None:
    post = await _post_or_alert(query, uow, callback_data.post_id)
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
    repo = PostRepo(uow.session)
    post = await repo.get(data["post_id"])
    if post is None or post.status not in EDITABLE:
        await state.clear()
        await message.answer(_("This post can't be edited now."))
        return
    lang, markup = data["lang"], message.html_text
    errors = svc.text_errors(markup, lang, with_media=bool(post.media))
    if errors:
        await message.answer(_errors(errors))
        return
    await state.clear()
    editor = message.from_user.id  # type: ignore[union-attr]
    texts = {**post.texts, lang: markup}
    fallbacks = {k: v for k, v in (post.fallbacks or {}).items() if k != lang}
    was_scheduled = post.status == "scheduled" and needs_review(settings, role)
    fields: dict[str, Any] = {"texts": texts, "fallbacks": fallbacks}
    if was_scheduled:
        fields.update(status="pending", approved_by=None, approved_at=None)
    updated = await repo.update(post.id, **fields)
    assert updated is not None
    await audit.record(uow.session, editor, Action.POST_EDITED, audit.post_target(post.id),
                       lang=lang)
    await _commit(uow)
    note = _("The {language} text of post #{id} is replaced.").format(
        language=language_name(lang), id=post.id)
    if post.status == "sent":
        edited, failed = await publisher.edit_published(post.id)
        note += "\n" + _("Edited in {edited} sent messages; {failed} could not be edited.") \
            .format(edited=edited, failed=failed)
    elif was_scheduled:
        await publisher.unschedule(post.id)
        name = message.from_user.full_name  # type: ignore[union-attr]
        note += "\n" + _("It needs approval again.")
        if not await notify_reviewers(bot, i18n, uow, settings, updated, name):
            note += "\n" + nobody_to_review()
    await send(message, post_screen(updated, i18n.current_locale, settings, note))


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
    when = await _typed_when(message, settings, _("Type the date and time as text, or /cancel."))
    if when is None:
        return
    post_id = (await state.get_data())["post_id"]
    repo = PostRepo(uow.session)
    post = await repo.get(post_id)
    if post is None or post.status not in RESCHEDULABLE:
        await state.clear()
        await message.answer(_("This post can't be rescheduled now."))
        return
    await state.clear()
    status = post.status
    if status == "missed":
        status = "pending" if needs_review(settings, role) else "scheduled"
    updated = await repo.update(post_id, send_at=when.send_at, repeat=when.repeat, status=status)
    assert updated is not None
    await audit.record(uow.session, message.from_user.id,  # type: ignore[union-attr]
                       Action.POST_RESCHEDULED, audit.post_target(post_id),
                       send_at=when.send_at.isoformat() if when.send_at else None,
                       repeat=when.repeat)
    await _commit(uow)
    if status == "scheduled":
        await publisher.unschedule(post_id)
        await publisher.schedule(post_id)
    lang = i18n.current_locale
    note = _("Post #{id} now goes out: {when}.").format(
        id=post_id, when=when_label(updated.send_at, updated.repeat, lang, settings))
    if post.status == "missed" and status == "pending":
        name = message.from_user.full_name  # type: ignore[union-attr]
        if not await notify_reviewers(bot, i18n, uow, settings, updated, name):
            note += "\n" + nobody_to_review()
    await send(message, post_screen(updated, lang, settings, note))


def create_router() -> Router:
    from handlers.publishing.editors import EditorTraffic

    router = Router(name=__name__)
    m, c = router.message, router.callback_query
    m.register(new_post, Command("newpost"))
    m.register(posts_command, Command("posts"))
    m.register(got_text, StateFilter(PostForm.text))
    m.register(got_media, StateFilter(PostForm.media))
    m.register(got_buttons, StateFilter(PostForm.buttons))
    m.register(got_when, StateFilter(PostForm.when))
    m.register(got_reason, StateFilter(ReviewForm.reason))
    m.register(got_new_text, StateFilter(PostEdit.text))
    m.register(got_new_time, StateFilter(PostEdit.when))
    c.register(cancel_draft, DraftAct.filter(F.action == "cancel"))
    c.register(skip, DraftAct.filter(F.action == "skip"))
    c.register(toggle_target, DraftAct.filter(F.action == "target"), StateFilter(PostForm.targets))
    c.register(targets_done, DraftAct.filter(F.action == "next"), StateFilter(PostForm.targets))
    c.register(choose_fallback, DraftAct.filter(F.action == "fallback"),
               StateFilter(PostForm.fallback))
    c.register(send_now, DraftAct.filter(F.action == "now"), StateFilter(PostForm.when))
    c.register(submit, DraftAct.filter(F.action == "submit"), StateFilter(PostForm.confirm))
    c.register(approve, ReviewAct.filter(F.action == "ok"))
    c.register(ask_reason, ReviewAct.filter(F.action == "no"))
    c.register(posts_page, PostList.filter())
    c.register(view_post, PostAct.filter(F.action == "view"))
    c.register(preview_post, PostAct.filter(F.action == "preview"))
    c.register(report, PostAct.filter(F.action == "report"))
    c.register(cancel_post, PostAct.filter(F.action == "cancel"))
    c.register(choose_edit_language, PostAct.filter(F.action == "edit"))
    c.register(ask_new_text, PostAct.filter(F.action == "lang"))
    c.register(ask_new_time, PostAct.filter(F.action == "resched"))
    m.register(use_buttons, StateFilter(PostForm, PostEdit, ReviewForm))
    c.register(stale_button, EditorTraffic(prefixes=EDITOR_PREFIXES - ADMIN_PREFIXES,
                                           commands=frozenset(), states=False))
    return router


async def use_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel."))


async def stale_button(query: CallbackQuery) -> None:
    """A post button pressed out of its step (an old message, or a forged press)."""
    await query.answer(_("This button is out of date."), show_alert=True)
