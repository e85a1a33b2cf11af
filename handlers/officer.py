"""Reaching a consular officer.

Citizen side (private chat): /officer, the menu entry and "This did not help — ask an
officer" open a request: the case in their own words (text, photos, location), a country,
then a number. While they talk to the officer, everything they send goes to their request.
Operators' side (the forum group OPERATORS_CHAT_ID): a message in a request's topic goes
to that request's citizen; /answer <topic> sends a ready answer; a button closes. Only the
group's administrators are operators (:class:`IsOperator`); what anyone else tries there
is ignored (a button is answered) and written to the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.filters import Command, CommandObject, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, Message, TelegramObject, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.store import ContentStore
from bot.config import Settings
from bot.navigation import screens
from bot.officer.callbacks import OfficerCb
from bot.officer.desk import (
    Draft,
    OfficerDesk,
    Operators,
    RequestError,
    hotline_advice,
    is_urgent,
    message_kind,
)
from bot.officer.service import Refusal, Request, Requests
from bot.shared import audit
from bot.shared.i18n import locale
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful, flag
from bot.shared.textnorm import READ_CHARS
from bot.shared.tghtml import quote
from handlers.ui import send

log = logging.getLogger(__name__)
MAX_DRAFT_MESSAGES = 10


class OfficerForm(StatesGroup):
    describe = State()
    country = State()
    talking = State()


class InOperatorsChat(Filter):
    async def __call__(self, event: Message | CallbackQuery, settings: Settings) -> bool:
        chat_id = settings.operators_chat_id
        if chat_id is None:
            return False
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.id == chat_id


class IsOperator(Filter):
    """The sender is an administrator of the operators' group (Telegram's word, cached)."""

    async def __call__(self, event: Message | CallbackQuery, bot: Bot, settings: Settings,
                       operators: Operators, event_from_user: User | None = None) -> bool:
        chat_id = settings.operators_chat_id
        return chat_id is not None and await operators.allows(
            bot, chat_id, event_from_user.id if event_from_user else None)


class DeskLanguage(BaseMiddleware):
    """What the bot says in the operators' group is in OPERATORS_LANGUAGE, whoever asked;
    what goes to a citizen is in the citizen's language (the desk switches for that)."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        with locale(data["i18n"], data["settings"].desk_language):
            return await handler(event, data)


class NotCommand(Filter):
    async def __call__(self, message: Message) -> bool:
        return not (message.text or "").startswith("/")


class Action(Filter):
    def __init__(self, *actions: str) -> None:
        self.actions = frozenset(actions)

    async def __call__(self, query: CallbackQuery, callback_data: OfficerCb) -> bool:
        return callback_data.action in self.actions


def _requests(uow: UnitOfWork, bot: Bot, settings: Settings, store: ContentStore,
              i18n: I18n) -> Requests:
    return Requests(uow.session, OfficerDesk(bot, settings, store, i18n))


def _leave_button() -> Button:
    return Button(_("⬅️ Back to the assistant"), OfficerCb(action="leave").pack())


def _unavailable() -> Screenful:
    contact = screens.contact_screen()
    text = _("Sorry, contact with a consular officer is not available in this bot. The "
             "embassies' and consulates' official pages list their phones and reception hours.")
    return Screenful(f"{text}\n\n{contact.html}", contact.buttons)


def _too_many(open_: list[Request]) -> Screenful:
    text = _("You already have {count} open requests. Please continue in one of them, or wait "
             "until one is closed.").format(count=len(open_))
    rows = [[Button(_("✍️ Request #{number}").format(number=r.id),
                    OfficerCb(action="talk", rid=r.id).pack())] for r in open_]
    return Screenful(text, rows)


def _describe_prompt() -> str:
    return _("Describe your case in your own words. You can send several messages, photos of "
             "documents or your location. Only consular officers will see them.")


async def _begin(message: Message, user_id: int, question_id: int, state: FSMContext,
                 uow: UnitOfWork, bot: Bot, settings: Settings, store: ContentStore,
                 i18n: I18n) -> None:
    if settings.operators_chat_id is None:
        await send(message, _unavailable())
        return
    opening = await _requests(uow, bot, settings, store, i18n).begin(user_id, question_id)
    if opening.full:
        await send(message, _too_many(opening.full))
        return
    lang = i18n.current_locale
    await state.set_state(OfficerForm.describe)
    await state.set_data({"topic": opening.topic, "country": opening.country,
                          "qid": opening.question_id or None, "lang": lang, "messages": []})
    if is_urgent(opening.topic):
        await message.answer(hotline_advice(store, opening.country, lang))
    cancel = [[Button(_("Cancel"), OfficerCb(action="leave").pack())]]
    await send(message, Screenful(_describe_prompt(), cancel))


