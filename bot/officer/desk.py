"""Requests to a consular officer: one forum topic per request in the operators' group.

The citizen's messages are copied into their request's topic and nowhere else; an
officer's message in that topic is copied to that request's citizen and nobody else.
Routing is by the stored request, never by anything the citizen sends, so two people's
requests cannot cross and a citizen cannot write into another topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.cards import emergency_block, topic_card
from bot.answers.store import ContentStore
from bot.config import LANGUAGE_NAMES, LANGUAGES, Settings
from bot.officer.callbacks import OfficerCb
from bot.shared import tghtml
from bot.shared.i18n import locale
from bot.shared.render import flag
from bot.shared.tghtml import quote
from bot.shared.translation import gettext as _
from bot.shared.translation import ngettext
from storage.models.base import utcnow
from storage.officer import DialogueRepo, GroupCopies, RequestDTO

log = logging.getLogger(__name__)

# Topics where life or liberty may be at stake (arrest and accidents are in emergency-help).
# A lost passport is stressful but not urgent: it has a routine procedure.
URGENT_TOPICS = frozenset({"emergency-help", "death-abroad"})
COPYABLE = ("text", "photo", "document", "location", "venue", "video", "voice", "audio")


class RequestError(Exception):
    """The operators' group refused the request (not a forum, bot not an admin...)."""


class Operators:
    """Who may write to citizens: the administrators of the operators' group.

    Telegram is the list: whoever the group's owner made an administrator is an operator;
    plain members read but cannot reach citizens. One getChatAdministrators answer is kept
    for ``ttl`` seconds per process, so a busy desk does not cost a call per message; a
    demoted administrator is refused at the latest ``ttl`` seconds later. If Telegram
    cannot be asked, nobody is an operator until it can (the desk fails closed).
    """

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._known: dict[int, tuple[float, frozenset[int]]] = {}
        self._lock = asyncio.Lock()

    async def admins(self, bot: Bot, chat_id: int) -> frozenset[int]:
        async with self._lock:
            known = self._known.get(chat_id)
            if known is not None and known[0] > time.monotonic():
                return known[1]
            try:
                members = await bot.get_chat_administrators(chat_id)
            except TelegramAPIError as exc:
                log.warning("operators' group %s: administrators unknown (%s)", chat_id, exc)
                return frozenset()
            ids = frozenset(m.user.id for m in members if not m.user.is_bot and m.status in (
                ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR))
            self._known[chat_id] = (time.monotonic() + self.ttl, ids)
            return ids

    async def allows(self, bot: Bot, chat_id: int, user_id: int | None) -> bool:
        return user_id is not None and user_id in await self.admins(bot, chat_id)


def message_kind(message: Message) -> str | None:
    """What the citizen or officer sent, if it is something that can be copied."""
    for kind in COPYABLE:
        if getattr(message, kind, None) is not None:
            return "location" if kind == "venue" else kind
    return None


def topic_title(req: RequestDTO) -> str:
    title = f"#{req.id} · {req.lang} · {req.country or '—'}"
    return f"🚨 {title}" if req.urgent else title


def is_urgent(topic: str | None) -> bool:
    return topic in URGENT_TOPICS


def hotline_advice(store: ContentStore, iso: str | None, lang: str) -> str:
    """The 24/7 advice shown before anything else in an emergency; numbers only from content."""
    lines = [
        _("🚨 <b>If someone's life, health or liberty is in danger right now:</b>"),
        _("1. Call the local emergency number."),
        _("2. Call the embassy's or consulate's 24/7 duty phone: it is on the official page "
          "of the mission."),
        _("3. Then describe your case here: a consular officer will read it."),
    ]
    if iso and iso in store.countries:
        country = store.countries[iso]
        lines.append("")
        lines.append(f"{flag(iso)} <b>{quote(store.country_name(iso, lang))}</b>")
        lines.append(emergency_block(country))
        for mission in country.missions:
            if mission.website:
                lines.append(f'<a href="{quote(mission.website)}">{_("Official page")}</a>')
                break
    return "\n".join(lines)


def _markup(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
        for row in rows
    ])


def reply_markup(req: RequestDTO) -> InlineKeyboardMarkup:
    return _markup([[(_("✍️ Reply to the officer"), OfficerCb(action="talk", rid=req.id).pack())]])


