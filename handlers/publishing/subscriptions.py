"""Who receives the ministry's news: citizens, groups (their admins decide), channels.

Citizens subscribe in their language from /subscribe or the menu's News button. In a
group, an administrator's /subscribe (checked with getChatMember at that moment) makes
the group a broadcast target. Channels are registered by the bot's administrators
(/channels) once the bot is an administrator there, with the languages they publish in.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, MessageOriginChannel
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES
from bot.navigation.callbacks import Nav, Screen
from bot.publishing import subscriptions as news
from bot.publishing.callbacks import ChannelAct, News
from bot.publishing.posts import language_name
from bot.publishing.states import ChannelForm
from bot.shared.audit import Action
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from bot.shared.tghtml import quote
from handlers.ui import send, show

log = logging.getLogger(__name__)
CHAT_ADMINS = (ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR)


# --- citizens ------------------------------------------------------------------------


def _menu_button() -> Button:
    return Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())


async def news_screen(uow: UnitOfWork, user_id: int, note: str | None = None) -> Screenful:
    language = await news.news_language(uow.session, user_id)
    lines = [note, ""] if note else []
    if language is not None:
        lines.append(_("You receive the Ministry of Foreign Affairs' news in {language}.")
                     .format(language=language_name(language)))
        action = Button(_("🔕 Unsubscribe"), News(action="unsub").pack())
    else:
        lines.append(_("Get the Ministry of Foreign Affairs' news here, in your language: "
                       "a few posts a week, no more."))
        action = Button(_("🔔 Subscribe"), News(action="sub").pack())
    return Screenful("\n".join(lines), [[action], [_menu_button()]])


async def _subscribe(uow: UnitOfWork, user_id: int, lang: str) -> str:
    await news.subscribe(uow.session, user_id, lang)
    return _("Done: you will receive the news in {language}. You can stop with /unsubscribe "
             "at any time.").format(language=language_name(lang))


async def _unsubscribe(uow: UnitOfWork, user_id: int) -> str:
    if await news.unsubscribe(uow.session, user_id):
        return _("You will no longer receive the news.")
    return _("You were not subscribed to the news.")


async def subscribe_command(message: Message, uow: UnitOfWork, i18n: I18n) -> None:
    user_id = message.from_user.id  # type: ignore[union-attr]
    note = await _subscribe(uow, user_id, i18n.current_locale)
    await send(message, await news_screen(uow, user_id, note))


async def unsubscribe_command(message: Message, uow: UnitOfWork) -> None:
    user_id = message.from_user.id  # type: ignore[union-attr]
    note = await _unsubscribe(uow, user_id)
    await send(message, await news_screen(uow, user_id, note))


async def news_button(query: CallbackQuery, callback_data: News, uow: UnitOfWork,
                      i18n: I18n) -> None:
    user_id = query.from_user.id
    note = None
    if callback_data.action == "sub":
        note = await _subscribe(uow, user_id, i18n.current_locale)
    elif callback_data.action == "unsub":
        note = await _unsubscribe(uow, user_id)
    await show(query, await news_screen(uow, user_id, note))
    await query.answer()


def create_router() -> Router:
    """Private chats, for everyone."""
    router = Router(name=__name__)
    router.message.register(subscribe_command, Command("subscribe"))
    router.message.register(unsubscribe_command, Command("unsubscribe"))
    router.callback_query.register(news_button, News.filter())
    return router


# --- groups --------------------------------------------------------------------------


def parse_languages(args: str | None, default: str) -> tuple[str, ...] | None:
    """Languages named after the command (kk ru en), or the default; None if unknown."""
    words = (args or "").lower().replace(",", " ").split()
    if not words:
        return (default,)
    if any(w not in LANGUAGES for w in words):
        return None
    return tuple(c for c in LANGUAGES if c in words)


async def _is_chat_admin(message: Message, bot: Bot) -> bool:
    """Asked of Telegram now: status in the group, or an anonymous admin of the group."""
    if message.sender_chat is not None:
        return message.sender_chat.id == message.chat.id
    if message.from_user is None:
        return False
    try:
        member = await bot.get_chat_member(message.chat.id, message.from_user.id)
    except TelegramAPIError as exc:
        log.info("getChatMember failed in %s: %s", message.chat.id, exc)
        return False
    return member.status in CHAT_ADMINS


def _actor(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None


async def group_subscribe(message: Message, command: CommandObject, uow: UnitOfWork,
                          bot: Bot, i18n: I18n) -> None:
    chat = message.chat
    if not await _is_chat_admin(message, bot):
        await news.refused(uow.session, _actor(message), chat.id, Action.GROUP_SUBSCRIBE,
                           "not a group administrator")
        await message.reply(_("Only an administrator of this group can subscribe it to the "
                              "ministry's news."))
        return
    langs = parse_languages(command.args, i18n.current_locale)
    if langs is None:
        await message.reply(_("Name the languages as kk, ru or en, for example "
                              "/subscribe kk ru"))
        return
    await news.subscribe_chat(uow.session, _actor(message), chat.id, chat.type, chat.title,
                              langs)
    await message.reply(_("This group will receive the ministry's news in {languages}. "
                          "An administrator can stop it with /unsubscribe.").format(
                              languages=", ".join(language_name(c) for c in langs)))


async def group_unsubscribe(message: Message, uow: UnitOfWork, bot: Bot) -> None:
    chat = message.chat
    if not await _is_chat_admin(message, bot):
        await news.refused(uow.session, _actor(message), chat.id, Action.GROUP_UNSUBSCRIBE,
                           "not a group administrator")
        await message.reply(_("Only an administrator of this group can stop the news here."))
        return
    changed = await news.unsubscribe_group(uow.session, _actor(message), chat.id)
    await message.reply(_("This group will no longer receive the ministry's news.")
                        if changed else _("This group was not subscribed to the news."))


def create_group_router() -> Router:
    """Groups and supergroups: commands only."""
    router = Router(name=__name__ + ".groups")
    router.message.register(group_subscribe, Command("subscribe"))
    router.message.register(group_unsubscribe, Command("unsubscribe"))
    return router


# --- channels (the bot's administrators) ---------------------------------------------


async def channels_screen(uow: UnitOfWork, note: str | None = None) -> Screenful:
    channels = await news.channels(uow.session)
    lines = [note, ""] if note else []
    lines.append(_("<b>Channels that receive posts</b>"))
    for ch in channels:
        state = "" if ch.active else " " + _("(inactive)")
        lines.append(f"• {quote(ch.title or str(ch.chat_id))}: "
                     + ", ".join(language_name(c) for c in ch.languages) + state)
    if not channels:
        lines.append(_("None yet."))
    rows = [[Button(_("✖ Remove {title}").format(title=ch.title or ch.chat_id),
                    ChannelAct(action="rm", chat_id=ch.chat_id).pack())] for ch in channels]
    rows.append([Button(_("➕ Add a channel"), ChannelAct(action="add").pack())])
    return Screenful("\n".join(lines), rows)


async def channels_command(message: Message, uow: UnitOfWork, state: FSMContext) -> None:
    await state.clear()
    await send(message, await channels_screen(uow))


async def channels_list(query: CallbackQuery, uow: UnitOfWork, state: FSMContext) -> None:
    await state.clear()
    await show(query, await channels_screen(uow))
    await query.answer()


def _back_row() -> list[Button]:
    return [Button(_("✖ Cancel"), ChannelAct(action="list").pack())]


async def ask_channel(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(ChannelForm.channel)
    await show(query, Screenful(_(
        "Make me an administrator of the channel with the right to post, then forward me any "
        "post from it, or send its @username."), [_back_row()]))
    await query.answer()


async def got_channel(message: Message, state: FSMContext, bot: Bot) -> None:
    origin = message.forward_origin
    ref: int | str | None = None
    if isinstance(origin, MessageOriginChannel):
        ref = origin.chat.id
    elif message.text and message.text.strip().startswith("@"):
        ref = message.text.strip().split()[0]
    if ref is None:
        await send(message, Screenful(_("Forward a post from the channel, or send its "
                                        "@username."), [_back_row()]))
        return
    try:
        chat = await bot.get_chat(ref)
        me = await bot.get_chat_member(chat.id, bot.id)
    except TelegramAPIError:
        await send(message, Screenful(_("I can't find that channel. Is the @username right, "
                                        "and am I an administrator there?"), [_back_row()]))
        return
    if chat.type != "channel":
        await send(message, Screenful(_("That is not a channel."), [_back_row()]))
        return
    if me.status not in CHAT_ADMINS:
        await send(message, Screenful(_("I am not an administrator of {title} yet. Add me as "
                                        "an administrator who can post, then try again.").format(
                                            title=quote(chat.title or "")), [_back_row()]))
        return
    await state.set_state(ChannelForm.languages)
    await state.update_data(chat_id=chat.id, title=chat.title, languages=[])
    await send(message, languages_screen(chat.title or "", []))


def languages_screen(title: str, chosen: list[str]) -> Screenful:
    toggles = [Button(("✅ " if c in chosen else "▫️ ") + language_name(c),
                      ChannelAct(action="lang", value=c).pack()) for c in LANGUAGES]
    return Screenful(_("In which languages does {title} publish? Posts go there in each "
                       "language you choose.").format(title=quote(title)),
                     [toggles, [Button(_("Save"), ChannelAct(action="save").pack())],
                      _back_row()])


async def toggle_language(query: CallbackQuery, callback_data: ChannelAct,
                          state: FSMContext) -> None:
    data = await state.get_data()
    if callback_data.value not in LANGUAGES:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    chosen = set(data["languages"]) ^ {callback_data.value}
    languages = [c for c in LANGUAGES if c in chosen]
    await state.update_data(languages=languages)
    await show(query, languages_screen(data.get("title") or "", languages))
    await query.answer()


async def save_channel(query: CallbackQuery, state: FSMContext, uow: UnitOfWork) -> None:
    data = await state.get_data()
    if not data["languages"]:
        await query.answer(_("Choose at least one language."), show_alert=True)
        return
    await news.subscribe_chat(uow.session, query.from_user.id, data["chat_id"], "channel",
                              data.get("title"), tuple(data["languages"]))
    await state.clear()
    note = _("{title} will receive posts.").format(title=quote(data.get("title") or ""))
    await show(query, await channels_screen(uow, note))
    await query.answer()


async def remove_channel(query: CallbackQuery, callback_data: ChannelAct,
                         uow: UnitOfWork) -> None:
    found = await news.remove_channel(uow.session, query.from_user.id, callback_data.chat_id)
    if found is None:
        await query.answer(_("This channel is not registered."), show_alert=True)
        await show(query, await channels_screen(uow))
        return
    note = _("{title} will no longer receive posts.").format(title=quote(found.title or ""))
    await show(query, await channels_screen(uow, note))
    await query.answer()


async def use_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel."))


def create_channels_router() -> Router:
    router = Router(name=__name__ + ".channels")
    router.message.register(channels_command, Command("channels"))
    router.message.register(got_channel, StateFilter(ChannelForm.channel))
    router.message.register(use_buttons, StateFilter(ChannelForm.languages))
    router.callback_query.register(channels_list, ChannelAct.filter(F.action == "list"))
    router.callback_query.register(ask_channel, ChannelAct.filter(F.action == "add"))
    router.callback_query.register(remove_channel, ChannelAct.filter(F.action == "rm"))
    router.callback_query.register(toggle_language, ChannelAct.filter(F.action == "lang"),
                                   StateFilter(ChannelForm.languages))
    router.callback_query.register(save_channel, ChannelAct.filter(F.action == "save"),
                                   StateFilter(ChannelForm.languages))
    return router
