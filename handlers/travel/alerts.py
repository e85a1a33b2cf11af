"""Alerts. Citizens: "Follow alerts" on a country card, /alerts lists and removes them.
Editors: /alert (or "Issue alert" on a country card) → severity → texts → expiry → submit;
an administrator approves (an administrator's own alert goes at once, audited as
self-approved), and the publisher sends it ahead of routine posts.

Approval here is minimal and uses the roles table: an editor's alert is offered to the
administrators with Approve / Reject buttons; the first administrator to press decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.callbacks import CountryCard
from bot.answers.cards import country_card
from bot.answers.store import ContentStore
from bot.config import LANGUAGES, Settings
from bot.navigation.callbacks import Nav, Screen
from bot.shared.filters import PlainText
from bot.shared.i18n import locale
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful, flag
from bot.shared.roles import EDITOR, HasRole, role_of
from bot.shared.tghtml import quote
from bot.travel import alerts as svc
from bot.travel.alert_board import Board
from bot.travel.callbacks import (
    AlertReview,
    AlertStep,
    FollowCountry,
    IssueAlert,
    TravelMenu,
    UnfollowCountry,
)
from handlers.ui import keyboard, send, show

log = logging.getLogger(__name__)


class AlertForm(StatesGroup):
    country = State()
    text = State()


# --- citizens ---------------------------------------------------------------------------


async def follow(query: CallbackQuery, callback_data: FollowCountry, uow: UnitOfWork,
                 store: ContentStore, i18n: I18n) -> None:
    iso, lang = callback_data.iso.upper(), i18n.current_locale
    if iso not in store.countries:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    name = store.country_name(iso, lang)
    new = await svc.follow(uow.session, query.from_user.id, iso, lang)
    if new:
        text = _("🔔 You will receive travel alerts for {country}. /alerts lists the countries "
                 "you follow.").format(country=quote(name))
    else:
        text = _("You already follow alerts for {country}. /alerts lets you stop.").format(
            country=quote(name))
    await query.answer(_("Done") if new else None)
    if query.message is not None:
        await query.message.answer(text)


def _alerts_screen(store: ContentStore, countries: list[str], lang: str,
                   note: str | None = None) -> Screenful:
    if countries:
        lines = [_("<b>Countries whose alerts you follow</b>")]
        lines += [f"{flag(iso)} {quote(store.country_name(iso, lang))}" for iso in countries]
        lines.append(_("Alerts also reach you in any country where a trip of yours is "
                       "registered for that day."))
        rows = [[Button(_("🔕 Stop {country}").format(country=store.country_name(iso, lang)),
                        UnfollowCountry(iso=iso).pack())] for iso in countries]
    else:
        lines = [_("You follow no country's alerts. Open a country's card and press "
                   "“🔔 Follow alerts”, or register a trip with /trip.")]
        rows = [[Button(_("🌍 Countries"), Nav(screen=Screen.COUNTRIES).pack())]]
    rows.append([Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())])
    text = "\n".join(lines)
    return Screenful(f"{note}\n\n{text}" if note else text, rows)


async def my_alerts(message: Message, uow: UnitOfWork, store: ContentStore, i18n: I18n) -> None:
    countries = await svc.followed(uow.session, message.chat.id)
    await send(message, _alerts_screen(store, countries, i18n.current_locale))


async def my_alerts_button(query: CallbackQuery, uow: UnitOfWork, store: ContentStore,
                           i18n: I18n) -> None:
    countries = await svc.followed(uow.session, query.from_user.id)
    await show(query, _alerts_screen(store, countries, i18n.current_locale))
    await query.answer()


async def unfollow(query: CallbackQuery, callback_data: UnfollowCountry, uow: UnitOfWork,
                   store: ContentStore, i18n: I18n) -> None:
    lang, iso = i18n.current_locale, callback_data.iso.upper()
    removed, countries = await svc.unfollow(uow.session, query.from_user.id, iso)
    note = _("Stopped: {country}").format(country=quote(store.country_name(iso, lang))) \
        if removed else None
    await show(query, _alerts_screen(store, countries, lang, note))
    await query.answer()


# --- editors ------------------------------------------------------------------------------


async def editor_card(query: CallbackQuery, callback_data: CountryCard, store: ContentStore,
                      settings: Settings, i18n: I18n, alert_board: Board) -> None:
    """The country card, for editors with "Issue alert" under it."""
    iso = callback_data.iso.upper()
    card = country_card(store, iso, i18n.current_locale, settings.tz, board=alert_board)
    rows = [[Button(_("📣 Issue alert"), IssueAlert(iso=iso).pack())], *card.buttons]
    await show(query, Screenful(card.html, rows))
    await query.answer()


async def known_card(_: CallbackQuery, callback_data: CountryCard, store: ContentStore) -> bool:
    return callback_data.iso.upper() in store.countries


async def alert_command(message: Message, command: CommandObject, state: FSMContext,
                        store: ContentStore, i18n: I18n) -> None:
    await state.clear()
    if command.args:
        codes = store.index.find_countries(command.args, limit=2)
        if len(codes) == 1:
            await _ask_severity(message, state, store, codes[0], i18n.current_locale)
            return
    await state.set_state(AlertForm.country)
    await message.answer(_("📣 <b>New alert</b>\nFor which country? Type its name. "
                           "/cancel stops."))


async def alert_country_typed(message: Message, state: FSMContext, store: ContentStore,
                              i18n: I18n) -> None:
    codes = store.index.find_countries((message.text or "")[:100], limit=2)
    if len(codes) != 1:
        await message.answer(_("I do not know that country. Type its name, for example "
                               "<i>Germany</i>."))
        return
    await _ask_severity(message, state, store, codes[0], i18n.current_locale)


async def issue_from_card(query: CallbackQuery, callback_data: IssueAlert, state: FSMContext,
                          store: ContentStore, i18n: I18n) -> None:
    iso = callback_data.iso.upper()
    await query.answer()
    if iso in store.countries and query.message is not None:
        await state.clear()
        await _ask_severity(query.message, state, store, iso,  # type: ignore[arg-type]
                            i18n.current_locale)


async def _ask_severity(message: Message, state: FSMContext, store: ContentStore, iso: str,
                        lang: str) -> None:
    await state.set_state(AlertForm.country)
    await state.update_data(country=iso, texts={})
    rows = [[Button(f"{svc.ICONS[s]} {svc.severity_label(s)}",
                    AlertStep(action="severity", value=s.value).pack())] for s in svc.Severity]
    await send(message, Screenful(_("📣 Alert for {flag} <b>{country}</b>. How severe?").format(
        flag=flag(iso), country=quote(store.country_name(iso, lang))), rows))


def _language_names() -> dict[str, str]:
    return {"kk": _("Kazakh"), "ru": _("Russian"), "en": _("English")}


async def _ask_text(target: Message, state: FSMContext) -> None:
    data = await state.get_data()
    missing = [lang for lang in LANGUAGES if lang not in data.get("texts", {})]
    if not missing:
        await _ask_expiry(target)
        return
    lang = missing[0]
    await state.update_data(text_lang=lang)
    await state.set_state(AlertForm.text)
    await send(target, Screenful(
        _("Send the alert text in {language} (plain text, up to {limit} characters).").format(
            language=_language_names()[lang], limit=svc.MAX_ALERT_CHARS),
        [[Button(_("Skip this language"), AlertStep(action="skip_lang").pack())]]))


async def _ask_expiry(target: Message) -> None:
    labels = {"1d": _("1 day"), "3d": _("3 days"), "7d": _("7 days"), "30d": _("30 days")}
    rows = [[Button(labels[k], AlertStep(action="expiry", value=k).pack()) for k in labels]]
    await send(target, Screenful(_("How long should the alert stay active?"), rows))


async def alert_step(query: CallbackQuery, callback_data: AlertStep, state: FSMContext,
                     uow: UnitOfWork, store: ContentStore, settings: Settings, i18n: I18n,
                     bot: Bot, alert_board: Board, publisher: Any = None,
                     role: str | None = None) -> None:
    data = await state.get_data()
    message = query.message
    if "country" not in data or message is None:
        await query.answer(_("This alert draft is gone. Start again with /alert."),
                           show_alert=True)
        return
    await query.answer()
    action, value = callback_data.action, callback_data.value
    if action == "severity" and value in svc.Severity.__members__.values():
        await state.update_data(severity=value, texts={})
        await _ask_text(message, state)  # type: ignore[arg-type]
    elif action == "skip_lang" and data.get("text_lang"):
        texts = dict(data.get("texts", {}))
        texts[data["text_lang"]] = ""
        await state.update_data(texts=texts)
        await _ask_text(message, state)  # type: ignore[arg-type]
    elif action == "expiry" and value in svc.EXPIRY_CHOICES and data.get("severity"):
        await state.update_data(expires_at=svc.expiry(value).isoformat())
        await _preview(message, state, store, settings, i18n)  # type: ignore[arg-type]
    elif action == "submit" and data.get("expires_at"):
        await _submit(query, state, uow, store, settings, i18n, bot, publisher, alert_board,
                      role)


async def alert_text_typed(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    text = (message.text or "").strip()
    if len(text) > svc.MAX_ALERT_CHARS:
        await message.answer(_("That is too long: at most {limit} characters.").format(
            limit=svc.MAX_ALERT_CHARS))
        return
    texts = dict(data.get("texts", {}))
    texts[data.get("text_lang", "kk")] = text
    await state.update_data(texts=texts)
    await _ask_text(message, state)


async def _preview(message: Message, state: FSMContext, store: ContentStore,
                   settings: Settings, i18n: I18n) -> None:
    data = await state.get_data()
    texts = {k: v for k, v in data["texts"].items() if v}
    expires = datetime.fromisoformat(data["expires_at"])
    problem = svc.validate(store, data["country"], data["severity"], texts, expires)
    if problem:
        await state.clear()
        await message.answer(problem + "\n" + _("Start again with /alert."))
        return
    lang = i18n.current_locale
    composed = svc.compose(store, data["country"], data["severity"], texts, expires, settings.tz)
    await send(message, Screenful(
        _("Preview ({language}):").format(language=_language_names()[lang]) + "\n\n"
        + composed[lang],
        [[Button(_("✅ Submit"), AlertStep(action="submit").pack())],
         [Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())]]))


async def _submit(query: CallbackQuery, state: FSMContext, uow: UnitOfWork, store: ContentStore,
                  settings: Settings, i18n: I18n, bot: Bot, publisher: Any, board: Board,
                  role: str | None) -> None:
    data = await state.get_data()
    await state.clear()
    if role is None:
        await show(query, Screenful(_("Only editors can issue alerts.")))
        return
    draft = svc.Draft(data["country"], data["severity"],
                      {k: v for k, v in data["texts"].items() if v},
                      datetime.fromisoformat(data["expires_at"]))
    done = await svc.submit(uow.session, store, settings, query.from_user.id, role, draft)
    await uow.release()  # committed: the administrators' presses and the publisher see it
    if not done.pending:
        await _dispatch(query.message, uow, board, done.alert.id, len(done.recipients),  # type: ignore[arg-type]
                        publisher)
        return
    text = _("Submitted for approval. You will hear when an administrator decides.")
    if not await _ask_admins(bot, i18n, done):  # nobody would ever decide: withdraw it
        await svc.reject(uow.session, done.alert.id, "no administrator to approve")
        text = _("No administrator could be asked to approve this alert, so it was not "
                 "sent. Administrators are set with ADMIN_IDS in the bot's settings and "
                 "must have written to the bot once. Then issue the alert again, or ask "
                 "an administrator to issue it: theirs goes out at once.")
    await show(query, Screenful(text))


async def _dispatch(target: Message, uow: UnitOfWork, board: Board, post_id: int,
                    count: int, publisher: Any) -> None:
    """Hand the approved alert to the publisher (after the commit, so it sees the row)."""
    if publisher is None:
        await target.answer(_("The alert is approved, but the delivery service is not running. "
                              "It will go out when it starts."))
        return
    try:
        await publisher.enqueue(post_id, priority=svc.ALERT_PRIORITY)
    except ValueError:
        await target.answer(_("This alert cannot be sent any more."))
        return
    await board.refresh(uow.session)
    await send(target, Screenful(
        _("📣 The alert is going out to {count} recipients.").format(count=count),
        [[Button(_("📊 How many it reached"), AlertReview(action="report", post_id=post_id)
                 .pack())]]))


async def _ask_admins(bot: Bot, i18n: I18n, done: svc.Submitted) -> int:
    """Offer the alert to every administrator but its author; how many were reached."""
    alert, reached = done.alert, 0
    for admin, lang in done.approvers:
        with locale(i18n, lang):
            text = _("📣 An alert waits for your approval:") + "\n\n" + alert.texts.get(
                lang, next(iter(alert.texts.values())))
            rows = [[
                Button(_("✅ Approve"), AlertReview(action="approve", post_id=alert.id).pack()),
                Button(_("❌ Reject"), AlertReview(action="reject", post_id=alert.id).pack()),
            ]]
        try:
            await bot.send_message(admin, text, reply_markup=keyboard(Screenful(text, rows)))
            reached += 1
        except TelegramAPIError as exc:
            log.info("could not ask administrator %s to approve alert %s: %s", admin, alert.id,
                     exc)
    return reached


async def review(query: CallbackQuery, callback_data: AlertReview, uow: UnitOfWork,
                 settings: Settings, bot: Bot, i18n: I18n, alert_board: Board,
                 publisher: Any = None) -> None:
    post_id, uid = callback_data.post_id, query.from_user.id
    role = await role_of(uow.session, settings, uid)
    if callback_data.action == "report":
        await _report(query, uow, post_id, role)
        return
    if role != "admin":
        await query.answer(_("Only administrators can approve alerts."), show_alert=True)
        return
    decision = await svc.decide(uow.session, settings, post_id, uid,
                                callback_data.action != "reject")
    if decision.outcome == svc.Outcome.DECIDED:
        await query.answer(_("This alert has already been decided."), show_alert=True)
        return
    await query.answer()
    if decision.outcome == svc.Outcome.RACED:
        await show(query, Screenful(_("This alert has already been decided.")))
    elif decision.outcome == svc.Outcome.REJECTED:
        await show(query, Screenful(_("Rejected.")))
        await _tell_author(bot, i18n, decision, lambda: _("Your alert was rejected."))
    else:
        await uow.release()  # committed: the publisher sees the approval
        await _dispatch(query.message, uow, alert_board, post_id,  # type: ignore[arg-type]
                        len(decision.recipients), publisher)
        await _tell_author(bot, i18n, decision,
                           lambda: _("Your alert was approved and is going out."))


async def _tell_author(bot: Bot, i18n: I18n, decision: svc.Decision,
                       text: Callable[[], str]) -> None:
    try:
        with locale(i18n, decision.author_lang):
            await bot.send_message(decision.author, text())
    except TelegramAPIError as exc:
        log.info("could not tell the author %s: %s", decision.author, exc)


async def _report(query: CallbackQuery, uow: UnitOfWork, post_id: int, role: str | None) -> None:
    if role is None:
        await query.answer(_("Only editors can see delivery reports."), show_alert=True)
        return
    counts = await svc.delivery_counts(uow.session, post_id)
    total = sum(counts.values())
    text = _("Reached {sent} of {total}; failed {failed}; blocked {blocked}; waiting {waiting}.")\
        .format(sent=counts.get("sent", 0), total=total, failed=counts.get("failed", 0),
                blocked=counts.get("blocked", 0),
                waiting=counts.get("pending", 0) + counts.get("sending", 0))
    await query.answer(text, show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(my_alerts, Command("alerts"))
    router.callback_query.register(my_alerts_button, TravelMenu.filter(F.screen == "alerts"))
    router.callback_query.register(follow, FollowCountry.filter())
    router.callback_query.register(unfollow, UnfollowCountry.filter())
    router.callback_query.register(review, AlertReview.filter())
    router.message.register(alert_command, Command("alert"), HasRole(EDITOR))
    router.callback_query.register(editor_card, CountryCard.filter(), known_card, HasRole(EDITOR))
    router.callback_query.register(issue_from_card, IssueAlert.filter(), HasRole(EDITOR))
    router.callback_query.register(alert_step, AlertStep.filter(), HasRole(EDITOR))
    router.message.register(alert_country_typed, StateFilter(AlertForm.country), PlainText())
    router.message.register(alert_text_typed, StateFilter(AlertForm.text), PlainText())
    return router
