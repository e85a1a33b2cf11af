"""/trip registers a trip step by step; /mytrips lists, re-dates and cancels trips.

Steps: country (typed in any language or chosen from the list) → dates → phone (only
through Telegram's contact button, only the person's own) → a contact at home → saved,
answered with the country's card.
"""

from __future__ import annotations

from datetime import date

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.cards import country_card
from bot.answers.store import ContentStore
from bot.config import Settings
from bot.navigation import screens
from bot.navigation.callbacks import Nav, Screen
from bot.shared import when
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful, flag
from bot.shared.tghtml import quote
from bot.travel import journeys
from bot.travel import trips as svc
from bot.travel.alert_board import Board
from bot.travel.callbacks import TravelMenu, TripAction, TripCountryPick
from handlers.ui import send, show


class TripForm(StatesGroup):
    country = State()
    dates = State()
    return_date = State()
    phone = State()
    home_contact = State()
    new_dates = State()
    leg_country = State()  # journeys: another country of the same journey
    leg_dates = State()
    companion = State()  # journeys: a travelling companion's name


def _today(settings: Settings) -> date:
    return svc.today(settings.tz)


def _menu_row() -> list[Button]:
    return [Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())]


def _country_page(store: ContentStore, lang: str, page: int) -> Screenful:
    pages = screens.country_pages(store, lang) or [[]]
    page = min(max(page, 0), len(pages) - 1)
    rows = [[Button(f"{flag(iso)} {store.country_name(iso, lang)}",
                    TripCountryPick(iso=iso).pack()) for iso in pages[page][i:i + 2]]
            for i in range(0, len(pages[page]), 2)]
    nav = []
    if page > 0:
        nav.append(Button("‹", TripCountryPick(page=page - 1).pack()))
    if page < len(pages) - 1:
        nav.append(Button("›", TripCountryPick(page=page + 1).pack()))
    if nav:
        rows.append(nav)
    rows.append(_menu_row())
    return Screenful(_("✈️ <b>New trip</b>\nWhich country are you going to? Type its name in "
                       "any language, or choose it below. /cancel stops."), rows)


async def start_trip(message: Message, state: FSMContext, store: ContentStore,
                     i18n: I18n, uow: UnitOfWork) -> None:
    if not await svc.may_register(uow.session, message.chat.id):
        await message.answer(_("You have many trips registered. Cancel one in /mytrips first."))
        return
    await state.clear()
    await state.set_state(TripForm.country)
    await send(message, _country_page(store, i18n.current_locale, 0))


async def start_trip_button(query: CallbackQuery, state: FSMContext, store: ContentStore,
                            i18n: I18n) -> None:
    await state.clear()
    await state.set_state(TripForm.country)
    await show(query, _country_page(store, i18n.current_locale, 0))
    await query.answer()


def _typed_countries(store: ContentStore, text: str) -> list[str]:
    """The countries a typed answer names: by name first, else as a question would."""
    codes = store.index.find_countries(text, limit=6)
    if not codes:
        analysis = store.index.analyze(text)
        codes = [analysis.country] if analysis.country in store.countries else []
    return codes


async def country_typed(message: Message, state: FSMContext, store: ContentStore,
                        i18n: I18n) -> None:
    lang = i18n.current_locale
    text = (message.text or "")[:200]
    codes = _typed_countries(store, text)
    if len(codes) == 1:
        await _ask_dates(message, state, store, codes[0], lang)
        return
    if codes:
        rows = [[Button(f"{flag(iso)} {store.country_name(iso, lang)}",
                        TripCountryPick(iso=iso).pack())] for iso in codes]
        await send(message, Screenful(_("Which country do you mean?"), rows))
        return
    await send(message, Screenful(
        _("I do not know a country called “{text}”. Check the spelling, or choose from "
          "the list.").format(text=quote(text[:60])),
        [[Button(_("🌍 Choose from the list"), TripCountryPick(page=0).pack())]]))


async def country_picked(query: CallbackQuery, callback_data: TripCountryPick,
                         state: FSMContext, store: ContentStore, i18n: I18n) -> None:
    lang = i18n.current_locale
    iso = callback_data.iso.upper()
    if not iso:
        await show(query, _country_page(store, lang, callback_data.page))
        await query.answer()
        return
    if iso not in store.countries:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await query.answer()
    await state.set_state(TripForm.country)
    if query.message is not None:
        await _ask_dates(query.message, state, store, iso, lang)  # type: ignore[arg-type]


