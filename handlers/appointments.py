"""Booking a consular visit, and the desk's side of it.

Citizens (private chat): /book or "📅 Book a visit": service → mission → day → time →
confirm; a confirmation with an .ics file; /appointments lists them with Move and Cancel.
Operators (the operators' group, administrators only): /slots, /closed, /open set a
mission's hours; /day lists a day's visits with a no-show button and a CSV export.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InaccessibleMessage, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.store import ContentStore
from bot.appointments.callbacks import BookCb, DeskCb
from bot.appointments.service import (
    SERVICES,
    WEEKDAYS,
    Appointment,
    Appointments,
    BookingError,
    appointment_text,
    ics,
    local_time,
    parse_days,
    parse_hours,
    refusal,
    service_label,
    utc_offset,
)
from bot.config import Settings
from bot.shared import audit
from bot.shared.audit import Action
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful, flag
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_date, fmt_time
from handlers.officer import DeskLanguage, IsOperator
from handlers.ui import send, show

Clock = Callable[[], datetime]


def _book(uow: UnitOfWork, store: ContentStore, clock: Clock | None) -> Appointments:
    return Appointments(uow.session, store, clock() if clock else None)


def _menu() -> Button:
    from bot.navigation.callbacks import Nav, Screen

    return Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())


def _day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


def _parse_day(code: str) -> date:
    try:
        return datetime.strptime(code, "%Y%m%d").date()
    except ValueError:
        raise BookingError("gone") from None


# --- citizens --------------------------------------------------------------------------------


async def _services_screen(book: Appointments) -> Screenful:
    offered = await book.services()
    if not offered:
        return Screenful(_("No mission takes appointments through the bot yet. Each "
                           "country's card links the mission's official page."), [[_menu()]])
    rows = [[Button(service_label(code), BookCb(action="svc", service=code).pack())]
            for code in offered]
    rows.append([Button(_("📋 My appointments"), BookCb(action="list").pack()), _menu()])
    return Screenful(_("<b>Book a visit</b>\nWhich service do you need?"), rows)


async def _step(book: Appointments, cb: BookCb, user_id: int, lang: str) -> Screenful:
    """The screen after pressing ``cb`` (a step that only shows choices)."""
    if cb.action == "start":
        return await _services_screen(book)
    if cb.service not in SERVICES:
        raise BookingError("gone")
    if cb.action == "svc":
        missions = await book.missions(cb.service, user_id)
        rows = [[Button(f"{flag(book.place(m).iso)} {book.place(m).name(lang)}",
                        BookCb(action="mis", service=cb.service, mission=m).pack())]
                for m in missions]
        rows.append([Button(_("⬅️ Services"), BookCb(action="start").pack())])
        return Screenful(_("{service}\nWhere would you like to come?").format(
            service=f"<b>{quote(service_label(cb.service))}</b>"), rows)
    place = book.place(cb.mission)
    if cb.action == "mis":
        days = await book.days(cb.service, cb.mission)
        if not days:
            return Screenful(_("There are no free times at {mission} in the next two weeks. "
                               "Please try another mission or look again later.").format(
                mission=quote(place.name(lang))),
                [[Button(_("⬅️ Missions"), BookCb(action="svc", service=cb.service).pack())]])
        buttons = [Button(fmt_date(d, lang, place.tz), BookCb(
            action="day", service=cb.service, mission=cb.mission, day=_day_code(d),
            appt=cb.appt).pack()) for d in days]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        back = (BookCb(action="list") if cb.appt
                else BookCb(action="svc", service=cb.service))
        rows.append([Button(_("⬅️ Back"), back.pack())])
        return Screenful(_("{mission}\nChoose a day. Times are local ({offset}).").format(
            mission=f"<b>{quote(place.name(lang))}</b>",
            offset=utc_offset(book.now, place.tz)), rows)
    day = _parse_day(cb.day)
    if cb.action == "day":
        slots = await book.times(cb.service, cb.mission, day)
        buttons = [Button(fmt_time(s.starts_at, lang, place.tz), BookCb(
            action="slot", service=cb.service, mission=cb.mission, day=cb.day, slot=s.id,
            appt=cb.appt).pack()) for s in slots]
        rows = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
        rows.append([Button(_("⬅️ Days"), BookCb(action="mis", service=cb.service,
                                                 mission=cb.mission, appt=cb.appt).pack())])
        text = _("{mission}\n{date}: choose a time (local time in {city}, {offset}).").format(
            mission=f"<b>{quote(place.name(lang))}</b>", date=fmt_date(day, lang, place.tz),
            city=quote(place.mission.city.get(lang)), offset=utc_offset(
                slots[0].starts_at if slots else book.now, place.tz))
        if not slots:
            text += "\n" + _("No free time is left on this day.")
        return Screenful(text, rows)
    # "slot": confirm
    slot = await book.slot(cb.slot)
    if slot.mission != cb.mission or slot.service != cb.service:
        raise BookingError("gone")
    when = f"{fmt_date(slot.starts_at, lang, place.tz)}, {local_time(slot.starts_at, place, lang)}"
    text = _("Please check:\n{service}\n{mission}\n{when}").format(
        service=f"<b>{quote(service_label(slot.service))}</b>",
        mission=quote(place.name(lang)), when=when)
    confirm = _("✅ Move it here") if cb.appt else _("✅ Book")
    return Screenful(text, [
        [Button(confirm, BookCb(action="ok", service=cb.service, mission=cb.mission,
                                day=cb.day, slot=cb.slot, appt=cb.appt).pack())],
        [Button(_("⬅️ Another time"), BookCb(action="day", service=cb.service,
                                              mission=cb.mission, day=cb.day,
                                              appt=cb.appt).pack())],
    ])


def _list_screen(book: Appointments, items: list[Appointment], lang: str) -> Screenful:
    if not items:
        return Screenful(_("You have no appointments. /book books a visit."), [
            [Button(_("📅 Book a visit"), BookCb(action="start").pack())], [_menu()]])
    lines = [_("<b>Your appointments</b>")]
    rows = []
    for a in items:
        lines.append(appointment_text(a, book.place(a.mission), lang))
        rows.append([
            Button(_("🔁 Move #{number}").format(number=a.id),
                   BookCb(action="move", appt=a.id).pack()),
            Button(_("✖️ Cancel #{number}").format(number=a.id),
                   BookCb(action="cxl", appt=a.id).pack()),
        ])
    rows.append([Button(_("📅 Book a visit"), BookCb(action="start").pack()), _menu()])
    return Screenful("\n\n".join(lines), rows)


async def book_command(message: Message, uow: UnitOfWork, store: ContentStore,
                       travel_clock: Clock | None = None) -> None:
    await send(message, await _services_screen(_book(uow, store, travel_clock)))


async def appointments_command(message: Message, uow: UnitOfWork, store: ContentStore,
                               i18n: I18n, travel_clock: Clock | None = None) -> None:
    if message.from_user is None:
        return
    book = _book(uow, store, travel_clock)
    await send(message, _list_screen(book, await book.mine(message.from_user.id),
                                     i18n.current_locale))


async def _confirmed(query: CallbackQuery, book: Appointments, appt: Appointment,
                     lang: str, moved: bool) -> None:
    place = book.place(appt.mission)
    head = _("✅ Moved.") if moved else _("✅ Booked.")
    text = "\n\n".join([head, appointment_text(appt, place, lang),
                        _("Please come a few minutes early with your identity document and "
                          "give this number. /appointments moves or cancels it.")])
    minutes = await book.length(appt.slot_id)
    await show(query, Screenful(text, [[Button(_("📋 My appointments"),
                                               BookCb(action="list").pack()), _menu()]]))
    payload = ics(appt, place, lang, minutes, book.now)
    if query.bot is not None:
        await query.bot.send_document(
            appt.user_id, BufferedInputFile(payload, filename=f"appointment-{appt.id}.ics"),
            caption=_("Add it to your calendar."))


async def booking_button(query: CallbackQuery, callback_data: BookCb, uow: UnitOfWork,
                         store: ContentStore, i18n: I18n,
                         travel_clock: Clock | None = None) -> None:
    cb, lang, user_id = callback_data, i18n.current_locale, query.from_user.id
    book = _book(uow, store, travel_clock)
    try:
        if cb.action == "ok":
            appt = (await book.move(user_id, cb.appt, cb.slot) if cb.appt
                    else await book.book(user_id, lang, cb.slot))
            await query.answer()
            await _confirmed(query, book, appt, lang, moved=bool(cb.appt))
            return
        if cb.action == "list":
            screen = _list_screen(book, await book.mine(user_id), lang)
        elif cb.action == "move":
            appt = await book.own(user_id, cb.appt)
            screen = await _step(book, BookCb(action="mis", service=appt.service,
                                              mission=appt.mission, appt=appt.id),
                                 user_id, lang)
        elif cb.action == "cxl":
            appt = await book.own(user_id, cb.appt)
            screen = Screenful(_("Cancel this appointment?") + "\n\n" + appointment_text(
                appt, book.place(appt.mission), lang), [
                [Button(_("Yes, cancel it"), BookCb(action="cxl_yes", appt=appt.id).pack()),
                 Button(_("No, keep it"), BookCb(action="list").pack())]])
        elif cb.action == "cxl_yes":
            appt = await book.cancel(user_id, cb.appt)
            screen = Screenful(_("Appointment #{number} is cancelled; the time is free for "
                                 "others now.").format(number=appt.id),
                               [[Button(_("📅 Book a visit"), BookCb(action="start").pack()),
                                 _menu()]])
        else:
            if cb.appt:
                appt = await book.own(user_id, cb.appt)
                if appt.service != cb.service or appt.mission != cb.mission:
                    raise BookingError("gone")
            screen = await _step(book, cb, user_id, lang)
    except BookingError as exc:
        await query.answer(refusal(exc.reason), show_alert=True)
        return
    await query.answer()
    await show(query, screen)


# --- operators -------------------------------------------------------------------------------


def _usage() -> str:
    return _("Use:\n/slots MISSION SERVICE DAYS HH:MM-HH:MM LENGTH, e.g. "
             "<code>/slots de-berlin passport mon-fri 09:00-12:00 20m</code> (or <code>off</code> "
             "instead of the hours)\n/closed MISSION YYYY-MM-DD\n/open MISSION YYYY-MM-DD [DAY]\n"
             "/day MISSION [YYYY-MM-DD]\nServices: {services}").format(
        services=", ".join(SERVICES))


async def _mission_for(message: Message, uow: UnitOfWork, book: Appointments,
                       settings: Settings, mission: str) -> bool:
    """The operator may manage ``mission``; else a refusal (audited) and False."""
    who = message.from_user.id if message.from_user else 0
    if mission not in book.places:
        await message.reply(_("Unknown mission “{mission}”. Mission ids look like de-berlin; "
                              "they are on the countries' content files.").format(
            mission=quote(mission)))
        return False
    allowed = settings.missions_of(who)
    if allowed is not None and mission not in allowed:
        await audit.record(uow.session, who, Action.APPOINTMENT_DESK, f"mission:{mission}",
                           allowed=False)
        await message.reply(_("You do not manage {mission} (OPERATOR_MISSIONS).").format(
            mission=quote(mission)))
        return False
    return True


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


async def slots_command(message: Message, command: CommandObject, uow: UnitOfWork,
                        store: ContentStore, settings: Settings,
                        travel_clock: Clock | None = None) -> None:
    args = (command.args or "").split()
    book = _book(uow, store, travel_clock)
    if not args:
        await message.reply(_usage())
        return
    mission = args[0].lower()
    if not await _mission_for(message, uow, book, settings, mission):
        return
    if len(args) == 1:
        lines = [f"{t.service} · {WEEKDAYS[t.weekday]} · {t.starts}–{t.ends} · {t.minutes}′"
                 for t in await book.templates(mission)]
        await message.reply("\n".join([f"<b>{mission}</b>", *lines]) if lines else
                            _("{mission} has no hours set.").format(mission=mission))
        return
    service = args[1].lower() if len(args) > 1 else ""
    weekdays = parse_days(args[2]) if len(args) > 2 else None
    off = len(args) == 4 and args[3].lower() == "off"
    hours = parse_hours(args[3], args[4]) if len(args) == 5 else None
    if service not in SERVICES or weekdays is None or not (off or hours):
        await message.reply(_usage())
        return
    who = message.from_user.id if message.from_user else 0
    planned = await book.set_hours(mission, service, weekdays, None if off else hours, who)
    await message.reply(_("Saved: {mission}, {service}. {count} times are open in the next "
                          "two weeks.").format(mission=mission, service=service, count=planned))


async def day_exception_command(message: Message, command: CommandObject, uow: UnitOfWork,
                                store: ContentStore, settings: Settings,
                                travel_clock: Clock | None = None) -> None:
    args = (command.args or "").split()
    closing = command.command == "closed"
    book = _book(uow, store, travel_clock)
    day = _iso_day(args[1]) if len(args) > 1 else None
    extra = args[2].lower() if len(args) > 2 else None
    if day is None or len(args) > 3 or (extra is not None and (closing or extra not in WEEKDAYS)):
        await message.reply(_usage())
        return
    mission = args[0].lower()
    if not await _mission_for(message, uow, book, settings, mission):
        return
    who = message.from_user.id if message.from_user else 0
    if closing:
        booked = await book.set_day(mission, day, "closed", None, who)
        text = _("{mission} is closed on {date}.").format(mission=mission, date=day.isoformat())
        if booked:
            text += " " + _("{count} visits are still booked that day: tell those people "
                            "(see /day).").format(count=booked)
    elif extra is None:
        await book.set_day(mission, day, None, None, who)
        text = _("{date} at {mission} follows the weekly hours again.").format(
            mission=mission, date=day.isoformat())
    else:
        await book.set_day(mission, day, "open", WEEKDAYS.index(extra), who)
        text = _("{mission} is open on {date} with the hours of {day}.").format(
            mission=mission, date=day.isoformat(), day=extra)
    await message.reply(text)


def _day_screen(book: Appointments, mission: str, day: date, items: list[Appointment],
                lang: str) -> Screenful:
    place = book.place(mission)
    lines = [f"<b>{quote(place.name(lang))}</b> · {fmt_date(day, lang, place.tz)}"]
    rows = []
    for a in items:
        mark = "🚫 " if a.missed else ""
        lines.append(f"{mark}{fmt_time(a.starts_at, lang, place.tz)} · #{a.id} · "
                     f"{quote(service_label(a.service))} · {a.lang}")
        if not a.missed:
            rows.append([Button(_("🚫 No-show #{number}").format(number=a.id), DeskCb(
                action="ns", mission=mission, day=_day_code(day), appt=a.id).pack())])
    if not items:
        lines.append(_("No appointments on this day."))
    rows.append([Button(_("📄 Export CSV"), DeskCb(action="csv", mission=mission,
                                                   day=_day_code(day)).pack())])
    return Screenful("\n".join(lines), rows)


async def day_command(message: Message, command: CommandObject, uow: UnitOfWork,
                      store: ContentStore, settings: Settings, i18n: I18n,
                      travel_clock: Clock | None = None) -> None:
    args = (command.args or "").split()
    book = _book(uow, store, travel_clock)
    if not args or len(args) > 2:
        await message.reply(_usage())
        return
    mission = args[0].lower()
    if not await _mission_for(message, uow, book, settings, mission):
        return
    day = _iso_day(args[1]) if len(args) == 2 else \
        book.now.astimezone(book.place(mission).tz).date()
    if day is None:
        await message.reply(_usage())
        return
    await send(message, _day_screen(book, mission, day, await book.day(mission, day),
                                    i18n.current_locale))


async def desk_button(query: CallbackQuery, callback_data: DeskCb, uow: UnitOfWork,
                      store: ContentStore, settings: Settings, i18n: I18n,
                      travel_clock: Clock | None = None) -> None:
    cb, who = callback_data, query.from_user.id
    book = _book(uow, store, travel_clock)
    allowed = settings.missions_of(who)
    if cb.mission not in book.places or (allowed is not None and cb.mission not in allowed):
        await audit.record(uow.session, who, Action.APPOINTMENT_DESK, f"mission:{cb.mission}",
                           allowed=False)
        await query.answer(_("You do not manage this mission."), show_alert=True)
        return
    try:
        day = _parse_day(cb.day)
    except BookingError:
        await query.answer(_("This button is out of date."))
        return
    if cb.action == "ns":
        try:
            await book.no_show(cb.appt, allowed, who)
        except BookingError:
            await query.answer(_("Already marked, or not an active appointment."))
            return
        await query.answer(_("Marked as a no-show."))
        await show(query, _day_screen(book, cb.mission, day, await book.day(cb.mission, day),
                                      i18n.current_locale))
        return
    payload = book.csv(cb.mission, await book.day(cb.mission, day))
    await query.answer()
    message = query.message
    if message is not None and not isinstance(message, InaccessibleMessage):
        await message.answer_document(BufferedInputFile(
            payload, filename=f"appointments-{cb.mission}-{day.isoformat()}.csv"))


async def desk_button_refused(query: CallbackQuery, uow: UnitOfWork) -> None:
    await audit.record(uow.session, query.from_user.id, Action.APPOINTMENT_DESK, None,
                       allowed=False)
    await query.answer(_("Only the operators of this group can do this."), show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(book_command, Command("book"))
    router.message.register(appointments_command, Command("appointments"))
    router.callback_query.register(booking_button, BookCb.filter())
    return router


def create_operators_router() -> Router:
    """The operators' group; include it under the parent filtered to that chat, before the
    officer desk (which takes every other message of an operator)."""
    router = Router(name=__name__ + ".operators")
    router.message.middleware(DeskLanguage())
    router.callback_query.middleware(DeskLanguage())
    desk = Router(name=__name__ + ".desk")
    desk.message.filter(IsOperator())
    desk.callback_query.filter(IsOperator())
    desk.message.register(slots_command, Command("slots"))
    desk.message.register(day_exception_command, Command("closed", "open"))
    desk.message.register(day_command, Command("day"))
    desk.callback_query.register(desk_button, DeskCb.filter())
    refusals = Router(name=__name__ + ".refusals")
    refusals.callback_query.register(desk_button_refused, DeskCb.filter())
    router.include_routers(desk, refusals)
    return router
