"""Journeys like STEP, end to end: a trip with another country and a companion, registered in
the /trip dialogue in kk/ru/en; an alert for the second leg's country reaches the traveller and
one for a country outside the journey does not; each further leg is reminded the day before;
companions and the home contact are in /my_data and gone after /forget_me; the migration makes
an existing trip a one-leg journey."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select, text

from bot.travel import trips as svc
from storage.db import create_engine
from storage.migrate import downgrade, upgrade
from storage.models.people import Role
from storage.models.travel import Trip, TripCompanion, TripLeg
from storage.travel.journeys import JourneyRepo
from storage.travel.travellers import TripRepo
from tests.e2e.travel_kit import TravelBot, travel_bot
from tests.kit import Conversation, rows_mentioning


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url):
        yield running


def _dm(day: date) -> str:
    return day.strftime("%d.%m.%Y")


WORDS = {
    "kk": {"germany": "Германия", "turkey": "Түркия", "add_country": "Тағы бір ел қосу",
           "add_companion": "Серік қосу", "added": "Сапарыңызға қосылды",
           "companion": "осы сапарда сізбен бірге", "with": "Бірге баратындар"},
    "ru": {"germany": "Германия", "turkey": "Турция", "add_country": "Добавить ещё страну",
           "add_companion": "Добавить попутчика", "added": "Добавлено в поездку",
           "companion": "едет с вами в этой поездке", "with": "Попутчики"},
    "en": {"germany": "Germany", "turkey": "Türkiye", "add_country": "Add another country",
           "add_companion": "Add a companion", "added": "Added to your journey",
           "companion": "travels with you on this journey", "with": "Travelling with"},
}


async def _issue_alert(tb: TravelBot, admin: Conversation, country: str, body: str) -> None:
    [severity] = await admin.say(f"/alert {country}")
    assert "How severe" in severity["text"], severity["text"]
    await admin.press("Leave now", severity)
    await admin.press("Skip this language")
    await admin.press("Skip this language")
    await admin.say(body)
    await admin.press("1 day")
    await admin.press("Submit")
    # the author's delivery report follows the "going out" notice: the run is over
    [report] = await tb.server.wait_for_messages(admin.user, timeout=10)
    assert "delivery report" in report["text"]


@pytest.mark.asyncio
@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_two_country_journey_gets_the_alert_for_its_second_leg(
    tb: TravelBot, lang: str,
) -> None:
    w = WORDS[lang]
    today = svc.local_today(tb.clock.now, tb.settings.tz)
    traveller = tb.person("Aliya", lang)
    await traveller.say("/trip")
    await traveller.say(w["germany"])
    await traveller.say(f"{_dm(today)} - {_dm(today + timedelta(days=10))}")
    await traveller.say("/skip")
    _saved, card = await traveller.say("/skip", count=2)
    ask = await traveller.press(w["add_country"], card)
    assert "/cancel" in ask["text"]
    [dates] = await traveller.say(w["turkey"])
    assert "🇹🇷" in dates["text"]
    # the second leg overlaps the first: one journey, so it is allowed
    [added] = await traveller.say(f"{_dm(today)} - {_dm(today + timedelta(days=3))}")
    assert w["added"] in added["text"] and w["turkey"] in added["text"]
    await traveller.press(w["add_companion"], added)
    [companion] = await traveller.say("Aigerim")
    assert f"Aigerim {w['companion']}" in companion["text"]
    [listing] = await traveller.say("/mytrips")
    assert w["germany"] in listing["text"] and w["turkey"] in listing["text"]
    assert f"{w['with']}: Aigerim" in listing["text"]
    legs = await tb.rows(select(TripLeg.position, TripLeg.country).order_by(TripLeg.position))
    assert [tuple(r) for r in legs] == [(0, "DE"), (1, "TR")]

    admin_user = tb.server.add_user(first_name="Admin", language_code="en", started=True)
    async with tb.app.session_factory() as session, session.begin():
        session.add(Role(user_id=admin_user.id, role="admin"))
    admin = Conversation(tb.server, admin_user)
    tb.server.mark(traveller.user)
    await _issue_alert(tb, admin, "Turkey", "Avoid the border crossings today.")
    [alert] = await tb.server.wait_for_messages(traveller.user, timeout=10)
    assert "Avoid the border crossings today." in alert["text"]

    tb.server.mark(traveller.user)
    await _issue_alert(tb, admin, "Georgia", "Roads closed in the mountains.")
    with pytest.raises(TimeoutError):  # not a country of her journey
        await tb.server.wait_for_messages(traveller.user, timeout=1.5)
    assert tb.failed_calls() == []


@pytest.mark.asyncio
async def test_a_further_leg_is_reminded_the_day_before(tb: TravelBot) -> None:
    now = tb.clock.now
    today = svc.local_today(now, tb.settings.tz)
    dana = tb.person("Dana", "en")
    await dana.say("/start")
    async with tb.app.session_factory() as session, session.begin():
        trip = await TripRepo(session).add(dana.user.id, "en", "DE", today + timedelta(days=1),
                                           today + timedelta(days=20), reminder_sent=True)
        await JourneyRepo(session).add_leg(trip.id, dana.user.id, "TR",
                                           today + timedelta(days=6), today + timedelta(days=9))
    tb.clock.now = now + timedelta(days=4)
    sent_before = len([m for m in tb.server.messages(dana.user) if m["outgoing"]])
    await tb.sweep()
    assert len([m for m in tb.server.messages(dana.user) if m["outgoing"]]) == sent_before
    tb.clock.now = now + timedelta(days=5)
    tb.server.mark(dana.user)
    await tb.sweep()
    [reminder] = await tb.server.wait_for_messages(dana.user)
    assert "Your trip to Türkiye starts tomorrow" in reminder["text"]
    await tb.sweep()
    assert len([m for m in tb.server.messages(dana.user) if m["outgoing"]]) == sent_before + 1
    # kept while a later leg has not ended, although the trip's first leg has
    tb.clock.now = now + timedelta(days=9 + tb.settings.trip_retention_days)
    async with tb.app.session_factory() as session, session.begin():
        await session.execute(text("UPDATE trips SET ends_on = :d"), {"d": today})
        await session.execute(text("UPDATE trip_legs SET ends_on = :d WHERE position = 0"),
                              {"d": today})
    await tb.sweep()
    assert len(await tb.scalars(select(Trip.id))) == 1
    tb.clock.now = now + timedelta(days=10 + tb.settings.trip_retention_days)
    await tb.sweep()
    assert await tb.scalars(select(Trip.id)) == []
    assert await tb.scalars(select(TripLeg.id)) == []
    assert tb.failed_calls() == []


@pytest.mark.asyncio
async def test_companions_and_home_contact_in_my_data_and_gone_after_forget_me(
    tb: TravelBot,
) -> None:
    today = svc.local_today(tb.clock.now, tb.settings.tz)
    dana = tb.person("Dana", "en")
    bystander = tb.person("Other", "en")
    await dana.say("/start")
    async with tb.app.session_factory() as session, session.begin():
        trip = await TripRepo(session).add(dana.user.id, "en", "DE", today + timedelta(days=5),
                                           today + timedelta(days=9),
                                           home_contact="Mum, Gulnara")
        await JourneyRepo(session).add_leg(trip.id, dana.user.id, "TR",
                                           today + timedelta(days=7), today + timedelta(days=12))
        await JourneyRepo(session).add_companion(trip.id, dana.user.id, "Aigerim")
        other = await TripRepo(session).add(bystander.user.id, "en", "DE",
                                            today + timedelta(days=5), today + timedelta(days=9))
        await JourneyRepo(session).add_companion(other.id, bystander.user.id, "Bolat")

    [shown] = await dana.say("/my_data")
    assert "Aigerim" in shown["text"] and "Mum, Gulnara" in shown["text"]
    assert "Türkiye" in shown["text"] and "Bolat" not in shown["text"]
    [ask] = await dana.say("/forget_me")
    done = await dana.press("Yes, erase everything", ask)
    assert "Travelling companions you named (1)" in done["text"]
    assert "Trips (1)" in done["text"]
    assert await rows_mentioning(tb.settings.db.url, dana.user.id) == {}
    assert await tb.scalars(select(TripCompanion.name)) == ["Bolat"]  # others untouched
    assert await tb.scalars(select(TripLeg.user_id)) == [bystander.user.id]


def test_migration_makes_an_existing_trip_a_one_leg_journey(db_url: str) -> None:
    downgrade(db_url, "0005_outbound")

    async def seed() -> None:
        engine = create_engine(db_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO trips (user_id, lang, country, starts_on, ends_on, "
                    "reminder_sent, created_at) VALUES (42, 'kk', 'TR', '2026-12-20', "
                    "'2026-12-30', false, '2026-12-01 10:00:00')"))
        finally:
            await engine.dispose()

    async def legs() -> list[tuple[object, ...]]:
        engine = create_engine(db_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text(
                    "SELECT l.user_id, l.position, l.country, l.starts_on, l.ends_on "
                    "FROM trip_legs l JOIN trips t ON t.id = l.trip_id"))
                return [tuple(r) for r in rows]
        finally:
            await engine.dispose()

    asyncio.run(seed())
    upgrade(db_url)
    [(user_id, position, country, starts, ends)] = asyncio.run(legs())
    assert (user_id, position, country) == (42, 0, "TR")
    assert str(starts)[:10] == "2026-12-20" and str(ends)[:10] == "2026-12-30"