async def _ask_dates(message: Message, state: FSMContext, store: ContentStore, iso: str,
                     lang: str) -> None:
    await state.update_data(country=iso)
    await state.set_state(TripForm.dates)
    await message.answer(_(
        "{flag} <b>{country}</b>. When do you leave and when do you come back?\n"
        "For example: <i>25.12 – 05.01</i>, <i>25 December – 5 January</i> or "
        "<i>2026-12-25 2027-01-05</i>.").format(
            flag=flag(iso), country=quote(store.country_name(iso, lang))))


def _problem_text(problem: svc.TripProblem, trips: list[str]) -> str:
    texts = {
        svc.TripProblem.STARTS_IN_PAST: _(
            "That date has already passed. Please give the dates of a coming trip."),
        svc.TripProblem.ENDS_BEFORE_START: _(
            "The return date is before the departure date. Please send both dates again."),
        svc.TripProblem.TOO_LONG: _(
            "A trip can be registered for up to a year. For a longer stay, register with "
            "the consulate (consular registration)."),
        svc.TripProblem.TOO_FAR: _("Trips can be registered up to two years ahead."),
        svc.TripProblem.OVERLAPS: _(
            "These dates overlap a trip you already registered:\n{trips}\nChange its dates "
            "in /mytrips, or send other dates."),
    }
    return texts[problem].format(trips="\n".join(trips))


async def _check(message: Message, uow: UnitOfWork, store: ContentStore, lang: str,
                 settings: Settings, start: date, end: date,
                 exclude: int | None = None) -> bool:
    problem, overlaps = await svc.check_trip(uow.session, message.chat.id, start, end,
                                             settings.tz, exclude)
    if problem is None:
        return True
    lines = [svc.format_trip(store, t, lang, settings.tz) for t in overlaps]
    await message.answer(_problem_text(problem, lines))
    return False


async def dates_typed(message: Message, state: FSMContext, uow: UnitOfWork,
                      store: ContentStore, settings: Settings, i18n: I18n) -> None:
    lang = i18n.current_locale
    try:
        parsed = when.parse_dates(message.text or "", _today(settings), limit=2)
    except when.Unreadable as exc:
        await message.answer(when.refusal(exc, "date"))
        return
    if len(parsed) == 1:
        problem = svc.check_dates(parsed[0], parsed[0], _today(settings))
        if problem is not None:
            await message.answer(_problem_text(problem, []))
            return
        await state.update_data(start=parsed[0].isoformat())
        await state.set_state(TripForm.return_date)
        await message.answer(_("And when do you come back?"))
        return
    await _dates_chosen(message, state, uow, store, settings, lang, parsed[0], parsed[1])


async def return_typed(message: Message, state: FSMContext, uow: UnitOfWork,
                       store: ContentStore, settings: Settings, i18n: I18n) -> None:
    data = await state.get_data()
    start = date.fromisoformat(data["start"])
    try:
        parsed = when.parse_date(message.text or "", _today(settings), after=start)
    except when.Unreadable as exc:
        await message.answer(when.refusal(exc, "date"))
        return
    await _dates_chosen(message, state, uow, store, settings, i18n.current_locale, start, parsed)


async def _dates_chosen(message: Message, state: FSMContext, uow: UnitOfWork,
                        store: ContentStore, settings: Settings, lang: str,
                        start: date, end: date) -> None:
    if not await _check(message, uow, store, lang, settings, start, end):
        await state.set_state(TripForm.dates)
        return
    await state.update_data(start=start.isoformat(), end=end.isoformat())
    await state.set_state(TripForm.phone)
    await message.answer(
        _("If you like, share your phone number so the embassy can reach you in an emergency. "
          "Only you will ever see it here. Use the button below, or press “Skip”."),
        reply_markup=_phone_keyboard())


def _skip_label() -> str:
    return _("Skip")


def _phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(keyboard=[
        [KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)],
        [KeyboardButton(text=_skip_label())],
    ], resize_keyboard=True, one_time_keyboard=True)


async def phone_shared(message: Message, state: FSMContext) -> None:
    contact = message.contact
    if contact is None or message.from_user is None or contact.user_id != message.from_user.id:
        await message.answer(_("Please share your own number with the button below, "
                               "or press “Skip”."), reply_markup=_phone_keyboard())
        return
    await state.update_data(phone=contact.phone_number[:32])
    await _ask_home_contact(message, state)


