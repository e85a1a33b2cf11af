"""How the editors' post screens look and reach people: summaries, previews, the review
request to every other editor, and messages to a person in their own language."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import get_day_names
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES, Settings
from bot.publishing import posts as svc
from bot.publishing import render
from bot.publishing import service as posts
from bot.publishing.callbacks import PostAct, PostList, ReviewAct
from bot.publishing.posts import language_name
from bot.publishing.render import SKIP
from bot.publishing.service import (
    CANCELLABLE,
    EDITABLE,
    RESCHEDULABLE,
    WITH_REPORT,
    as_draft,
    moment,
    status_label,
)
from bot.shared.i18n import locale, reader_language
from bot.shared.render import Button, Screenful
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_datetime

log = logging.getLogger(__name__)


async def send_previews(bot: Bot, chat_id: int, post: dict[str, Any]) -> None:
    """Each audience's language of the post, sent exactly as its recipients get it."""
    wanted = svc.audiences(post.get("targets") or {})
    for lang in (code for code in LANGUAGES if code in wanted):
        rendered = render.of_draft(post, lang)
        if rendered is None:
            continue
        await bot.send_message(chat_id, _("Preview for the {language} audience:").format(
            language=language_name(lang)))
        await rendered.send(bot, chat_id)


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
        _("Time: {when}").format(when=when_label(moment(post.get("send_at")),
                                                 post.get("repeat"), lang, settings)),
    ]
    if media:
        lines.append(_("Attachment: {kind}").format(
            kind=_("photo") if media == "photo" else _("document")))
    rows = (post.get("buttons") or {}).get("rows", [])
    if rows:
        lines.append(_("Link buttons: {count}").format(count=len(rows)))
    return "\n".join(lines)


def errors_text(errors: list[str]) -> str:
    return _("Please fix this first:") + "\n" + "\n".join(f"• {e}" for e in errors)


def nobody_to_review() -> str:
    return _("Nobody else can approve it yet: a second person is needed. An administrator "
             "adds an editor with /editors → “➕ Add an editor”; administrators are set with "
             "ADMIN_IDS in the bot's settings. Until then the post waits in /posts.")


async def tell(bot: Bot, i18n: I18n, session: AsyncSession, user_id: int,
               make: Callable[[], str], markup: InlineKeyboardMarkup | None = None) -> bool:
    """Message another person in their own language; False if Telegram refused."""
    lang = await reader_language(session, user_id, i18n.default_locale)
    with locale(i18n, lang):
        try:
            await bot.send_message(user_id, make(), reply_markup=markup)
        except TelegramAPIError as exc:
            log.info("could not message %s: %s", user_id, exc)
            return False
    return True


def review_markup(post_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("✅ Approve"),
                             callback_data=ReviewAct(action="ok", post_id=post_id).pack()),
        InlineKeyboardButton(text=_("↩️ Reject"),
                             callback_data=ReviewAct(action="no", post_id=post_id).pack()),
    ]])


async def notify_reviewers(bot: Bot, i18n: I18n, session: AsyncSession, settings: Settings,
                           post: posts.PostDTO, reviewers: list[posts.RoleDTO],
                           author_name: str) -> int:
    """Every reviewer gets the previews and the two buttons; how many were reached.

    The post is committed before the first of these messages leaves (the unit of work
    releases its transaction before any API call), so a quick Approve finds it."""
    reached = 0
    for reviewer in reviewers:
        lang = await reader_language(session, reviewer.user_id, i18n.default_locale)
        with locale(i18n, lang):
            try:
                await bot.send_message(reviewer.user_id, _(
                    "<b>Post #{id}</b> by {author} needs approval.").format(
                        id=post.id, author=quote(author_name)) + "\n"
                    + summary(as_draft(post), lang, settings))
                await send_previews(bot, reviewer.user_id, as_draft(post))
                await bot.send_message(reviewer.user_id, _("Approve post #{id}?").format(
                    id=post.id), reply_markup=review_markup(post.id))
                reached += 1
            except TelegramAPIError as exc:
                log.info("could not reach reviewer %s: %s", reviewer.user_id, exc)
    return reached


def post_screen(post: posts.PostDTO, lang: str, settings: Settings, note: str | None = None
                ) -> Screenful:
    lines = [note, ""] if note else []
    lines += [_("<b>Post #{id}</b> · {status}").format(id=post.id,
                                                       status=status_label(post.status)),
              summary(as_draft(post), lang, settings)]
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