async def officer_command(message: Message, state: FSMContext, uow: UnitOfWork, bot: Bot,
                          settings: Settings, store: ContentStore, i18n: I18n) -> None:
    await state.clear()
    user_id = message.from_user.id if message.from_user else message.chat.id
    await _begin(message, user_id, 0, state, uow, bot, settings, store, i18n)


async def officer_button(query: CallbackQuery, callback_data: OfficerCb, state: FSMContext,
                         uow: UnitOfWork, bot: Bot, settings: Settings, store: ContentStore,
                         i18n: I18n) -> None:
    await query.answer()
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        return
    await state.clear()
    await _begin(message, query.from_user.id, callback_data.rid, state, uow, bot, settings,
                 store, i18n)


def _country_question(store: ContentStore, guess: str | None, lang: str) -> Screenful:
    rows = []
    if guess and guess in store.countries:
        rows.append([Button(f"{flag(guess)} {store.country_name(guess, lang)}",
                            OfficerCb(action="cc", arg=guess).pack())])
    rows.append([Button(_("No particular country"), OfficerCb(action="cc", arg="-").pack())])
    return Screenful(_("Which country does your case concern? Press a button or type the "
                       "country's name."), rows)


async def describe(message: Message, state: FSMContext, store: ContentStore,
                   i18n: I18n) -> None:
    kind = message_kind(message)
    if kind is None:
        await message.answer(_("Please describe your case in text; photos, documents and your "
                               "location are welcome too."))
        return
    data = await state.get_data()
    data["messages"] = [*data["messages"], [message.message_id, kind]][-MAX_DRAFT_MESSAGES:]
    if kind == "text" and (not data.get("topic") or not data.get("country")):
        analysis = store.index.analyze((message.text or "")[:READ_CHARS], lang=data["lang"])
        newly_urgent = not is_urgent(data.get("topic")) and is_urgent(analysis.topic)
        data["topic"] = data.get("topic") or analysis.topic
        data["country"] = data.get("country") or analysis.country
        if newly_urgent:
            await message.answer(hotline_advice(store, data["country"], data["lang"]))
    await state.set_data(data)
    if await state.get_state() == OfficerForm.describe.state:
        await state.set_state(OfficerForm.country)
        await send(message, _country_question(store, data.get("country"), data["lang"]))


async def country_typed(message: Message, state: FSMContext, uow: UnitOfWork, bot: Bot,
                        settings: Settings, store: ContentStore, i18n: I18n) -> None:
    """A country name while we wait for one; anything else is added to the case."""
    if message.text:
        codes = store.index.find_countries(message.text[:100], limit=4)
        if len(codes) == 1:
            await _submit(message, message.chat.id, codes[0], state, uow, bot, settings, store,
                          i18n)
            return
        if codes:
            rows = [[Button(f"{flag(c)} {store.country_name(c, i18n.current_locale)}",
                            OfficerCb(action="cc", arg=c).pack())] for c in codes]
            await send(message, Screenful(_("Which country do you mean?"), rows))
            return
    await describe(message, state, store, i18n)
    await message.answer(_("Added to your case. Now choose the country, or press "
                           "“No particular country”."))


async def country_chosen(query: CallbackQuery, callback_data: OfficerCb, state: FSMContext,
                         uow: UnitOfWork, bot: Bot, settings: Settings, store: ContentStore,
                         i18n: I18n) -> None:
    await query.answer()
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        return
    if await state.get_state() != OfficerForm.country.state:
        await message.answer(_("This request was already sent or cancelled."))
        return
    iso = callback_data.arg.upper()
    await _submit(message, query.from_user.id, iso if iso in store.countries else None, state,
                  uow, bot, settings, store, i18n)