async def phone_other(message: Message, state: FSMContext) -> None:
    if (message.text or "").strip().casefold() in {_skip_label().casefold(), "/skip"}:
        await _ask_home_contact(message, state)
        return
    await message.answer(_("For your safety I take the number only from the button below, "
                           "so it cannot be mistyped. Or press “Skip”."),
                         reply_markup=_phone_keyboard())


async def _ask_home_contact(message: Message, state: FSMContext) -> None:
    await state.set_state(TripForm.home_contact)
    await message.answer(
        _("Who should the embassy contact at home if something happens? For example: "
          "<i>Mother, Aigul, +7 701 000 00 00</i>. Or press “Skip”."),
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=_skip_label())]],
                                         resize_keyboard=True, one_time_keyboard=True))


async def home_contact_typed(message: Message, state: FSMContext, uow: UnitOfWork,
                             store: ContentStore, settings: Settings, i18n: I18n,
                             alert_board: Board) -> None:
    text = " ".join((message.text or "").split())
    if text.casefold() in {_skip_label().casefold(), "/skip"}:
        text = ""
    elif len(text) > svc.HOME_CONTACT_CHARS:
        await message.answer(_("Please keep it short: at most {limit} characters.").format(
            limit=svc.HOME_CONTACT_CHARS))
        return
    await _save(message, state, uow, store, settings, alert_board, i18n.current_locale,
                text or None)


async def not_text_in_form(message: Message) -> None:
    await message.answer(_("Please answer with text, or send /cancel to stop."))


async def _save(message: Message, state: FSMContext, uow: UnitOfWork, store: ContentStore,
                settings: Settings, board: Board, lang: str, home_contact: str | None) -> None:
    data = await state.get_data()
    start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    trip = await svc.register(uow.session, message.chat.id, lang, data["country"], start, end,
                              data.get("phone"), home_contact, settings.tz)
    await state.clear()
    if trip is None:  # an overlapping trip was registered meanwhile, elsewhere
        await message.answer(_problem_text(svc.TripProblem.OVERLAPS, []),
                             reply_markup=ReplyKeyboardRemove())
        return
    await message.answer(
        _("✅ Trip registered: {trip}\nA day before you leave I will send you the current "
          "travel advice. Alerts for this country will reach you during the trip. "
          "/mytrips lists your trips.").format(
            trip=svc.format_trip(store, trip, lang, settings.tz)),
        reply_markup=ReplyKeyboardRemove())
    card = country_card(store, trip.country, lang, settings.tz, board=board)
    await send(message, Screenful(card.html, [*_journey_rows(trip.id), *card.buttons]))


def _journey_rows(trip_id: int) -> list[list[Button]]:
    return [[Button(_("➕ Add another country"), TripAction(action="leg", trip_id=trip_id).pack()),
             Button(_("👥 Add a companion"),
                    TripAction(action="companion", trip_id=trip_id).pack())]]


async def _journey_step(query: CallbackQuery, state: FSMContext, uow: UnitOfWork,
                        trip_id: int, action: str) -> None:
    """"Add another country" or "Add a companion" on a registered trip."""
    room = await journeys.has_room(uow.session, trip_id, action)
    if action == "leg":
        if not room:
            await send(query.message, Screenful(  # type: ignore[arg-type]
                _("A journey can have at most {limit} countries.").format(
                    limit=journeys.MAX_LEGS)))
            return
        await state.set_state(TripForm.leg_country)
        text = _("Which other country does this journey take you to? Type its name. "
                 "/cancel stops.")
    else:
        if not room:
            await send(query.message, Screenful(  # type: ignore[arg-type]
                _("A journey can have at most {limit} companions.").format(
                    limit=journeys.MAX_COMPANIONS)))
            return
        await state.set_state(TripForm.companion)
        text = _("Who travels with you? Send a name only (no document numbers). "
                 "/cancel stops.")
    await state.update_data(trip_id=trip_id)
    await send(query.message, Screenful(text))  # type: ignore[arg-type]


