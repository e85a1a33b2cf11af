"""/my_data and /forget_me end to end: shown only to the person, and after erasure no row in
any table mentions them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from sqlalchemy import select

from bot.factory import create_privacy_registry
from bot.travel.trips import local_today
from storage.models.people import User
from storage.models.travel import CountryFollow, Trip
from tests.e2e.travel_kit import TravelBot, travel_bot
from tests.kit import rows_mentioning


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url):
        yield running


def test_registry_has_the_builtin_tables() -> None:
    keys = {e.key for e in create_privacy_registry().entries()}
    assert {"users", "news_subscriptions", "unanswered_questions", "trips",
            "country_follows", "deliveries"} <= keys


def test_registry_keeps_the_order_my_data_shows() -> None:
    """Built by the factory, not by imports: the same order whatever was imported first."""
    assert [e.key for e in create_privacy_registry().entries()] == [
        "users", "news_subscriptions", "unanswered_questions", "trip_companions", "trips",
        "country_follows", "deliveries", "chats_added_by", "taught_examples", "appointments",
        "case_followers", "case_lookups", "officer_requests", "feedback", "question_log"]


async def test_forget_me_leaves_no_row_about_the_person(tb: TravelBot) -> None:
    today = local_today(tb.clock.now, tb.settings.tz)
    dana = tb.person("Dana", "en")
    bystander = tb.person("Other", "en")
    await dana.say("/start")
    [_gap] = await dana.say("qwzx vbnm ploki")  # an unanswered question is kept
    await bystander.say("qwzx other")
    async with tb.app.session_factory() as session, session.begin():
        await session.merge(User(id=dana.user.id, language="en"))  # she wrote: the row exists
        session.add_all([
            Trip(user_id=dana.user.id, lang="en", country="DE", starts_on=today + timedelta(5),
                 ends_on=today + timedelta(9), phone="+77015550101", home_contact="Mum"),
            CountryFollow(user_id=dana.user.id, country="TR", lang="en"),
            CountryFollow(user_id=bystander.user.id, country="TR", lang="en"),
        ])
    assert await rows_mentioning(tb.settings.db.url, dana.user.id)

    [shown] = await dana.say("/my_data")
    assert "+77015550101" in shown["text"] and "Mum" in shown["text"]  # to the person only
    assert "qwzx vbnm ploki" in shown["text"]
    assert "Chosen language: English" in shown["text"]  # by its name, not "en"
    [ask] = await dana.say("/forget_me")
    kept = await dana.press("No", ask)
    assert "Nothing was erased" in kept["text"]
    [ask] = await dana.say("/forget_me")
    done = await dana.press("Yes, erase everything", ask)
    assert "Erased:" in done["text"] and "Trips (1)" in done["text"]
    # one line per kind: her logged questions are not "requests to consular officers"
    assert "Requests to consular officers" not in done["text"]
    assert "Questions you asked, now counted without their text or your name (1)" \
        in done["text"]
    assert "I no longer hold anything" in done["text"]

    assert await rows_mentioning(tb.settings.db.url, dana.user.id) == {}
    assert await rows_mentioning(tb.settings.db.url, bystander.user.id)  # others untouched
    # Writing again is a first contact again: only the language her Telegram reports is kept.
    [again] = await dana.say("/my_data")
    assert "+77015550101" not in again["text"] and "qwzx" not in again["text"]
    assert "Chosen language" not in again["text"]
    assert "Language your Telegram reports: English" in again["text"]
    assert await tb.scalars(select(CountryFollow.user_id)) == [bystander.user.id]
