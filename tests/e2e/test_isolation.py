"""One person's updates are handled one at a time, in order, whatever the mode.

A person who sends ``/trip`` and, without waiting, the country, gets the country taken as the
trip's country: long polling (both updates in one batch), webhook (delivered one after the
other while the first is still being handled), and two webhook processes sharing Redis (the
first update to one, the second to the other).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey

from bot.shared.isolation import (
    CONVERSATION_TTL,
    LOCK_TIMEOUT,
    PersonIsolation,
    create_events_isolation,
)
from localapi import LocalBotAPI, User
from tests.e2e.test_webhook import _post, webhook_bot
from tests.kit import REDIS_URL, seed_content, start_bot, unavailable

DATES_QUESTION = "Когда вы выезжаете и когда возвращаетесь?"


@pytest_asyncio.fixture
async def redis() -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the service is missing
        await client.aclose()
        unavailable("Redis", exc)
    yield client
    await client.aclose()


def _assert_trip_then_country(replies: list[dict[str, Any]], server: LocalBotAPI) -> None:
    ask, dates = replies
    assert "Новая поездка" in ask["text"]
    assert any("🏠" in text for row in server.buttons(ask) for text, _ in row)
    assert DATES_QUESTION in dates["text"], dates["text"]
    assert "Германия" in dates["text"]


async def test_trip_and_country_at_once_by_long_polling(db_url: str) -> None:
    async with LocalBotAPI() as server, start_bot(db_url, server):
        person = server.add_user(first_name="Айгерим", language_code="ru")
        server.mark(person)
        # Both are queued before the bot's pending getUpdates returns: one batch of two.
        await server.send_message(person, "/trip")
        await server.send_message(person, "Германия")
        replies = await server.wait_for_messages(person, count=2, timeout=30)
        _assert_trip_then_country(replies, server)


async def test_trip_and_country_at_once_by_webhook(sqlite_url: str) -> None:
    await seed_content(sqlite_url)
    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        async with webhook_bot(sqlite_url, server, token):
            person = server.add_user(first_name="Айгерим", language_code="ru")
            server.mark(person)
            await server.send_message(person, "/trip")
            await server.send_message(person, "Германия")
            replies = await server.wait_for_messages(person, count=2, timeout=30)
            _assert_trip_then_country(replies, server)


def _message(update_id: int, user: User, text: str) -> bytes:
    entities = ([{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
                if text.startswith("/") else [])
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id % 1_000_000, "date": int(time.time()),
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": {"id": user.id, "is_bot": False, "first_name": user.first_name,
                 "language_code": "ru"},
        "text": text, "entities": entities}}).encode()


async def test_trip_to_one_process_and_country_to_another(db_url: str, redis: Any) -> None:
    await seed_content(db_url)
    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        bot_id = int(token.split(":")[0])
        async with webhook_bot(db_url, server, token, redis_url=REDIS_URL) as one, \
                webhook_bot(db_url, server, token, redis_url=REDIS_URL) as two:
            person = server.add_user(first_name="Айгерим", language_code="ru", started=True)
            key = StorageKey(bot_id=bot_id, chat_id=person.id, user_id=person.id)
            await redis.delete(*(DefaultKeyBuilder().build(key, part)  # type: ignore[arg-type]
                                 for part in ("state", "data", "lock")))
            server.mark(person)
            first = secrets.randbelow(10**9) + 3 * 10**9
            # The second is sent as soon as the first is answered, as Telegram does.
            assert await _post(one.url, _message(first, person, "/trip")) == 200
            assert await _post(two.url, _message(first + 1, person, "Германия")) == 200
            replies = await server.wait_for_messages(person, count=2, timeout=30)
            _assert_trip_then_country(replies, server)
            # The conversation expires in Redis instead of staying for ever.
            state_ttl = await redis.ttl(DefaultKeyBuilder().build(key, "state"))
            data_ttl = await redis.ttl(DefaultKeyBuilder().build(key, "data"))
            assert 0 < state_ttl <= CONVERSATION_TTL and 0 < data_ttl <= CONVERSATION_TTL


async def test_a_redis_lock_expires(redis: Any) -> None:
    from aiogram.fsm.storage.redis import RedisStorage

    storage = RedisStorage(redis)
    isolation = create_events_isolation(storage)
    assert isolation.is_shared
    key = StorageKey(bot_id=1, chat_id=secrets.randbelow(10**9), user_id=5)
    lock_key = storage.key_builder.build(key, "lock")
    async with isolation.lock(key):
        assert 0 < await redis.pttl(lock_key) <= LOCK_TIMEOUT * 1000
    assert await redis.exists(lock_key) == 0
    assert isolation.waiting() == 0


@pytest.mark.parametrize("users", [1, 3])
async def test_in_process_locks_are_forgotten(users: int) -> None:
    import asyncio

    isolation = PersonIsolation()
    order: list[int] = []

    async def one(n: int) -> None:
        async with isolation.lock(StorageKey(bot_id=1, chat_id=7, user_id=7)):
            await asyncio.sleep(0)
            order.append(n)

    await asyncio.gather(*(one(n) for n in range(users)))
    assert order == list(range(users))
    assert isolation.waiting() == 0


async def test_closing_while_an_update_holds_its_lock() -> None:
    isolation = PersonIsolation()
    key = StorageKey(bot_id=1, chat_id=8, user_id=8)
    async with isolation.lock(key):
        await isolation.close()  # the dispatcher shuts down while an update is handled
    assert isolation.waiting() == 0
    async with isolation.lock(key):
        assert isolation.waiting() == 1