async def leg_country_typed(message: Message, state: FSMContext, store: ContentStore,
                            i18n: I18n) -> None:
    lang = i18n.current_locale
    text = (message.text or "")[:200]
    codes = _typed_countries(store, text)
    if len(codes) != 1:
        await message.answer(_("I do not know a country called “{text}”. Check the spelling, "
                               "or choose from the list.").format(text=quote(text[:60])))
        return
    iso = codes[0]
    await state.update_data(country=iso)
    await state.set_state(TripForm.leg_dates)
    await message.answer(_(
        "{flag} <b>{country}</b>. When are you there? Send both dates, for example "
        "<i>28.12 – 02.01</i>.").format(flag=flag(iso),
                                        country=quote(store.country_name(iso, lang))))


async def leg_dates_typed(message: Message, state: FSMContext, uow: UnitOfWork,
                          store: ContentStore, settings: Settings, i18n: I18n) -> None:
    lang, today = i18n.current_locale, _today(settings)
    try:
        parsed = when.parse_dates(message.text or "", today, limit=2)
    except when.Unreadable as exc:
        await message.answer(when.refusal(exc, "date"))
        return
    if len(parsed) < 2:
        await message.answer(_("Please send both dates: when you leave and when you return."))
        return
    problem = journeys.check_leg(parsed[0], parsed[1], today)
    if problem is not None:
        await message.answer(_problem_text(problem, []))
        return
    data = await state.get_data()
    leg = await journeys.add_leg(uow.session, int(data.get("trip_id", 0)), message.chat.id,
                                 str(data["country"]), parsed[0], parsed[1], today)
    await state.clear()
    if leg is None:
        await message.answer(_("This trip is no longer registered."))
        return
    await send(message, Screenful(
        _("✅ Added to your journey: {leg}\nAlerts for this country will reach you while you "
          "are there.").format(leg=journeys.format_leg(store, leg, lang, settings.tz)),
        _journey_rows(leg.trip_id)))


async def companion_typed(message: Message, state: FSMContext, uow: UnitOfWork) -> None:
    name = " ".join((message.text or "").split())
    if not name or len(name) > journeys.COMPANION_CHARS or any(ch.isdigit() for ch in name):
        await message.answer(_("Please send a name only, at most {limit} characters and no "
                               "numbers.").format(limit=journeys.COMPANION_CHARS))
        return
    trip_id = int((await state.get_data()).get("trip_id", 0))
    companion = await journeys.add_companion(uow.session, trip_id, message.chat.id, name)
    await state.clear()
    if companion is None:
        await message.answer(_("This trip is no longer registered."))
        return
    await send(message, Screenful(
        _("✅ {name} travels with you on this journey.").format(name=quote(companion.name)),
        _journey_rows(trip_id)))


# --- /mytrips ---------------------------------------------------------------------------


async def _trips_screen(uow: UnitOfWork, user_id: int, store: ContentStore, lang: str,
                        settings: Settings, note: str | None = None) -> Screenful:
    seen = await journeys.overview(uow.session, user_id)
    rows: list[list[Button]] = []
    if not seen.trips:
        text = _("You have no trips registered.")
    else:
        lines = [_("<b>Your trips</b>")]
        for i, trip in enumerate(seen.trips, 1):
            lines.append(f"{i}. {svc.format_trip(store, trip, lang, settings.tz)}")
            lines.extend(journeys.journey_lines(store, seen.legs.get(trip.id, []),
                                                seen.companions.get(trip.id, []), lang,
                                                settings.tz))
            rows.append([
                Button(_("✏️ Dates {n}").format(n=i),
                       TripAction(action="dates", trip_id=trip.id).pack()),
                Button(_("❌ Cancel {n}").format(n=i),
                       TripAction(action="cancel", trip_id=trip.id).pack()),
            ])
        text = "\n".join(lines)
    if note:
        text = f"{note}\n\n{text}"
    rows.append([Button(_("✈️ Register a trip"), TravelMenu(screen="new_trip").pack())])
    rows.append(_menu_row())
    return Screenful(text, rows)


async def my_trips(message: Message, state: FSMContext, uow: UnitOfWork, store: ContentStore,
                   settings: Settings, i18n: I18n) -> None:
    await state.clear()
    await send(message, await _trips_screen(uow, message.chat.id, store,
                                            i18n.current_locale, settings))


async def my_trips_button(query: CallbackQuery, state: FSMContext, uow: UnitOfWork,
                          store: ContentStore, settings: Settings, i18n: I18n) -> None:
    await state.clear()
    await show(query, await _trips_screen(uow, query.from_user.id, store,
                                          i18n.current_locale, settings))
    await query.answer()


