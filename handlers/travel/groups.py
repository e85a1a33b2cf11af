"""The bot in groups: joining and leaving, settings for administrators, mentions and replies.

In a group the bot answers commands, messages that mention it and replies to its own
messages, nothing else. Only the group's administrators (asked of Telegram with
``getChatMember`` at the moment they act) change its settings: language, news (the
/subscribe command of the news subscriptions) and which countries' alerts it receives.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.callbacks import AskBack
from bot.answers.service import AnswerService
from bot.answers.store import ContentStore
from bot.config import LANGUAGE_NAMES, Settings
from bot.shared import tghtml
from bot.shared.i18n import locale
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful, flag
from bot.shared.tghtml import quote
from bot.travel import groups as svc
from bot.travel.callbacks import FollowCountry, GroupSetting
from handlers.answers.questions import show_choice
from handlers.ui import keyboard, send, show

log = logging.getLogger(__name__)
ADMIN_STATUSES = {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR}
GROUP_KINDS = ("group", "supergroup")


async def is_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramAPIError:
        return False
    return member.status in ADMIN_STATUSES


def intro() -> str:
    return "\n".join([
        _("Hello! I am the digital assistant of Kazakhstan's embassies and consulates."),
        _("In this group I answer commands, messages that mention me and replies to my "
          "messages. Ask me about passports, visas or any country."),
        "",
        _("Administrators can set me up:"),
        _("/settings: language and the countries whose travel alerts this group receives"),
        _("/follow <i>country</i>: receive that country's alerts here"),
        _("/subscribe: the ministry's news in this group"),
    ])


# --- membership ------------------------------------------------------------------------


def _membership(event: ChatMemberUpdated) -> svc.Membership:
    new = event.new_chat_member
    if new.status in (ChatMemberStatus.LEFT, ChatMemberStatus.KICKED):
        return svc.Membership.REMOVED
    if new.status == ChatMemberStatus.RESTRICTED and not getattr(new, "can_send_messages", True):
        return svc.Membership.MUTED
    if event.old_chat_member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.KICKED):
        return svc.Membership.CHANGED
    return svc.Membership.ADDED


async def my_membership(event: ChatMemberUpdated, uow: UnitOfWork, bot: Bot, i18n: I18n,
                        settings: Settings) -> None:
    chat = event.chat
    if chat.type not in GROUP_KINDS:
        return
    lang = svc.likely_language(chat.title, event.from_user.language_code,
                               settings.default_language)
    group = await svc.membership(uow.session, chat.id, chat.type, chat.title,
                                 _membership(event), lang, event.from_user.id)
    if group is None:
        return
    with locale(i18n, svc.group_lang(group, lang)):
        text = intro()
    try:
        await bot.send_message(chat.id, text)
    except TelegramAPIError as exc:
        log.info("could not introduce myself in %s: %s", chat.id, exc)
        await svc.cannot_post(uow.session, chat.id)


async def migrated(message: Message, uow: UnitOfWork) -> None:
    """A group became a supergroup: its settings move to the new chat id."""
    if message.migrate_to_chat_id:
        await svc.migrate(uow.session, message.chat.id, message.migrate_to_chat_id)


# --- settings (administrators) ------------------------------------------------------------


def settings_screen(group: svc.GroupDTO, store: ContentStore, lang: str,
                    note: str | None = None) -> Screenful:
    chosen = ", ".join(LANGUAGE_NAMES[x] for x in group.languages if x in LANGUAGE_NAMES)
    lines = [_("<b>Settings of this group</b>"),
             _("Language: {languages}").format(languages=chosen)]
    if group.countries:
        lines.append(_("Travel alerts for: {countries}").format(countries=", ".join(
            f"{flag(iso)} {quote(store.country_name(iso, lang))}" for iso in group.countries)))
    else:
        lines.append(_("Travel alerts: none yet. Add a country with /follow <i>country</i>."))
    lines.append(_("News: /subscribe or /unsubscribe."))
    rows = [[Button(("✅ " if code in group.languages else "") + name,
                    GroupSetting(action="lang", value=code).pack())
             for code, name in LANGUAGE_NAMES.items()]]
    rows += [[Button(_("🔕 Stop {country}").format(country=store.country_name(iso, lang)),
                     GroupSetting(action="drop", value=iso).pack())] for iso in group.countries]
    text = "\n".join(lines)
    return Screenful(f"{note}\n\n{text}" if note else text, rows)


async def _group_or_join(uow: UnitOfWork, message: Message,
                         settings: Settings) -> svc.GroupDTO:
    chat = message.chat
    return await svc.group_or_join(uow.session, chat.id, chat.type, chat.title,
                                   settings.default_language)


async def _refuse(message: Message) -> None:
    await message.reply(_("Only the group's administrators can change my settings."))


async def settings_command(message: Message, uow: UnitOfWork, bot: Bot, store: ContentStore,
                           settings: Settings, i18n: I18n) -> None:
    if message.from_user is None or not await is_admin(bot, message.chat.id,
                                                       message.from_user.id):
        await _refuse(message)
        return
    group = await _group_or_join(uow, message, settings)
    with locale(i18n, svc.group_lang(group, i18n.current_locale)):
        await send(message, settings_screen(group, store, svc.group_lang(group, "kk")))


async def follow_command(message: Message, command: CommandObject, uow: UnitOfWork, bot: Bot,
                         store: ContentStore, settings: Settings, i18n: I18n) -> None:
    if message.from_user is None or not await is_admin(bot, message.chat.id,
                                                       message.from_user.id):
        await _refuse(message)
        return
    group = await _group_or_join(uow, message, settings)
    lang = svc.group_lang(group, i18n.current_locale)
    with locale(i18n, lang):
        codes = store.index.find_countries((command.args or "")[:100], limit=2)
        if len(codes) != 1:
            await message.reply(_("Which country? For example: /follow Germany"))
            return
        iso = codes[0]
        if not await svc.add_country(uow.session, group, iso):
            await message.reply(_("A group may follow at most {limit} countries.").format(
                limit=svc.MAX_GROUP_COUNTRIES))
            return
        await message.reply(_("This group will receive travel alerts for {country}.").format(
            country=f"{flag(iso)} {quote(store.country_name(iso, lang))}"))


async def group_alerts(message: Message, uow: UnitOfWork, store: ContentStore,
                       settings: Settings, i18n: I18n) -> None:
    group = await _group_or_join(uow, message, settings)
    with locale(i18n, svc.group_lang(group, i18n.current_locale)):
        await send(message, settings_screen(group, store, svc.group_lang(group, "kk")))


async def _admin_pressed(query: CallbackQuery, bot: Bot, chat_id: int) -> bool:
    """Whether the person who pressed is the group's administrator now; if not, say so."""
    if await is_admin(bot, chat_id, query.from_user.id):
        return True
    await query.answer(_("Only the group's administrators can change my settings."),
                       show_alert=True)
    return False


