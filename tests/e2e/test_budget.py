"""One send budget for several processes: two limiters (two "processes", each with its own
bot session) share Redis and send at once through the local Bot API server with Telegram's
flood limits on. The server's own record must never show more than the limits, and no 429;
when Redis goes away, a limiter carries on alone at its share of the rate."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.outbound.budget import SharedBudget, budget_client
from bot.outbound.ratelimit import INTERACTIVE, LimiterMiddleware, SendLimiter, sending_at
from localapi import LocalBotAPI
from tests.kit import REDIS_URL, make_bot, unavailable

SCALE = 1.0  # real time: a faster clock turns scheduling jitter into crowded windows


@pytest_asyncio.fixture
async def redis() -> AsyncIterator[Any]:
    client = budget_client(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the service is missing
        await client.aclose()
        unavailable("Redis", exc)
    yield client
    await client.aclose()


def _most_in_a_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    most, first = 0, 0
    for last, at in enumerate(stamps):
        while at - stamps[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def _most_in_a_minute(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    most, first = 0, 0
    for last, at in enumerate(stamps):
        while at - stamps[first] >= 60.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_two_processes_on_one_redis_stay_within_the_limits_together(redis: Any) -> None:
    prefix = f"test:send:{uuid.uuid4().hex}"
    async with LocalBotAPI(flood_limits=True, time_scale=SCALE) as server:
        token = server.register_bot(username="embassy_bot")
        people = [server.add_user(f"Citizen {i}", language_code="en", started=True)
                  for i in range(120)]
        shared_person = server.add_user("Both write to me", language_code="en", started=True)
        group = server.add_group("Shared group", members=[shared_person])
        bots = []
        for _ in range(2):
            bot = make_bot(server, token)
            limiter = SendLimiter(time_scale=SCALE, shared=SharedBudget(redis, prefix))
            bot.session.middleware(LimiterMiddleware(limiter))
            bots.append(bot)

        async def process(index: int) -> None:
            bot = bots[index]
            mine = people[index::2]
            with sending_at(0):
                await asyncio.gather(
                    *(bot.send_message(p.id, f"News {index}") for p in mine),
                    *(bot.send_message(shared_person.id, f"To one person {index}.{i}")
                      for i in range(4)),
                    *(bot.send_message(group.id, f"To one group {index}.{i}")
                      for i in range(3)),
                )

        try:
            await asyncio.gather(process(0), process(1))
        finally:
            for bot in bots:
                await bot.session.close()

        sends = [c for c in server.calls if c.method == "sendMessage"]
        assert [c.status for c in sends if not c.ok] == [], _debug(server)
        assert len(sends) == 120 + 8 + 6
        stamps = [c.at for c in sends]
        assert _most_in_a_second(stamps) <= 30
        to_person = sorted(c.at for c in sends if int(c.params["chat_id"]) == shared_person.id)
        assert len(to_person) == 8
        # A burst of 3, then one a second: n messages span at least n - 3 seconds.
        assert to_person[-1] - to_person[0] >= 8 - 3 - 0.05
        to_group = [c.at for c in sends if int(c.params["chat_id"]) == group.id]
        assert len(to_group) == 6 and _most_in_a_minute(to_group) <= 20
        # Groups share a burst of 5, then one per 4 s: the sixth waits.
        assert sorted(to_group)[5] - sorted(to_group)[0] >= 4.0
        # Both processes together used the budget, not half of it each.
        bulk = sorted(c.at for c in sends if int(c.params["chat_id"]) in {p.id for p in people})
        rate = (len(bulk) - 1) / (bulk[-1] - bulk[0])
        assert rate >= 0.8 * 30


async def test_a_reply_goes_ahead_of_another_processes_broadcast(redis: Any) -> None:
    prefix = f"test:send:{uuid.uuid4().hex}"
    async with LocalBotAPI(flood_limits=True, time_scale=SCALE) as server:
        token = server.register_bot(username="embassy_bot")
        people = [server.add_user(f"Citizen {i}", language_code="en", started=True)
                  for i in range(150)]
        asking = server.add_user("Asking", language_code="en", started=True)
        broadcaster, replier = make_bot(server, token), make_bot(server, token)
        for bot in (broadcaster, replier):
            limiter = SendLimiter(time_scale=SCALE, shared=SharedBudget(redis, prefix))
            bot.session.middleware(LimiterMiddleware(limiter, priority=INTERACTIVE))
        try:
            with sending_at(0):
                broadcast = asyncio.gather(*(broadcaster.send_message(p.id, "News")
                                             for p in people))
                while len(server.calls_for("sendMessage")) < 60:  # noqa: ASYNC110 - counters
                    await asyncio.sleep(0.01)
            asked = server.clock()
            await replier.send_message(asking.id, "Your answer")
            waited = server.clock() - asked
            await broadcast
        finally:
            for bot in (broadcaster, replier):
                await bot.session.close()
        assert server.stats.too_many_requests == 0, _debug(server)
        # The broadcast still had ~3 s of messages queued; the reply took one of the next
        # slots (its 50 ms of horizon) instead of queueing behind them.
        assert waited < 0.5


async def test_without_redis_a_process_paces_alone_at_its_share(
    redis: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    from redis.asyncio import Redis

    prefix = f"test:send:{uuid.uuid4().hex}"
    async with LocalBotAPI(flood_limits=True, time_scale=SCALE) as server:
        token = server.register_bot(username="embassy_bot")
        people = [server.add_user(f"Citizen {i}", language_code="en", started=True)
                  for i in range(40)]
        budget = SharedBudget(redis, prefix)
        limiter = SendLimiter(time_scale=SCALE, shared=budget)
        bot = make_bot(server, token)
        bot.session.middleware(LimiterMiddleware(limiter))
        try:
            with sending_at(0):
                await asyncio.gather(*(bot.send_message(p.id, "First") for p in people[:10]))
                budget.processes = 2  # as if a second process had been seen
                budget.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.2,
                                              socket_connect_timeout=0.2)
                budget._global = budget.redis.register_script("return {1, 0, 1}")
                budget._chat = budget.redis.register_script("return 0")
                await asyncio.gather(*(bot.send_message(p.id, "Then") for p in people[10:]))
        finally:
            await bot.session.close()
            await budget.redis.aclose()
        sends = sorted(c.at for c in server.calls if c.method == "sendMessage" and c.ok)
        assert len(sends) == 40 and server.stats.too_many_requests == 0
        later = sends[10:]
        rate = (len(later) - 1) / (later[-1] - later[0])
        assert rate <= 15 * 1.05  # half of the rate: its share of two processes
        warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(warnings) == 1


def _debug(server: LocalBotAPI) -> list[tuple[Any, ...]]:
    """The refused sends (server time, chat), for the failure message."""
    return [(round(c.at, 3), c.params.get("chat_id")) for c in server.calls
            if c.method == "sendMessage" and c.status != 200]