async def _submit(message: Message, user_id: int, iso: str | None, state: FSMContext,
                  uow: UnitOfWork, bot: Bot, settings: Settings, store: ContentStore,
                  i18n: I18n) -> None:
    data = await state.get_data()
    draft = Draft(data["lang"], data.get("topic"), iso, data.get("qid"),
                  [(int(m), str(k)) for m, k in data["messages"]])
    try:
        req = await _requests(uow, bot, settings, store, i18n).submit(user_id, draft)
    except RequestError as exc:
        log.warning("request not opened: %s", exc)
        await state.clear()
        await message.answer(_("Sorry, the request could not be sent right now. Please try "
                               "again later, or use the embassy's official contacts."))
        return
    if isinstance(req, list):
        await state.clear()
        await send(message, _too_many(req))
        return
    await state.set_state(OfficerForm.talking)
    await state.set_data({"rid": req.id})
    text = _("Your request <b>#{number}</b> has been sent. A consular officer will answer here, "
             "usually within {hours} hours. Everything you send now goes to the officer.").format(
        number=req.id, hours=f"{settings.officer_sla_hours:g}")
    await send(message, Screenful(text, [[_leave_button()]]))


async def talking(message: Message, state: FSMContext, uow: UnitOfWork, bot: Bot,
                  settings: Settings, store: ContentStore, i18n: I18n) -> None:
    rid = (await state.get_data()).get("rid")
    refusal = await _requests(uow, bot, settings, store, i18n).citizen_wrote(
        int(rid) if rid else None, message)
    if refusal is Refusal.CLOSED:
        await state.clear()
        await message.answer(_("This request is closed. Open a new one with /officer."))
    elif refusal is Refusal.UNCOPYABLE:
        await message.answer(_("This kind of message cannot be passed on. Please send text, "
                               "a photo, a document or your location."))


async def talk(query: CallbackQuery, callback_data: OfficerCb, state: FSMContext,
               uow: UnitOfWork, bot: Bot, settings: Settings, store: ContentStore,
               i18n: I18n) -> None:
    req = await _requests(uow, bot, settings, store, i18n).talk(callback_data.rid,
                                                                query.from_user.id)
    if req is Refusal.NOT_YOURS:
        await query.answer(_("This request is not yours."), show_alert=True)
        return
    if isinstance(req, Refusal):
        await query.answer(_("This request is closed."), show_alert=True)
        return
    await state.set_state(OfficerForm.talking)
    await state.set_data({"rid": req.id})
    await query.answer()
    if query.message and not isinstance(query.message, InaccessibleMessage):
        await send(query.message, Screenful(
            _("Write your message for request #{number}.").format(number=req.id),
            [[_leave_button()]]))


