"""The editors' gate and the administrators' /editors: list, add (forward or id), remove.

The gate: :class:`EditorTraffic` (cheap: is this an editor command, button or dialogue?)
then :class:`HasRole` (reads the role from the database now, never from a cache). What
passes the first but not the second reaches :func:`refuse`, which answers politely and
writes the refusal to the audit log.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Message,
    MessageOriginHiddenUser,
    MessageOriginUser,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.navigation.commands import refresh_menu
from bot.publishing import editors as staffing
from bot.publishing.callbacks import (
    ADMIN_COMMANDS,
    ADMIN_PREFIXES,
    EditorsAct,
)
from bot.publishing.editors import ADMIN, EDITOR
from bot.publishing.filters import EditorTraffic, command_name
from bot.publishing.states import EditorForm, editor_state
from bot.shared import audit
from bot.shared.i18n import locale, reader_language
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from bot.shared.roles import HasRole, allows, role_of
from bot.shared.tghtml import quote
from handlers.ui import send, show

log = logging.getLogger(__name__)


def describe(event: Message | CallbackQuery) -> audit.Attempt:
    """What was attempted, for the audit log."""
    if isinstance(event, CallbackQuery):
        return audit.attempted_button(event.data)
    return audit.attempted_command(command_name(event.text))


class RoleIs(Filter):
    """Narrows a router under :class:`HasRole` (which has just read the role)."""

    def __init__(self, needed: str) -> None:
        self.needed = needed

    async def __call__(self, event: Message | CallbackQuery, role: str | None = None) -> bool:
        return allows(role, self.needed)


async def refuse(event: Message | CallbackQuery, uow: UnitOfWork, state: FSMContext,
                 settings: Settings, raw_state: str | None = None) -> None:
    user = event.from_user
    role = await role_of(uow.session, settings, user.id) if user else None
    await audit.record(uow.session, user.id if user else None, describe(event), allowed=False,
                       role=role, state=raw_state)
    if editor_state(raw_state):
        await state.clear()
    if role is None:
        text = _("Sorry, this is only for the ministry's editors. If you need it, ask an "
                 "administrator to give you access.")
    else:
        text = _("Sorry, only an administrator can do this.")
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text)


async def cancel_dialogue(message: Message, state: FSMContext) -> None:
    """/cancel inside any editors' dialogue: nothing is kept."""
    await state.clear()
    await message.answer(_("Cancelled. Nothing was saved."))


def create_refusals_router() -> Router:
    router = Router(name="editor-refusals")
    router.message.register(refuse, EditorTraffic())
    router.callback_query.register(refuse, EditorTraffic())
    return router


def create_staff_router() -> Router:
    """The editors' parent router: gated once; administrators' actions nested inside."""
    from handlers.answers import teach
    from handlers.publishing import posts, subscriptions
    staff = Router(name="editors")
    staff.message.filter(EditorTraffic(), HasRole(EDITOR))
    staff.callback_query.filter(EditorTraffic(), HasRole(EDITOR))
    admins = Router(name="administrators")
    admins.message.filter(RoleIs(ADMIN))
    admins.callback_query.filter(RoleIs(ADMIN))
    admins.include_routers(create_router(), subscriptions.create_channels_router())
    cancelling = Router(name="editor-cancel")
    cancelling.message.register(cancel_dialogue, Command("cancel"))
    staff.include_routers(cancelling, admins, teach.create_router(), posts.create_router())
    return staff


# --- /editors ------------------------------------------------------------------------


def _name(user_id: int, name: str | None) -> str:
    return f"{quote(name)} ({user_id})" if name else str(user_id)


async def editors_screen(uow: UnitOfWork, note: str | None = None) -> Screenful:
    admins, editors = await staffing.staff(uow.session)
    lines = [note, ""] if note else []
    lines.append(_("<b>Administrators</b>"))
    lines += [f"• {_name(r.user_id, r.name)}" for r in admins] or ["—"]
    lines += ["", _("<b>Editors</b>")]
    lines += [f"• {_name(r.user_id, r.name)}" for r in editors] or [_("No editors yet.")]
    rows = [[Button(_("✖ Remove {name}").format(name=r.name or r.user_id),
                    EditorsAct(action="rm", user_id=r.user_id).pack())] for r in editors]
    rows.append([Button(_("➕ Add an editor"), EditorsAct(action="add").pack())])
    return Screenful("\n".join(lines), rows)