def rating_markup(req: RequestDTO) -> InlineKeyboardMarkup:
    stars = [(f"{n} ⭐", OfficerCb(action="rate", rid=req.id, arg=str(n)).pack())
             for n in range(1, 6)]
    return _markup([stars, [(_("🔄 Reopen the request"),
                             OfficerCb(action="reopen", rid=req.id).pack())]])


@dataclass
class CopiesErased:
    """What /forget_me did in the operators' group: ``topics`` deleted whole (every message,
    whatever its age), ``messages`` deleted one by one where a topic could not be, and
    ``kept``: the bot's copies Telegram would not let it delete (older than 48 hours, or
    the bot is no longer an administrator there)."""

    topics: int = 0
    messages: int = 0
    kept: int = 0


# What Telegram answers when the topic is not there any more: nothing is left to delete.
GONE = ("thread not found", "TOPIC_ID_INVALID", "TOPIC_DELETED")


@dataclass
class Draft:
    """What the citizen has written so far, before the request exists."""

    lang: str
    topic: str | None
    country: str | None
    question_id: int | None
    messages: list[tuple[int, str]]

    @property
    def urgent(self) -> bool:
        return is_urgent(self.topic)


class OfficerDesk:
    """Everything about requests that talks to Telegram, in one place for handlers and jobs."""

    def __init__(self, bot: Bot, settings: Settings, store: ContentStore, i18n: I18n) -> None:
        self.bot, self.settings, self.store, self.i18n = bot, settings, store, i18n

    @property
    def group(self) -> int:
        if self.settings.operators_chat_id is None:
            raise RequestError("OPERATORS_CHAT_ID is not set")
        return self.settings.operators_chat_id

    async def citizen_language(self, repo: DialogueRepo, req: RequestDTO) -> str:
        """The language the citizen chose last (they may have changed it since the request
        was opened), else the one they opened it in."""
        chosen = await repo.chosen_language(req.user_id) if req.user_id is not None else None
        return str(chosen) if chosen in LANGUAGES else req.lang

    def _operators_locale(self) -> contextlib.AbstractContextManager[None]:
        return locale(self.i18n, self.settings.desk_language)

    def header(self, req: RequestDTO, question: str | None) -> str:
        """The topic's first message, in the operators' language (OPERATORS_LANGUAGE)."""
        lang = self.settings.desk_language
        with self._operators_locale():
            lines = [f"<b>{quote(topic_title(req))}</b>"]
            if req.urgent:
                lines.append(_("🚨 Urgent: the citizen was shown the 24/7 hotline advice."))
            if req.country and req.country in self.store.countries:
                lines.append(_("Country: {country}").format(
                    country=f"{flag(req.country)} "
                            + quote(self.store.country_name(req.country, lang))))
            if req.topic and req.topic in self.store.topics:
                lines.append(_("Topic: {topic}").format(
                    topic=quote(self.store.topics[req.topic].title.get(lang))))
            if question:
                lines.append(_("Question asked: {text}").format(text=quote(question[:500])))
            lines.append(_("Language: {lang}. Reply in this topic: every message goes to the "
                           "citizen. {command} sends a ready answer in their language.")
                         .format(lang=LANGUAGE_NAMES[req.lang], command=quote("/answer <topic>")))
            return "\n".join(lines)

    def _close_markup(self, req: RequestDTO) -> InlineKeyboardMarkup:
        with self._operators_locale():
            return _markup([[(_("✅ Close the request"),
                              OfficerCb(action="close", rid=req.id).pack())]])

    async def open(self, repo: DialogueRepo, user_id: int, draft: Draft,
                   question: str | None, now: datetime | None = None) -> RequestDTO:
        req = await repo.create_request(user_id, draft.lang, draft.country, draft.topic,
                                        draft.question_id, draft.urgent, self.group, now)
        try:
            topic = await self.bot.create_forum_topic(self.group, topic_title(req))
            header = await self.bot.send_message(
                self.group, self.header(req, question), message_thread_id=topic.message_thread_id,
                reply_markup=self._close_markup(req),
            )
        except TelegramAPIError as exc:
            # The row is already committed (no update holds a connection across an API
            # call), so a request that never reached the desk is closed, not rolled back.
            await repo.close(req.id)
            raise RequestError(str(exc)) from exc
        await repo.attach_topic(req.id, topic.message_thread_id, header.message_id)
        req = await repo.get_request(req.id)  # type: ignore[assignment]
        for message_id, kind in draft.messages:
            await self._copy_in(repo, req, user_id, message_id, kind, now)
        return req

    async def _copy_in(self, repo: DialogueRepo, req: RequestDTO, user_id: int, message_id: int,
                       kind: str, now: datetime | None = None) -> None:
        copied = await self.bot.copy_message(
            self.group, user_id, message_id, message_thread_id=req.thread_id)
        await repo.add_message(req.id, "in", kind, message_id, copied.message_id, now=now)

    async def citizen_wrote(self, repo: DialogueRepo, req: RequestDTO, message: Message) -> bool:
        kind = message_kind(message)
        if kind is None or req.user_id is None or message.chat.id != req.user_id:
            return False
        await self._copy_in(repo, req, req.user_id, message.message_id, kind)
        return True

    async def officer_wrote(self, repo: DialogueRepo, req: RequestDTO, message: Message) -> bool:
        """Copy an officer's message to the citizen: the name only if SHOW_OFFICER_NAMES."""
        kind = message_kind(message)
        if kind is None or req.user_id is None or not req.is_open:
            return False
        officer = message.from_user
        with locale(self.i18n, await self.citizen_language(repo, req)):
            markup = reply_markup(req)
            signature = ""
            if self.settings.show_officer_names and officer:
                signature = _("👤 Consular officer {name}").format(name=quote(officer.full_name))
        if signature and message.text:
            sent = await self.bot.send_message(
                req.user_id, f"{signature}\n\n{message.html_text}", reply_markup=markup)
            out_id = sent.message_id
        elif signature and kind != "location":
            caption = f"{signature}\n\n{message.html_text}" if message.caption else signature
            copied = await self.bot.copy_message(
                req.user_id, message.chat.id, message.message_id,
                caption=caption[:tghtml.CAPTION_LIMIT], reply_markup=markup)
            out_id = copied.message_id
        else:
            copied = await self.bot.copy_message(
                req.user_id, message.chat.id, message.message_id, reply_markup=markup)
            out_id = copied.message_id
        await repo.add_message(req.id, "out", kind, out_id, message.message_id,
                               officer_id=officer.id if officer else None)
        return True

    async def send_answer(self, repo: DialogueRepo, req: RequestDTO, slug: str,
                          officer_id: int | None) -> bool:
        """``/answer <slug>``: the content topic's card in the citizen's language."""
        if slug not in self.store.topics or req.user_id is None or not req.is_open:
            return False
        lang = await self.citizen_language(repo, req)
        with locale(self.i18n, lang):
            card = topic_card(self.store, slug, lang, self.settings.tz, req.country)
            markup = reply_markup(req)
        chunks = tghtml.split(card.html)
        sent = None
        for i, chunk in enumerate(chunks):
            sent = await self.bot.send_message(
                req.user_id, chunk, reply_markup=markup if i == len(chunks) - 1 else None)
        with self._operators_locale():
            note = _("📎 Sent the answer “{title}” in {lang}.").format(
                title=quote(self.store.topics[slug].title.get(self.settings.desk_language)),
                lang=LANGUAGE_NAMES[lang])
        posted = await self.bot.send_message(self.group, note, message_thread_id=req.thread_id)
        await repo.add_message(req.id, "out", "answer", sent.message_id if sent else None,
                               posted.message_id, officer_id=officer_id)
        return True

    async def close(self, repo: DialogueRepo, req: RequestDTO,
                    now: datetime | None = None) -> bool:
        if not await repo.close(req.id, now):
            return False
        with contextlib.suppress(TelegramAPIError):
            if req.header_message_id:
                await self.bot.edit_message_reply_markup(
                    chat_id=self.group, message_id=req.header_message_id, reply_markup=None)
        with self._operators_locale(), contextlib.suppress(TelegramAPIError):
            await self.bot.send_message(self.group, _("✅ Request closed."),
                                        message_thread_id=req.thread_id)
        with contextlib.suppress(TelegramAPIError):
            await self.bot.close_forum_topic(self.group, req.thread_id)  # type: ignore[arg-type]
        if req.user_id is not None:
            with locale(self.i18n, await self.citizen_language(repo, req)):
                text = _("Request #{number} has been closed by the consular officer. How much "
                         "did we help? You can reopen it within {days} days if something is "
                         "still unresolved.").format(number=req.id,
                                                     days=self.settings.officer_reopen_days)
                markup = rating_markup(req)
            with contextlib.suppress(TelegramAPIError):
                await self.bot.send_message(req.user_id, text, reply_markup=markup)
        return True

    def can_reopen(self, req: RequestDTO, now: datetime | None = None) -> bool:
        if req.is_open or req.closed_at is None:
            return False
        limit = timedelta(days=self.settings.officer_reopen_days)
        return (now or utcnow()) - req.closed_at <= limit

    async def reopen(self, repo: DialogueRepo, req: RequestDTO,
                     now: datetime | None = None) -> bool:
        if not self.can_reopen(req, now) or not await repo.reopen(req.id, now):
            return False
        with contextlib.suppress(TelegramAPIError):
            await self.bot.reopen_forum_topic(self.group, req.thread_id)  # type: ignore[arg-type]
        with self._operators_locale():
            note = _("🔄 The citizen reopened the request.")
            markup = self._close_markup(req)
        await self.bot.send_message(self.group, note, message_thread_id=req.thread_id,
                                    reply_markup=markup)
        return True


