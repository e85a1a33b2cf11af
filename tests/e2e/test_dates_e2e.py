"""End to end: dates and times typed with month names and relative words, in /newpost,
Reschedule and /trip, through the local Bot API server; what the person sees and what is
stored. The month names below are written out here, not taken from the parser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.travel import trips as svc
from storage.models.base import utcnow
from storage.models.publishing import Post
from storage.models.travel import Trip
from tests.e2e.travel_kit import TravelBot, travel_bot
from tests.kit import Conversation, RunningBot, start_bot
from tests.kit.doubles import FakePublisher

pytestmark = pytest.mark.asyncio

RU_OF = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
         "сентября", "октября", "ноября", "декабря"]
EN_SHORT = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def coming_25th(today: date) -> date:
    """The 25th of the first month, from this one, that is at least a week away and has a
    30th (so that "25 to 30" exists): 25 December while it is early December."""
    year, month = today.year, today.month
    while True:
        day = date(year, month, 25)
        if month != 2 and day >= today + timedelta(days=7):
            return day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@pytest_asyncio.fixture
async def editor_bot(db_url: str) -> AsyncIterator[tuple[RunningBot, Conversation]]:
    """The real bot over HTTP; a Russian-speaking administrator writes posts."""
    from localapi import LocalBotAPI

    async with LocalBotAPI() as server:
        admin = server.add_user(first_name="Админ", language_code="ru")

        def use_fake_publisher(dp: Any) -> None:
            dp["publisher"] = FakePublisher()

        async with start_bot(db_url, server, setup=use_fake_publisher, admin_ids=(admin.id,),
                             posts_need_approval=False, default_language="en") as s:
            yield RunningBot(s), Conversation(server, admin)


async def test_post_time_with_a_month_name_and_its_reschedule(
        editor_bot: tuple[RunningBot, Conversation]) -> None:
    running, admin = editor_bot
    server, tz = running.server, running.settings.tz
    day = coming_25th(utcnow().astimezone(tz).date())

    await admin.say("/newpost")
    await admin.press("Пропустить")  # no Kazakh text
    [english] = await admin.say("Приём граждан")
    media = await admin.press("Пропустить", english)
    buttons_step = await admin.press("Пропустить", media)
    await admin.press("Пропустить", buttons_step)
    await admin.press("Граждане: Русский")
    await admin.press("Далее")
    await server.wait_for_messages(admin.user, count=3)  # heading, preview, "when?"

    [ready] = await admin.say(f"25 {RU_OF[day.month - 1]} 10:00")
    assert f"Время: 25 {RU_OF[day.month - 1]} {day.year} г., 10:00" in ready["text"]
    await admin.press("Запланировать", ready)
    [send_at] = await running.eventually(select(Post.send_at))
    assert send_at.astimezone(tz).replace(tzinfo=None) == datetime(
        day.year, day.month, 25, 10, 0)

    [listed] = await admin.say("/posts")
    screen = await admin.press("Приём граждан", listed)
    asked = await admin.press("Перенести", screen)
    assert "/cancel" in asked["text"]
    [moved] = await admin.say(f"{EN_SHORT[day.month - 1]} 24 09:30")
    assert f"24 {RU_OF[day.month - 1]} {day.year} г., 09:30" in moved["text"]
    moment = datetime(day.year, day.month, 24, 9, 30, tzinfo=tz).astimezone(UTC)
    [status] = await running.eventually(select(Post.status).where(Post.send_at == moment))
    assert status == "scheduled"

    # what it cannot read is refused with an example, and nothing changes
    await admin.press("Перенести", await admin.press("Приём граждан",
                                                     (await admin.say("/posts"))[0]))
    [refused] = await admin.say("25 foo 10:00")
    assert "«25»" in refused["text"] and "25 декабря 10:00" in refused["text"]
    [still] = await running.eventually(select(Post.send_at))
    assert still.astimezone(UTC) == moment
    assert running.failed_calls() == []


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url):
        yield running


async def test_trip_dates_as_a_russian_range_and_kazakh_tomorrow(tb: TravelBot) -> None:
    today = svc.local_today(tb.clock.now, tb.settings.tz)
    day = coming_25th(today)
    month = RU_OF[day.month - 1]

    ivan = tb.person("Иван", "ru")
    await ivan.say("/trip")
    await ivan.say("Германия")
    [phone] = await ivan.say(f"с 25 по 30 {month}")
    assert "номер" in phone["text"]
    await ivan.say("/skip")
    saved, _card = await ivan.say("/skip", count=2)
    assert f"25 {month} {day.year} г. – 30 {month} {day.year} г." in saved["text"]
    [trip] = await tb.eventually(select(Trip))
    assert (trip.starts_on, trip.ends_on) == (day, day.replace(day=30))

    aigerim = tb.person("Айгерім", "kk")
    await aigerim.say("/trip")
    await aigerim.say("Түркия")
    [back] = await aigerim.say("ертең")
    tomorrow = today + timedelta(days=1)
    assert "?" in back["text"]  # asks for the return date
    await aigerim.say(f"{(tomorrow + timedelta(days=5)):%d.%m.%Y}")
    await aigerim.say("/skip")
    saved, _card = await aigerim.say("/skip", count=2)
    assert f"{tomorrow.year} жылғы {tomorrow.day} " in saved["text"]
    trips = await tb.eventually(select(Trip).where(Trip.user_id == aigerim.user.id))
    assert [(t.starts_on, t.ends_on) for t in trips] == [
        (tomorrow, tomorrow + timedelta(days=5))]

    await ivan.say("/trip")
    await ivan.say("Франция")
    [refused] = await ivan.say("32.12")
    assert "«32.12»" in refused["text"] and "25 декабря" in refused["text"]
    assert tb.failed_calls() == []