async def trip_action(query: CallbackQuery, callback_data: TripAction, state: FSMContext,
                      uow: UnitOfWork, store: ContentStore, settings: Settings,
                      i18n: I18n) -> None:
    lang, uid = i18n.current_locale, query.from_user.id
    trip = await svc.get_trip(uow.session, callback_data.trip_id, uid)
    if trip is None:
        await query.answer(_("This trip is no longer registered."), show_alert=True)
        await show(query, await _trips_screen(uow, uid, store, lang, settings))
        return
    line = svc.format_trip(store, trip, lang, settings.tz)
    if callback_data.action in ("leg", "companion"):
        await query.answer()
        await _journey_step(query, state, uow, trip.id, callback_data.action)
        return
    if callback_data.action == "cancel":
        await show(query, Screenful(_("Cancel this trip?\n{trip}").format(trip=line), [[
            Button(_("Yes, cancel it"), TripAction(action="cancel_yes", trip_id=trip.id).pack()),
            Button(_("No, keep it"), TravelMenu(screen="trips").pack()),
        ]]))
    elif callback_data.action == "cancel_yes":
        await svc.cancel(uow.session, trip.id, uid)
        note = _("Cancelled: {trip}").format(trip=line)
        await show(query, await _trips_screen(uow, uid, store, lang, settings, note))
    elif callback_data.action == "dates":
        await state.set_state(TripForm.new_dates)
        await state.update_data(trip_id=trip.id)
        await show(query, Screenful(_("New dates for {trip}? Send both, for example "
                                      "<i>25.12 – 05.01</i>. /cancel keeps the old ones.")
                                    .format(trip=line)))
    await query.answer()


async def new_dates_typed(message: Message, state: FSMContext, uow: UnitOfWork,
                          store: ContentStore, settings: Settings, i18n: I18n) -> None:
    lang = i18n.current_locale
    trip_id = int((await state.get_data()).get("trip_id", 0))
    try:
        parsed = when.parse_dates(message.text or "", _today(settings), limit=2)
    except when.Unreadable as exc:
        await message.answer(when.refusal(exc, "date"))
        return
    if len(parsed) < 2:
        await message.answer(_("Please send both dates: when you leave and when you return."))
        return
    start, end = parsed[0], parsed[1]
    if not await _check(message, uow, store, lang, settings, start, end, exclude=trip_id):
        return
    if not await svc.change_dates(uow.session, trip_id, message.chat.id, start, end,
                                  settings.tz):
        await state.clear()
        await message.answer(_("This trip is no longer registered."))
        return
    await state.clear()
    await send(message, await _trips_screen(uow, message.chat.id, store, lang, settings,
                                            _("Dates changed.")))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_trip, Command("trip"))
    router.message.register(my_trips, Command("mytrips"))
    router.callback_query.register(start_trip_button, TravelMenu.filter(F.screen == "new_trip"))
    router.callback_query.register(my_trips_button, TravelMenu.filter(F.screen == "trips"))
    router.callback_query.register(trip_action, TripAction.filter())
    router.callback_query.register(country_picked, TripCountryPick.filter())
    router.message.register(country_typed, StateFilter(TripForm.country), F.text)
    router.message.register(dates_typed, StateFilter(TripForm.dates), F.text)
    router.message.register(return_typed, StateFilter(TripForm.return_date), F.text)
    router.message.register(phone_shared, StateFilter(TripForm.phone), F.contact)
    router.message.register(phone_other, StateFilter(TripForm.phone))
    router.message.register(home_contact_typed, StateFilter(TripForm.home_contact), F.text)
    router.message.register(new_dates_typed, StateFilter(TripForm.new_dates), F.text)
    router.message.register(leg_country_typed, StateFilter(TripForm.leg_country), F.text)
    router.message.register(leg_dates_typed, StateFilter(TripForm.leg_dates), F.text)
    router.message.register(companion_typed, StateFilter(TripForm.companion), F.text)
    for step in (TripForm.country, TripForm.dates, TripForm.return_date,
                 TripForm.home_contact, TripForm.new_dates, TripForm.leg_country,
                 TripForm.leg_dates, TripForm.companion):
        router.message.register(not_text_in_form, StateFilter(step))
    return router