async def erase_copies(desk: OfficerDesk, session: AsyncSession, user_id: int) -> CopiesErased:
    """Remove the person's words from the operators' group, before their rows go.

    deleteForumTopic takes a request's topic with every message in it, whatever its age.
    If Telegram refuses (the bot lost the right to delete messages), the bot's own copies
    are deleted one by one, which Telegram allows within 48 hours; what is left is counted
    and the operators are asked, in the topic, to delete it by hand.
    """
    done = CopiesErased()
    for topic in await DialogueRepo(session).group_copies(user_id):
        try:
            await desk.bot.delete_forum_topic(topic.chat_id, topic.thread_id)
        except TelegramBadRequest as exc:
            if any(reason in exc.message for reason in GONE):
                done.topics += 1
                continue
            log.info("topic of request %s not deleted (%s)", topic.request_id, exc.message)
        except TelegramAPIError as exc:
            log.info("topic of request %s not deleted (%s)", topic.request_id, exc)
        else:
            done.topics += 1
            continue
        kept = await _delete_one_by_one(desk.bot, topic)
        done.messages += len(topic.message_ids) - kept
        done.kept += kept
        if kept:
            await _ask_operators_to_delete(desk, topic, kept)
    return done


async def _delete_one_by_one(bot: Bot, topic: GroupCopies) -> int:
    kept = 0
    for message_id in topic.message_ids:
        try:
            await bot.delete_message(topic.chat_id, message_id)
        except TelegramBadRequest as exc:
            if "not found" not in exc.message:
                kept += 1
        except TelegramAPIError:
            kept += 1
    return kept