async def editors_command(message: Message, uow: UnitOfWork, state: FSMContext) -> None:
    await state.clear()
    await send(message, await editors_screen(uow))


async def editors_list(query: CallbackQuery, uow: UnitOfWork, state: FSMContext) -> None:
    await state.clear()
    await show(query, await editors_screen(uow))
    await query.answer()


def _cancel_row() -> list[Button]:
    return [Button(_("Cancel"), EditorsAct(action="list").pack())]


async def ask_person(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(EditorForm.person)
    await show(query, Screenful(
        _("Forward me any message written by the person, or send their numeric Telegram id."),
        [_cancel_row()]))
    await query.answer()


def _person_from(message: Message) -> tuple[int | None, str | None, str | None]:
    """(user id, name, problem) from a forwarded message or a typed id."""
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        who = origin.sender_user
        return (None, None, _("That message was written by a bot.")) if who.is_bot else \
            (who.id, who.full_name, None)
    if isinstance(origin, MessageOriginHiddenUser):
        return None, None, _("This person hides their account in forwarded messages. "
                             "Ask them for their numeric Telegram id and send it here.")
    if origin is not None:
        return None, None, _("Forward a message written by the person, not by a chat.")
    text = (message.text or "").strip()
    if text.isdigit() and 0 < int(text) < 2**52:
        return int(text), None, None
    return None, None, _("I need a forwarded message or a numeric id, such as 123456789.")


async def add_person(message: Message, uow: UnitOfWork, state: FSMContext, bot: Bot,
                     i18n: I18n, settings: Settings) -> None:
    user_id, name, problem = _person_from(message)
    if user_id is None:
        await send(message, Screenful(problem or "", [_cancel_row()]))
        return
    actor = message.from_user.id  # type: ignore[union-attr]
    await state.clear()
    if not await staffing.add_editor(uow.session, actor, user_id, name):
        note = _("{name} is an administrator already.").format(name=_name(user_id, name))
        await send(message, await editors_screen(uow, note))
        return
    await refresh_menu(bot, uow.session, i18n, settings, user_id)
    await send(message, await editors_screen(
        uow, _("{name} is now an editor.").format(name=_name(user_id, name))))
    await _welcome(bot, i18n, uow, user_id)


async def _welcome(bot: Bot, i18n: I18n, uow: UnitOfWork, user_id: int) -> None:
    lang = await reader_language(uow.session, user_id, i18n.default_locale)
    with locale(i18n, lang):
        text = _("You are now an editor of the ministry's bot. /newpost writes a post, "
                 "/posts lists them.")
    try:
        await bot.send_message(user_id, text)
    except TelegramAPIError as exc:
        log.info("could not tell %s about the editor role: %s", user_id, exc)


async def remove_editor(query: CallbackQuery, callback_data: EditorsAct, uow: UnitOfWork,
                        bot: Bot, i18n: I18n, settings: Settings) -> None:
    target = await staffing.remove_editor(uow.session, query.from_user.id,
                                          callback_data.user_id)
    if target is None:
        await query.answer(_("This person is not an editor."), show_alert=True)
        await show(query, await editors_screen(uow))
        return
    await refresh_menu(bot, uow.session, i18n, settings, target.user_id)
    note = _("{name} is no longer an editor.").format(name=_name(target.user_id, target.name))
    await show(query, await editors_screen(uow, note))
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(editors_command, Command("editors"))
    router.message.register(add_person, StateFilter(EditorForm.person))
    router.callback_query.register(editors_list, EditorsAct.filter(F.action == "list"))
    router.callback_query.register(ask_person, EditorsAct.filter(F.action == "add"))
    router.callback_query.register(remove_editor, EditorsAct.filter(F.action == "rm"))
    return router


__all__ = ["ADMIN_COMMANDS", "ADMIN_PREFIXES", "EditorTraffic", "HasRole", "RoleIs",
           "create_refusals_router", "create_router", "create_staff_router"]
