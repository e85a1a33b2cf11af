"""Flood limits on the accelerated clock, and webhook delivery."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiohttp import web

from localapi.limits import FloodControl

from . import serve


def test_flood_model_numbers() -> None:
    flood = FloodControl()
    assert [flood.check(1, 10, True, 0.0, False) for _ in range(4)] == [0, 0, 0, 1]
    assert flood.check(1, 10, True, 1.0, False) == 0
    assert flood.check(1, 10, True, 1.0, False) == 1
    group = [flood.check(1, -5, False, float(i), False) for i in range(21)]
    assert group[:20] == [0] * 20
    assert group[20] == 40
    assert flood.check(1, -5, False, 60.0, False) == 0
    overall = [flood.check(2, chat, False, 100.0, False) for chat in range(-100, -69)]
    assert overall[:30] == [0] * 30
    assert overall[30] == 1


@pytest.mark.asyncio
async def test_private_chat_limit_and_a_sender_that_waits() -> None:
    async with serve(flood_limits=True, time_scale=20.0) as (server, bot):
        user = server.add_user("Flood", started=True)
        for index in range(3):
            await bot.send_message(user.id, f"burst {index}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(user.id, "too fast")
        assert caught.value.retry_after == 1
        assert caught.value.message.endswith(
            "Original description: Too Many Requests: retry after 1"
        )
        assert server.stats.too_many_requests == 1

        delivered = 0
        started = server.clock()
        while delivered < 4:
            try:
                await bot.send_message(user.id, f"paced {delivered}")
                delivered += 1
            except TelegramRetryAfter as error:
                await asyncio.sleep(error.retry_after / server.time_scale)
        assert server.stats.sent_per_chat[user.id] == 7
        assert server.clock() - started >= 3.0
        assert [m["text"] for m in server.messages(user)][-1] == "paced 3"


@pytest.mark.asyncio
async def test_group_limit_is_twenty_per_minute_and_edits_do_not_count_globally() -> None:
    async with serve(flood_limits=True, time_scale=50.0) as (server, bot):
        admin = server.add_user("A")
        group = server.add_group("G", admins=[admin])
        for index in range(20):
            await bot.send_message(group.id, f"m{index}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(group.id, "21st")
        assert 1 <= caught.value.retry_after <= 60
        assert server.stats.sent_per_chat[group.id] == 20
        assert server.stats.retry_after_per_chat[group.id] == 1


@pytest.mark.asyncio
async def test_webhook_posts_updates_with_secret_and_retries() -> None:
    received: list[dict[str, object]] = []
    secrets_seen: list[str | None] = []
    failures = {"left": 1}

    async def endpoint(request: web.Request) -> web.Response:
        secrets_seen.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        received.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with serve(time_scale=10.0) as (server, bot):
            user = server.add_user("Hooked")
            assert (
                await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t")
                is True
            )
            await server.send_message(user, "via webhook")
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.05)
            assert received[0]["message"]["text"] == "via webhook"  # type: ignore[index]
            assert secrets_seen == ["s3cr3t", "s3cr3t"]
            info = await bot.get_webhook_info()
            assert info.url == f"http://127.0.0.1:{port}/hook"
            assert info.pending_update_count == 0
            assert (
                info.last_error_message
                == "Wrong response from the webhook: 500 Internal Server Error"
            )
            assert await bot.delete_webhook() is True
            await server.send_message(user, "via polling")
            updates = await bot.get_updates()
            assert [u.message.text for u in updates if u.message] == ["via polling"]
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_webhook_reply_with_method_is_executed() -> None:
    async def endpoint(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response(
            {
                "method": "sendMessage",
                "chat_id": chat_id,
                "text": "<b>pong</b>",
                "parse_mode": "HTML",
            }
        )

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with serve() as (server, bot):
            user = server.add_user("Ping")
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
            await server.send_message(user, "ping")
            [reply] = await server.wait_for_messages(user, timeout=5)
            assert reply["html"] == "<b>pong</b>"
            assert json.dumps(server.calls_for("sendMessage")[0].params["chat_id"]) == str(user.id)
    finally:
        await runner.cleanup()