async def _ask_operators_to_delete(desk: OfficerDesk, topic: GroupCopies, kept: int) -> None:
    with desk._operators_locale():
        text = ngettext(
            "🗑 The citizen of request #{number} erased their data. Telegram did not let me "
            "delete {count} message with their words in this topic: an administrator, "
            "please delete the topic.",
            "🗑 The citizen of request #{number} erased their data. Telegram did not let me "
            "delete {count} messages with their words in this topic: an administrator, "
            "please delete the topic.", kept).format(number=topic.request_id, count=kept)
    try:
        await desk.bot.send_message(topic.chat_id, text, message_thread_id=topic.thread_id)
    except TelegramAPIError:  # a closed topic: say it in the group's general chat instead
        with contextlib.suppress(TelegramAPIError):
            await desk.bot.send_message(topic.chat_id, text)


async def check_sla(desk: OfficerDesk, factory: async_sessionmaker[AsyncSession],
                    now: datetime | None = None) -> list[int]:
    """Flag every request nobody answered within OFFICER_SLA_HOURS, once, across processes."""
    now = now or utcnow()
    hours = desk.settings.officer_sla_hours
    cutoff = now - timedelta(hours=hours)
    flagged: list[int] = []
    async with factory() as session:
        overdue = await DialogueRepo(session).overdue(cutoff)
    for req in overdue:
        async with factory() as session, session.begin():
            if not await DialogueRepo(session).claim_sla_flag(req.id, now):
                continue
        with desk._operators_locale():
            text = _("⏰ No answer for more than {hours} hours: request #{number} needs an "
                     "officer.").format(hours=f"{hours:g}", number=req.id)
        try:
            await desk.bot.send_message(desk.group, text, message_thread_id=req.thread_id)
            await desk.bot.send_message(desk.group, text)
        except TelegramAPIError:
            log.warning("could not flag request %s in the operators' group", req.id)
        flagged.append(req.id)
    return flagged
