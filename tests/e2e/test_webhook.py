"""The webhook listener over real HTTP (bot/app.py run_webhook): an update Telegram re-sends is
handled once, in one process or in two sharing Redis; bodies that are not JSON, or JSON that
is not an Update, get 400 and one log line, and the bot goes on answering."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.config import WebhookSettings
from bot.webhook import RedisSeenUpdates
from localapi import LocalBotAPI, User
from tests.kit import REDIS_URL, make_settings, seed_content, unavailable

PATH = "/telegram/webhook"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Listener:
    url: str
    task: asyncio.Task[None]


@asynccontextmanager
async def webhook_bot(db_url: str, server: LocalBotAPI, token: str,
                      **extra: Any) -> AsyncIterator[Listener]:
    """One webhook process's worth: app, dispatcher and listener, until the block ends."""
    from bot.app import run_webhook
    from bot.factory import App, create_bot

    port = _free_port()
    hook = WebhookSettings(url=f"http://127.0.0.1:{port}", port=port,
                           _env_file=None)  # type: ignore[call-arg]
    settings = make_settings(db_url, api_url=server.base_url, webhook=hook, **extra)
    app = await App.create(settings)
    bot = create_bot(settings, token=token)
    dp = app.dispatcher()
    calls = len(server.calls_for("setWebhook"))
    task = asyncio.create_task(run_webhook(app, bot, dp))
    try:
        await server.wait_for_calls("setWebhook", count=calls + 1, timeout=30)
        yield Listener(f"http://127.0.0.1:{port}{PATH}", task)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await dp.storage.close()
        await bot.session.close()
        await app.close()


async def _post(url: str, body: bytes) -> int:
    async with aiohttp.ClientSession() as http, http.post(
        url, data=body, headers={"Content-Type": "application/json"}) as response:
        await response.read()
        return response.status


def _start_update(update_id: int, user: User) -> bytes:
    import json

    person = {"id": user.id, "is_bot": False, "first_name": user.first_name,
              "language_code": "en"}
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id % 1_000_000, "date": int(time.time()),
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": person, "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}).encode()


def _replies(server: LocalBotAPI, user: User, start: str) -> list[str]:
    return [m["text"] for m in server.messages(user) if m["outgoing"]
            and m["text"].startswith(start)]


async def test_an_update_sent_again_is_answered_once(db_url: str) -> None:
    await seed_content(db_url)
    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        async with webhook_bot(db_url, server, token):
            person = server.add_user(first_name="Ellen", language_code="en")
            server.lose_webhook_answers(1)
            server.mark(person)
            await server.send_message(person, "/start")
            [hello] = await server.wait_for_messages(person, timeout=30)
            assert hello["text"].startswith("Hello!")
            # The next update is delivered only once the first was answered: its reply
            # comes after any reply to the re-sent /start (one person's updates in order).
            await server.send_message(person, "/help")
            await server.wait_for_messages(person, timeout=30)
            assert server.webhook_info()["last_error_message"] == "Read timeout expired"
            assert len(_replies(server, person, "Hello!")) == 1


async def test_bad_bodies_get_400_and_one_log_line(
    sqlite_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    await seed_content(sqlite_url)
    bodies = [b"{not json", b"\xff\xfe\x00", b"", b"[1, 2]", b'"update"', b"{}",
              b'{"update_id": "first"}', b'{"update_id": 7, "message": {"text": 5}}']
    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        async with webhook_bot(sqlite_url, server, token) as hook:
            caplog.clear()
            with caplog.at_level(logging.INFO):
                statuses = [await _post(hook.url, body) for body in bodies]
                person = server.add_user(first_name="Ellen", language_code="en")
                server.mark(person)
                await server.send_message(person, "/start")
                [hello] = await server.wait_for_messages(person, timeout=30)
            assert not hook.task.done()
    assert statuses == [400] * len(bodies)
    assert hello["text"].startswith("Hello!")
    refused = [r for r in caplog.records if r.name == "bot.webhook"]
    assert len(refused) == len(bodies)
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in refused)
    assert all("\n" not in r.getMessage() for r in refused)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_two_processes_sharing_redis_answer_a_re_sent_update_once(
    db_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the service is missing
        await redis.aclose()
        unavailable("Redis", exc)
    await seed_content(db_url)
    try:
        async with LocalBotAPI() as server:
            token = server.register_bot(username="embassy_bot")
            bot_id = int(token.split(":")[0])
            first, again = secrets.randbelow(10**9) + 10**9, secrets.randbelow(10**9) + 2 * 10**9
            await redis.delete(*(RedisSeenUpdates.key(bot_id, n)
                                 for n in (first, again, again + 1)))
            async with webhook_bot(db_url, server, token, redis_url=REDIS_URL) as one, \
                    webhook_bot(db_url, server, token, redis_url=REDIS_URL) as two:
                person = server.add_user(first_name="Ellen", language_code="en", started=True)
                server.mark(person)
                body = _start_update(first, person)
                with caplog.at_level(logging.INFO, logger="bot.webhook"):
                    statuses = await asyncio.gather(_post(one.url, body), _post(two.url, body))
                assert statuses == [200, 200]
                again_said = [r for r in caplog.records
                              if f"update {first} was already handled" in r.getMessage()]
                assert len(again_said) == 1
                await server.wait_for_messages(person, timeout=30)
                # A later update to each process: by its reply, that process's reply to the
                # re-sent update would have come (one person's updates are handled in order).
                for n, hook in enumerate((one, two)):
                    assert await _post(hook.url, _start_update(again + n, person)) == 200
                    await server.wait_for_messages(person, timeout=30)
                assert len(_replies(server, person, "Hello!")) == 3
                assert await redis.ttl(RedisSeenUpdates.key(bot_id, first)) > 0
    finally:
        await redis.aclose()