async def leave(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message and not isinstance(query.message, InaccessibleMessage):
        await send(query.message, screens.main_menu(
            _("You are back with the assistant. Officers' answers will still reach you here.")))


async def rate(query: CallbackQuery, callback_data: OfficerCb, uow: UnitOfWork, bot: Bot,
               settings: Settings, store: ContentStore, i18n: I18n) -> None:
    if not await _requests(uow, bot, settings, store, i18n).rate(
            callback_data.rid, query.from_user.id, callback_data.arg):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer(_("Thank you for your rating!"))
    if query.message and not isinstance(query.message, InaccessibleMessage):
        await query.message.answer(_("Thank you! You rated the help {rating} of 5.").format(
            rating=callback_data.arg))


async def reopen(query: CallbackQuery, callback_data: OfficerCb, state: FSMContext,
                 uow: UnitOfWork, bot: Bot, settings: Settings, store: ContentStore,
                 i18n: I18n) -> None:
    req = await _requests(uow, bot, settings, store, i18n).reopen(callback_data.rid,
                                                                  query.from_user.id)
    if req is Refusal.NOT_YOURS:
        await query.answer(_("This request is not yours."), show_alert=True)
        return
    if req is Refusal.TOO_MANY:
        await query.answer(_("You have too many open requests."), show_alert=True)
        return
    if isinstance(req, Refusal):
        await query.answer(_("This request can no longer be reopened: please open a new one "
                             "with /officer."), show_alert=True)
        return
    await state.set_state(OfficerForm.talking)
    await state.set_data({"rid": req.id})
    await query.answer()
    if query.message and not isinstance(query.message, InaccessibleMessage):
        await send(query.message, Screenful(
            _("Request #{number} is open again. Write what is still unresolved.").format(
                number=req.id), [[_leave_button()]]))


# --- operators' group ------------------------------------------------------------------


async def operator_message(message: Message, uow: UnitOfWork, bot: Bot, settings: Settings,
                           store: ContentStore, i18n: I18n) -> None:
    if message.from_user is None or message.from_user.is_bot:
        return
    refusal = await _requests(uow, bot, settings, store, i18n).officer_wrote(message)
    if refusal is Refusal.CLOSED:
        await message.reply(_("This request is closed: the citizen will not see this."))


async def operator_answer(message: Message, command: CommandObject, uow: UnitOfWork, bot: Bot,
                          settings: Settings, store: ContentStore, i18n: I18n) -> None:
    slug = (command.args or "").strip().lower()
    refusal = await _requests(uow, bot, settings, store, i18n).send_answer(message, slug)
    if refusal is Refusal.UNKNOWN:
        await message.reply(_("Use /answer inside a request's topic."))
    elif refusal is not None:
        known = ", ".join(sorted(store.topics))
        await message.reply(_("Unknown topic “{slug}” or closed request. Topics: {known}")
                            .format(slug=quote(slug or "—"), known=quote(known)))


async def operator_close(query: CallbackQuery, callback_data: OfficerCb, uow: UnitOfWork,
                         bot: Bot, settings: Settings, store: ContentStore, i18n: I18n) -> None:
    closed = await _requests(uow, bot, settings, store, i18n).close(callback_data.rid)
    if closed is None:
        await query.answer(_("Unknown request."), show_alert=True)
        return
    await query.answer(_("Closed.") if closed else _("Already closed."))


async def operator_refused(message: Message, uow: UnitOfWork, bot: Bot, settings: Settings,
                           store: ContentStore, i18n: I18n) -> None:
    """Someone who is not an operator wrote in a request's topic, or tried /answer: the
    citizen gets nothing, the audit log gets the attempt. Chatter elsewhere is left alone."""
    if message.from_user is not None and message.from_user.is_bot:
        return
    words = (message.text or "").split(maxsplit=1)
    is_answer = bool(words) and words[0].split("@", 1)[0].lower() == "/answer"
    await _requests(uow, bot, settings, store, i18n).refused(message, is_answer)


async def operator_button_refused(query: CallbackQuery, callback_data: OfficerCb,
                                  uow: UnitOfWork) -> None:
    await audit.record(uow.session, query.from_user.id,
                       audit.Action(f"request.{callback_data.action}"),
                       f"request:{callback_data.rid}", allowed=False, reason="not an operator")
    await query.answer(_("Only the operators (the administrators of this group) can do this."),
                       show_alert=True)


def create_router() -> Router:
    """The citizen's side; include it before the free-text question handler."""
    router = Router(name=__name__)
    router.message.register(officer_command, Command("officer"))
    router.callback_query.register(officer_button, OfficerCb.filter(), Action("new"))
    router.callback_query.register(country_chosen, OfficerCb.filter(), Action("cc"))
    router.callback_query.register(talk, OfficerCb.filter(), Action("talk"))
    router.callback_query.register(leave, OfficerCb.filter(), Action("leave"))
    router.callback_query.register(rate, OfficerCb.filter(), Action("rate"))
    router.callback_query.register(reopen, OfficerCb.filter(), Action("reopen"))
    router.message.register(describe, StateFilter(OfficerForm.describe), NotCommand())
    router.message.register(country_typed, StateFilter(OfficerForm.country), NotCommand())
    router.message.register(talking, StateFilter(OfficerForm.talking), NotCommand())
    return router


def create_operators_router() -> Router:
    """The operators' group; include it under a parent filtered by :class:`InOperatorsChat`."""
    router = Router(name=__name__ + ".operators")
    router.message.middleware(DeskLanguage())
    router.callback_query.middleware(DeskLanguage())
    desk = Router(name=__name__ + ".desk")
    desk.message.filter(IsOperator())
    desk.callback_query.filter(IsOperator())
    desk.message.register(operator_answer, Command("answer"))
    desk.message.register(operator_message)
    desk.callback_query.register(operator_close, OfficerCb.filter(), Action("close"))
    refusals = Router(name=__name__ + ".refusals")
    refusals.message.register(operator_refused)
    refusals.callback_query.register(operator_button_refused, OfficerCb.filter())
    router.include_routers(desk, refusals)
    return router

