"""/healthz, /readyz and /metrics over real HTTP (bot/ops.py): on the webhook listener, on
HEALTH_PORT beside long polling, and /readyz saying which dependency failed."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from localapi import LocalBotAPI
from tests.e2e.test_webhook import _free_port, webhook_bot
from tests.kit import REDIS_URL, make_settings, seed_content


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def _sample(page: str, name: str, **labels: str) -> float | None:
    """The value of one Prometheus sample, or None when the page has no such line."""
    shown = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name + (f"{{{shown}}}" if shown else "")) + r" (\S+)$"
    found = re.search(pattern, page, re.MULTILINE)
    return float(found.group(1)) if found else None


async def _forget_handled_updates(bot_id: int) -> None:
    """The local server numbers updates from 1: an earlier run's claims would hide them."""
    from redis.asyncio import Redis

    from bot.webhook import RedisSeenUpdates

    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.delete(*(RedisSeenUpdates.key(bot_id, n) for n in range(1, 100)))
    finally:
        await redis.aclose()


async def test_webhook_listener_serves_health_ready_and_metrics(db_url: str) -> None:
    await seed_content(db_url)
    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        await _forget_handled_updates(int(token.split(":")[0]))
        async with webhook_bot(db_url, server, token, redis_url=REDIS_URL) as hook:
            base = hook.url.rsplit("/telegram/", 1)[0]
            assert await _get(f"{base}/healthz") == (200, "text/plain; charset=utf-8", "ok")
            status, _, body = await _get(f"{base}/readyz")
            assert (status, body) == (200, '{"ready": true}')

            person = server.add_user(first_name="Ellen", language_code="en")
            server.mark(person)
            await server.send_message(person, "/start")
            await server.wait_for_messages(person, timeout=30)
            server.storm_429(1)
            server.mark(person)
            await server.send_message(person, "I lost my passport")
            [answer] = await server.wait_for_messages(person, timeout=30)
            assert "passport" in answer["text"].lower()

            status, kind, page = await _get(f"{base}/metrics")
    assert status == 200 and kind == "text/plain; version=0.0.4; charset=utf-8"
    assert _sample(page, "embassy_updates_total", kind="message") == 2
    assert _sample(page, "embassy_answers_total", outcome="answer") == 1
    assert (_sample(page, "embassy_api_calls_total", method="sendMessage") or 0) >= 3
    assert _sample(page, "embassy_api_429_total", method="sendMessage") == 1
    assert _sample(page, "embassy_api_calls_total", method="setWebhook") == 1
    assert _sample(page, "embassy_deliveries_pending") == 0


@asynccontextmanager
async def polling_bot(db_url: str, server: LocalBotAPI, **extra: Any) -> AsyncIterator[Any]:
    """The bot as ``python bot.py run`` runs it without a webhook (bot/app.py run_polling)."""
    from bot.app import run_polling
    from bot.factory import App, create_bot

    token = server.register_bot(username="embassy_bot")
    settings = make_settings(db_url, api_url=server.base_url, **extra)
    app = await App.create(settings)
    bot = create_bot(settings, token=token)
    dp = app.dispatcher()
    task = asyncio.create_task(run_polling(app, bot, dp))
    try:
        await server.wait_for_calls("getUpdates", timeout=30)
        yield settings
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await dp.storage.close()
        await bot.session.close()
        await app.close()


async def test_health_port_beside_long_polling(sqlite_url: str) -> None:
    await seed_content(sqlite_url)
    port = _free_port()
    async with LocalBotAPI() as server, polling_bot(sqlite_url, server, health_port=port):
        base = f"http://127.0.0.1:{port}"
        assert await _get(f"{base}/healthz") == (200, "text/plain; charset=utf-8", "ok")
        assert (await _get(f"{base}/readyz"))[0] == 200
        person = server.add_user(first_name="Ellen", language_code="en")
        server.mark(person)
        await server.send_message(person, "/start")
        await server.wait_for_messages(person, timeout=30)
        _, _, page = await _get(f"{base}/metrics")
        assert _sample(page, "embassy_updates_total", kind="message") == 1
        assert (_sample(page, "embassy_api_calls_total", method="getUpdates") or 0) >= 1
    # Stopped with the bot.
    try:
        await _get(f"{base}/healthz")
    except aiohttp.ClientConnectionError:
        pass
    else:
        raise AssertionError("the health port still answers after the bot stopped")


async def test_health_port_off_by_default(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url)
    assert settings.health_port is None


async def test_readyz_names_what_failed(sqlite_url: str) -> None:
    from bot.factory import create_bot
    from bot.ops import Health, Metrics, serve_health
    from storage.db import create_engine

    dead = _free_port()
    settings = make_settings(sqlite_url, api_url=f"http://127.0.0.1:{dead}")
    bot = create_bot(settings, token="123:abc")
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{dead}/nothing")
    health = Health(engine, bot, Metrics(), redis_url=f"redis://127.0.0.1:{dead}/0")
    port = _free_port()
    runner = await serve_health(health, "127.0.0.1", port)
    try:
        status, kind, body = await _get(f"http://127.0.0.1:{port}/readyz")
        alive = await _get(f"http://127.0.0.1:{port}/healthz")
    finally:
        await runner.cleanup()
        await health.close()
        await engine.dispose()
        await bot.session.close()
    assert (status, kind) == (503, "application/json; charset=utf-8")
    found = json.loads(body)
    assert found["ready"] is False
    assert set(found["failed"]) == {"database", "redis", "bot_api"}
    assert "123:abc" not in body and str(dead) not in body
    assert alive[0] == 200


async def test_readyz_fails_when_only_the_bot_api_is_down(sqlite_url: str) -> None:
    from bot.factory import create_bot
    from bot.ops import Health, Metrics, serve_health
    from storage.db import create_engine

    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        settings = make_settings(sqlite_url, api_url=server.base_url)
        bot = create_bot(settings, token=token)
        engine = create_engine(sqlite_url)
        health = Health(engine, bot, Metrics(), getme_fresh=0)
        port = _free_port()
        runner = await serve_health(health, "127.0.0.1", port)
        try:
            ready = await _get(f"http://127.0.0.1:{port}/readyz")
            await server.stop()
            down = await _get(f"http://127.0.0.1:{port}/readyz")
        finally:
            await runner.cleanup()
            await engine.dispose()
            await bot.session.close()
    assert ready[0] == 200
    assert down[0] == 503 and '"bot_api"' in down[2] and '"database"' not in down[2]


async def test_a_health_port_in_use_is_one_line(sqlite_url: str) -> None:
    from bot.errors import StartupError
    from bot.factory import create_bot
    from bot.ops import Health, Metrics, serve_health
    from storage.db import create_engine

    settings = make_settings(sqlite_url)
    bot = create_bot(settings, token="123:abc")
    engine = create_engine(sqlite_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            with pytest.raises(StartupError, match=r"^Cannot listen on HEALTH_HOST:HEALTH_PORT "):
                await serve_health(Health(engine, bot, Metrics()), "127.0.0.1", port)
        finally:
            await engine.dispose()
            await bot.session.close()
