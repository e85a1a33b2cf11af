"""Cases: a citizen follows the status of an application; operators set it from the desk.

Citizen side (private chat): /case or the menu's "📄 My case" asks the application number,
then the second factor, shows the status and the dated steps and offers Follow / Stop
following. Operators' side (the operators' group, administrators only): ``/case NUMBER``
shows a case, ``/case NUMBER status STATUS [note]`` sets its status (followers are told),
``/case NUMBER new SERVICE MISSION dob=YYYY-MM-DD|doc4=NNNN LANG`` creates it.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.store import ContentStore
from bot.cases import desk, service
from bot.cases.callbacks import CaseCb
from bot.cases.service import CaseNotices, Lookup, Outcome
from bot.config import Settings
from bot.shared import audit
from bot.shared.audit import Action
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from handlers.officer import DeskLanguage, IsOperator, NotCommand
from handlers.ui import send, show


class CaseForm(StatesGroup):
    number = State()
    factor = State()


def _again() -> list[list[Button]]:
    return [[Button(_("🔄 Try again"), CaseCb(action="open").pack())]]


def _locked() -> Screenful:
    return Screenful(_("You have made too many attempts. For the safety of everyone's data, "
                       "case lookups are paused for you for an hour. If you cannot find your "
                       "case, contact the mission where you applied."))


def _card(store: ContentStore, found: Lookup, settings: Settings, lang: str) -> Screenful:
    assert found.case is not None
    text = service.case_card(store, found.case, found.steps, lang, settings.tz)
    if found.following:
        text += "\n\n" + _("🔔 You follow this case: I will write at every status change.")
        button = Button(_("🔕 Stop following"),
                        CaseCb(action="unfollow", cid=found.case.id).pack())
    else:
        button = Button(_("🔔 Follow this case"),
                        CaseCb(action="follow", cid=found.case.id).pack())
    return Screenful(text, [[button]])


async def _ask_number(message: Message, user_id: int, state: FSMContext, uow: UnitOfWork,
                      settings: Settings, number: str | None = None) -> None:
    await state.clear()
    if not await service.may_look_up(uow.session, settings, user_id):
        await send(message, _locked())
        return
    await state.set_state(CaseForm.number)
    if number:  # "/case NUMBER": straight to the second factor
        await number_typed(message, state, number)
        return
    await message.answer(_("Send the application number exactly as it is on your receipt "
                           "from the consulate."))


async def case_command(message: Message, command: CommandObject, state: FSMContext,
                       uow: UnitOfWork, settings: Settings) -> None:
    await _ask_number(message, message.chat.id, state, uow, settings, command.args)


async def open_button(query: CallbackQuery, state: FSMContext, uow: UnitOfWork,
                      settings: Settings) -> None:
    await query.answer()
    if query.message is None or isinstance(query.message, InaccessibleMessage):
        return
    await _ask_number(query.message, query.from_user.id, state, uow, settings)


async def number_typed(message: Message, state: FSMContext, text: str | None = None) -> None:
    number = service.normalize_number(text or message.text or "")
    if number is None:
        await message.answer(_("This does not look like an application number: it has 3 to 32 "
                               "letters and digits, sometimes with “-” or “/”. Please send it "
                               "again, or /cancel."))
        return
    await state.set_state(CaseForm.factor)
    await state.set_data({"number": number})
    await message.answer(_("Now send your date of birth (for example 17.05.1990) or the last 4 "
                           "digits of your passport or ID card, whichever you gave when you "
                           "applied."))


async def number_step(message: Message, state: FSMContext) -> None:
    await number_typed(message, state)


async def factor_typed(message: Message, state: FSMContext, uow: UnitOfWork,
                       settings: Settings, store: ContentStore, i18n: I18n) -> None:
    factor = service.read_factor(message.text or "")
    if factor is None:
        await message.answer(_("Please send a date of birth as DD.MM.YYYY, or exactly 4 digits "
                               "of your document, or /cancel."))
        return
    number = str((await state.get_data()).get("number", ""))
    await state.clear()
    found = await service.lookup(uow.session, settings, message.chat.id, number, factor)
    if found.outcome is Outcome.LOCKED:
        await send(message, _locked())
    elif found.outcome is Outcome.REFUSED:
        await send(message, Screenful(_(
            "I could not show a case with this number and this second factor. Check both "
            "against your receipt and try again. After several failed attempts, lookups are "
            "paused for a while."), _again()))
    else:
        await send(message, _card(store, found, settings, i18n.current_locale))


async def follow_button(query: CallbackQuery, callback_data: CaseCb, uow: UnitOfWork,
                        settings: Settings, store: ContentStore, i18n: I18n) -> None:
    lang = i18n.current_locale
    found = await service.set_following(uow.session, query.from_user.id, callback_data.cid,
                                        callback_data.action == "follow", lang)
    if found is None:
        await query.answer(_("This button is not yours to press: look the case up with its "
                             "number and second factor first."), show_alert=True)
        return
    await query.answer(_("You will get a message at every status change.") if found.following
                       else _("You no longer follow this case."))
    await show(query, _card(store, found, settings, lang))


# --- operators' group --------------------------------------------------------------------

async def desk_case(message: Message, command: CommandObject, uow: UnitOfWork, bot: Bot,
                    settings: Settings, store: ContentStore,
                    case_notices: CaseNotices | None = None) -> None:
    actor = message.from_user.id if message.from_user else None
    reply = await desk.command(uow.session, store, settings, command.args or "", actor)
    if not reply.card:
        await message.reply(reply.text)
        return
    if reply.created:  # the command carried the citizen's second factor: it does not stay
        with contextlib.suppress(TelegramAPIError):
            await bot.delete_message(message.chat.id, message.message_id)
    await message.answer(reply.text)  # in the same topic, if it was written in one
    if reply.notices and case_notices is not None:
        case_notices.wake()  # after the reply: the update's writes are committed by then


async def desk_refused(message: Message, uow: UnitOfWork) -> None:
    user = message.from_user
    await audit.record(uow.session, user.id if user else None, Action.CASE_DESK,
                       f"chat:{message.chat.id}", allowed=False, reason="not an operator")
    await message.reply(_("Only the operators (the administrators of this group) can do this."))


def create_router() -> Router:
    """The citizen's side (private chats)."""
    router = Router(name=__name__)
    router.message.register(case_command, Command("case"))
    router.callback_query.register(open_button, CaseCb.filter(), _Action("open"))
    router.callback_query.register(follow_button, CaseCb.filter(), _Action("follow", "unfollow"))
    router.message.register(number_step, StateFilter(CaseForm.number), NotCommand())
    router.message.register(factor_typed, StateFilter(CaseForm.factor), NotCommand())
    return router


def create_operators_router() -> Router:
    """``/case`` in the operators' group; include it before the officer desk's router."""
    router = Router(name=__name__ + ".operators")
    router.message.middleware(DeskLanguage())
    desk = Router(name=__name__ + ".desk")
    desk.message.filter(IsOperator())
    desk.message.register(desk_case, Command("case"))
    refusals = Router(name=__name__ + ".refusals")
    refusals.message.register(desk_refused, Command("case"))
    router.include_routers(desk, refusals)
    return router


class _Action(Filter):
    def __init__(self, *actions: str) -> None:
        self.actions = frozenset(actions)

    async def __call__(self, query: CallbackQuery, callback_data: CaseCb) -> bool:
        return callback_data.action in self.actions