async def setting_pressed(query: CallbackQuery, callback_data: GroupSetting, uow: UnitOfWork,
                          bot: Bot, store: ContentStore, i18n: I18n) -> None:
    message = query.message
    if message is None:
        await query.answer()
        return
    if not await _admin_pressed(query, bot, message.chat.id):
        return
    outcome, group = await svc.change_setting(uow.session, message.chat.id,
                                              callback_data.action, callback_data.value)
    if outcome == svc.Setting.GONE or group is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    if outcome == svc.Setting.LAST_LANGUAGE:
        await query.answer(_("The group needs at least one language."), show_alert=True)
        return
    with locale(i18n, svc.group_lang(group, "kk")):
        await show(query, settings_screen(group, store, svc.group_lang(group, "kk")))
        await query.answer()


async def follow_pressed(query: CallbackQuery, callback_data: FollowCountry, uow: UnitOfWork,
                         bot: Bot, store: ContentStore) -> None:
    """"Follow alerts" on a country card shown in the group: the group follows it."""
    message = query.message
    iso = callback_data.iso.upper()
    if message is None or iso not in store.countries:
        await query.answer()
        return
    if not await _admin_pressed(query, bot, message.chat.id):
        return
    await svc.follow_from_card(uow.session, message.chat.id, message.chat.type,
                               message.chat.title, iso)
    await query.answer(_("This group will receive these travel alerts."), show_alert=True)


class Migrated(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.migrate_to_chat_id is not None


# --- talking in the group -------------------------------------------------------------------


class AddressedToBot(Filter):
    """A message that mentions the bot or replies to one of its messages."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, str]:
        text = message.text or ""
        if not text:
            return False
        reply = message.reply_to_message
        if reply and reply.from_user and reply.from_user.id == bot.id:
            return {"question": text}
        me = await bot.me()
        mention = f"@{me.username}".lower() if me.username else None
        for entity in message.entities or ():
            if entity.type == "mention" and mention and \
                    entity.extract_from(text).lower() == mention:
                rest = (text[:entity.offset] + text[entity.offset + entity.length:]).strip()
                return {"question": rest}
        return False


# Buttons of an answer that work in a group: following a country's alerts, and the topics
# the bot asks back about when two are close (handlers/answers/questions.py answers them).
GROUP_BUTTONS = ("fc:", "ab:")


async def answer_in_group(message: Message, question: str, answers: AnswerService,
                          uow: UnitOfWork, i18n: I18n) -> None:
    group = await svc.get(uow.session, message.chat.id)
    fallback = svc.group_lang(group, i18n.current_locale)
    if not question:
        with locale(i18n, fallback):
            await message.reply(intro())
        return
    reply = answers.answer(question, fallback=fallback)
    screen = _for_group(reply.screen)
    await message.reply(tghtml.split(screen.html)[0], reply_markup=keyboard(screen))


def _for_group(screen: Screenful) -> Screenful:
    """The screen with only the buttons that work in a group (the menu does not)."""
    rows = [[b for b in row if b.url or (b.data or "").startswith(GROUP_BUTTONS)]
            for row in screen.buttons]
    return Screenful(screen.html, [row for row in rows if row])


async def choice_pressed(query: CallbackQuery, callback_data: AskBack, answers: AnswerService,
                         i18n: I18n) -> None:
    """A topic picked when the bot asked back in the group: its card, group buttons only."""
    await show_choice(query, callback_data, answers, i18n, _for_group)


async def group_help(message: Message, uow: UnitOfWork, i18n: I18n) -> None:
    group = await svc.get(uow.session, message.chat.id)
    with locale(i18n, svc.group_lang(group, i18n.current_locale)):
        await message.reply(intro())


def create_command_router() -> Router:
    """Group commands; the parent router lets only commands of groups through."""
    router = Router(name=__name__ + ".commands")
    router.message.register(settings_command, Command("settings"))
    router.message.register(follow_command, Command("follow"))
    router.message.register(group_alerts, Command("alerts"))
    router.message.register(group_help, Command("start", "help"))
    return router


def create_router() -> Router:
    """Membership, migration, buttons and messages addressed to the bot in groups."""
    router = Router(name=__name__)
    router.my_chat_member.register(my_membership)
    router.message.register(migrated, Migrated())
    router.callback_query.register(setting_pressed, GroupSetting.filter())
    router.callback_query.register(follow_pressed, FollowCountry.filter())
    router.callback_query.register(choice_pressed, AskBack.filter())
    router.message.register(answer_in_group, AddressedToBot())
    return router
