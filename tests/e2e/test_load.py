"""Under load: few database connections for many people, replies that meet a 429, one
person's quick dialogue within Telegram's per-chat limit, a reminder sweep through a 429."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.travel import trips as svc
from localapi import LocalBotAPI
from storage.models.officer import OfficerRequest
from storage.models.travel import Trip
from tests.e2e.test_officer_e2e import Desk
from tests.e2e.travel_kit import TravelBot, travel_bot
from tests.kit import Conversation, start_bot

QUESTION = "How do I renew my passport abroad?"
TELEGRAM_LATENCY = (0.05, 0.15)


def answered(reply: dict) -> bool:
    return "passport" in reply["text"].lower() and "went wrong" not in reply["text"]


def refused(server: LocalBotAPI, method: str = "sendMessage") -> list[int]:
    """Chats whose ``method`` calls the server answered with 429."""
    return [int(c.params["chat_id"]) for c in server.calls
            if c.method == method and c.status == 429]


async def test_a_pool_of_two_connections_answers_twenty_citizens_asking_at_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No update holds a connection while it waits on Telegram, the limiter or the
    question log: two connections serve twenty people who ask at the same moment."""
    monkeypatch.setenv("DATABASE_POOL_SIZE", "2")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "0")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "5")
    async with LocalBotAPI(latency=TELEGRAM_LATENCY) as server, \
            start_bot(db_url, server, default_language="en") as bot:
        assert bot.app.engine.pool.size() == 2
        people = [Conversation(server, server.add_user(first_name=f"Citizen {i}",
                                                       language_code="en"))
                  for i in range(20)]
        replies = await asyncio.gather(*(p.say(QUESTION, timeout=30) for p in people))
    assert [answered(r) for [r] in replies] == [True] * 20


async def test_a_reply_answered_429_is_sent_after_retry_after(db_url: str) -> None:
    async with LocalBotAPI() as server, start_bot(db_url, server):
        john = Conversation(server, server.add_user(first_name="John", language_code="en"))
        server.storm_429(2)
        [reply] = await john.say(QUESTION, timeout=15)
        assert answered(reply)
        assert refused(server) == [john.user.id]  # refused once, then sent
        retried = [c for c in server.calls if c.method == "sendMessage" and c.ok]
        first_refusal = next(c for c in server.calls if c.status == 429)
        assert retried[-1].at - first_refusal.at >= 1.9  # waited retry_after (2 s)


async def test_a_quick_dialogue_stays_within_the_private_chat_limit(db_url: str) -> None:
    """Six questions typed one after another: six replies, paced, and no 429 at all."""
    async with LocalBotAPI(flood_limits=True) as server, start_bot(db_url, server):
        aliya = Conversation(server, server.add_user(first_name="Aliya", language_code="en"))
        server.mark(aliya.user)
        for _ in range(6):
            await server.send_message(aliya.user, QUESTION)
        replies = await server.wait_for_messages(aliya.user, count=6, timeout=20)
        assert all(answered(r) for r in replies)
        assert server.stats.too_many_requests == 0, refused(server)


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for bot in travel_bot(db_url):
        yield bot


async def test_a_429_in_the_middle_of_the_reminder_sweep_delays_no_reminder(
    tb: TravelBot,
) -> None:
    """Twelve reminders due; Telegram refuses sends for two seconds after the fourth. Every
    traveller still gets exactly one reminder in the same sweep."""
    today = svc.local_today(tb.clock.now, tb.settings.tz)
    people = [tb.server.add_user(first_name=f"Traveller {i}", language_code="en", started=True)
              for i in range(12)]
    async with tb.app.session_factory() as session, session.begin():
        for p in people:
            session.add(Trip(user_id=p.id, lang="en", country="TR",
                             starts_on=today + timedelta(days=1),
                             ends_on=today + timedelta(days=4)))
    tb.server.storm_429(2, after=4)
    reminded, _ = await tb.sweep()
    assert reminded == 12
    assert refused(tb.server)  # the storm did refuse a reminder
    received = {p.id: [m for m in tb.server.messages(p) if m["outgoing"]] for p in people}
    assert {pid: len(ms) for pid, ms in received.items()} == {p.id: 1 for p in people}
    assert all("starts tomorrow" in ms[0]["text"] for ms in received.values())
    flags = await tb.scalars(select(Trip.reminder_sent))
    assert flags == [True] * 12


@pytest_asyncio.fixture
async def desk(db_url: str) -> AsyncIterator[Desk]:
    async with LocalBotAPI() as server:
        officer = server.add_user(first_name="Dana", language_code="en", started=True)
        group = server.add_group("Consular desk", admins=[officer], forum=True, bot_admin=True)
        async with start_bot(db_url, server, operators_chat_id=group.id,
                             default_language="en") as s:
            yield Desk(s, group=group, officer=officer)


async def test_a_request_the_desk_never_got_is_not_left_open(desk: Desk) -> None:
    """The request row is committed before the bot calls Telegram; when opening the topic
    fails, the request is closed, so it does not count against the person's open ones."""
    citizen = desk.person("Aruzhan")
    [prompt] = await citizen.say("/officer")
    assert "Describe your case" in prompt["text"]
    [ask_country] = await citizen.say("My passport expired while I am in Berlin.")
    assert "Which country" in ask_country["text"]
    desk.server.remove_chat(desk.group)
    failed = await citizen.press("Germany")
    assert "could not be sent" in failed["text"]
    rows = await desk.scalars(select(OfficerRequest))
    assert [r for r in rows if r.status == "open"] == []
