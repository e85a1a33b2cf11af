"""Trips: checks of the dates, and end to end from /trip through the reminder
to automatic deletion, with the clock moved instead of slept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest_asyncio
from sqlalchemy import select

from bot.travel import trips as svc
from storage.models.travel import Trip
from tests.e2e.travel_kit import TravelBot, travel_bot

TODAY = date(2026, 11, 25)


def test_checks() -> None:
    d = TODAY
    assert svc.check_dates(d - timedelta(days=1), d, d) == svc.TripProblem.STARTS_IN_PAST
    assert svc.check_dates(d + timedelta(days=5), d + timedelta(days=2), d) == \
        svc.TripProblem.ENDS_BEFORE_START
    assert svc.check_dates(d, d + timedelta(days=400), d) == svc.TripProblem.TOO_LONG
    assert svc.check_dates(d + timedelta(days=800), d + timedelta(days=801), d) == \
        svc.TripProblem.TOO_FAR
    assert svc.check_dates(d, d, d) is None


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url, trip_retention_days=30):
        yield running


def _dm(day: date) -> str:
    return day.strftime("%d.%m.%Y")


async def test_trip_from_registration_through_reminder_to_deletion(tb: TravelBot) -> None:
    now = tb.clock.now
    today = svc.local_today(now, tb.settings.tz)
    start, end = today + timedelta(days=10), today + timedelta(days=17)
    aliya = tb.person("Aliya", "en")
    other = tb.server.add_user(first_name="Stranger")

    [ask] = await aliya.say("/trip")
    assert "Which country" in ask["text"]
    [unknown] = await aliya.say("Atlantis")
    assert "I do not know a country called “Atlantis”" in unknown["text"]
    [dates] = await aliya.say("germany")
    assert "Germany" in dates["text"] and "When do you leave" in dates["text"]
    [past] = await aliya.say(f"{_dm(today - timedelta(days=3))} - {_dm(end)}")
    assert "already passed" in past["text"]
    [phone] = await aliya.say(f"{_dm(start)} - {_dm(end)}")
    assert "share your phone number" in phone["text"]
    assert tb.server.reply_keyboard(aliya.user) is not None

    tb.server.mark(aliya.user)
    await tb.server.send_contact(aliya.user, "+77010000001", user_id=other.id)
    [refused] = await tb.server.wait_for_messages(aliya.user)
    assert "your own number" in refused["text"]
    tb.server.mark(aliya.user)
    await tb.server.send_contact(aliya.user, "+77015550101")
    [home] = await tb.server.wait_for_messages(aliya.user)
    assert "contact at home" in home["text"]
    saved, card = await aliya.say("Mother, Aigul", count=2)
    assert "Trip registered" in saved["text"] and "Germany" in saved["text"]
    assert "+7701" not in saved["text"]
    assert "🇩🇪" in card["text"] and "112" in card["text"] and "Visa" in card["text"]

    [trip] = await tb.eventually(select(Trip))
    assert (trip.country, trip.starts_on, trip.ends_on) == ("DE", start, end)
    assert trip.phone == "+77015550101" and trip.home_contact == "Mother, Aigul"
    assert trip.reminder_sent is False

    await aliya.say("/trip")
    await aliya.say("Germany")
    [refused_overlap] = await aliya.say(f"{_dm(start + timedelta(days=2))} - "
                                        f"{_dm(end + timedelta(days=2))}")
    assert "overlap" in refused_overlap["text"]
    await aliya.say("/cancel")

    # two days before: nothing yet
    tb.clock.now = now + timedelta(days=8)
    assert await tb.sweep() == (0, 0)
    # the day before departure: the reminder with the current advisory, once only
    tb.clock.now = now + timedelta(days=9)
    tb.server.mark(aliya.user)
    assert await tb.sweep() == (1, 0)
    [reminder] = await tb.server.wait_for_messages(aliya.user)
    assert "starts tomorrow" in reminder["text"] and "Safety" in reminder["text"]
    assert "112" in reminder["text"]
    assert await tb.sweep() == (0, 0)

    # kept until TRIP_RETENTION_DAYS after the end, then deleted
    tb.clock.now = now + timedelta(days=17 + 30)
    assert (await tb.sweep())[1] == 0
    tb.clock.now = now + timedelta(days=17 + 31)
    assert (await tb.sweep())[1] == 1
    assert await tb.scalars(select(Trip)) == []
    assert tb.failed_calls() == []


async def test_mytrips_change_dates_and_cancel(tb: TravelBot) -> None:
    today = svc.local_today(tb.clock.now, tb.settings.tz)
    start, end = today + timedelta(days=20), today + timedelta(days=25)
    ivan = tb.person("Ivan", "en")
    await ivan.say("/trip")
    await ivan.say("Turkey")
    await ivan.say(f"{_dm(start)} {_dm(end)}")
    await ivan.say("Skip")
    await ivan.say("Skip", count=2)
    [listing] = await ivan.say("/mytrips")
    assert "Your trips" in listing["text"] and "Türkiye" in listing["text"]
    edit = await ivan.press("Dates 1")
    assert "New dates" in edit["text"]
    new_start, new_end = start + timedelta(days=1), end + timedelta(days=3)
    [changed] = await ivan.say(f"{_dm(new_start)} - {_dm(new_end)}")
    assert "Dates changed" in changed["text"]
    await tb.settled(select(Trip.starts_on), start + timedelta(days=1))
    [trip] = await tb.scalars(select(Trip))
    assert trip.starts_on == start + timedelta(days=1) and trip.phone is None
    confirm = await ivan.press("Cancel 1")
    assert "Cancel this trip?" in confirm["text"]
    done = await ivan.press("Yes, cancel it")
    assert "Cancelled" in done["text"] and "no trips" in done["text"]
    assert await tb.settled(select(Trip.id), None) is None


async def test_two_processes_never_send_a_reminder_twice(tb: TravelBot) -> None:
    """Two sweeps racing over the same due trips: each reminder goes out exactly once."""
    today = svc.local_today(tb.clock.now, tb.settings.tz)
    people = [tb.server.add_user(first_name=f"P{i}", language_code="en", started=True)
              for i in range(6)]
    async with tb.app.session_factory() as session, session.begin():
        for p in people:
            session.add(Trip(user_id=p.id, lang="en", country="TR",
                             starts_on=today + timedelta(days=1),
                             ends_on=today + timedelta(days=4)))
    sent: list[int] = []

    async def send(chat_id: int, text: str) -> bool:
        await asyncio.sleep(0)
        sent.append(chat_id)
        return True

    runs = [svc.send_due_reminders(tb.app.session_factory, tb.app.store, tb.app.i18n,
                                   tb.settings, send, tb.clock.now) for _ in range(3)]
    counts = await asyncio.gather(*runs)
    assert sum(counts) == 6
    assert sorted(sent) == sorted(p.id for p in people)


def test_reminder_text_never_shows_the_phone() -> None:
    from zoneinfo import ZoneInfo

    from bot.answers.store import ContentStore
    from storage.travel.travellers import TripDTO
    from tests.kit import CONTENT

    store = ContentStore.from_files(CONTENT)
    trip = TripDTO(1, 1, "en", "DE", TODAY, TODAY + timedelta(days=3), "+77015550101", "Mum",
                   False)
    text = svc.reminder_text(store, trip, "en", ZoneInfo("Asia/Almaty"))
    assert "+7701" not in text and "Mum" not in text and "Germany" in text
    assert isinstance(datetime.now(), datetime)
