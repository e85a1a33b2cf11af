"""Parameters arrive in every encoding Telegram accepts."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from . import serve

pytestmark = pytest.mark.asyncio


async def test_json_form_query_and_multipart_params() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Raw", started=True)
        base = f"{server.base_url}/bot{bot.token}"
        markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{base}/sendMessage",
                json={
                    "chat_id": user.id,
                    "text": "<b>json</b>",
                    "parse_mode": "HTML",
                    "reply_markup": markup,
                },
            ) as response:
                body = await response.json()
            assert body["ok"] is True
            assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
            assert body["result"]["reply_markup"] == markup

            form = {"chat_id": str(user.id), "text": "form", "reply_markup": json.dumps(markup)}
            async with http.post(f"{base}/sendmessage", data=form) as response:
                body = await response.json()
            assert body["result"]["reply_markup"] == markup

            async with http.get(
                f"{base}/sendMessage", params={"chat_id": user.id, "text": "q"}
            ) as r:
                assert (await r.json())["result"]["text"] == "q"

            data = aiohttp.FormData()
            data.add_field("chat_id", str(user.id))
            data.add_field(
                "document", b"%PDF-1.4", filename="visa.pdf", content_type="application/pdf"
            )
            async with http.post(f"{base}/sendDocument", data=data) as response:
                document = (await response.json())["result"]["document"]
            assert document["file_name"] == "visa.pdf"
            assert document["mime_type"] == "application/pdf"
            async with http.get(f"{base}/sendMessage", params={"chat_id": user.id}) as r:
                assert (await r.json())["description"] == "Bad Request: message text is empty"
        assert [m["text"] for m in server.messages(user) if "text" in m] == ["json", "form", "q"]
        assert server.calls_for("sendMessage")[1].params["reply_markup"] == markup


async def test_second_get_updates_terminates_the_first() -> None:
    async with serve() as (_server, bot):
        from aiogram.exceptions import TelegramConflictError

        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(bot.get_updates(timeout=0))
        with pytest.raises(TelegramConflictError) as caught:
            await asyncio.wait_for(first, 3)
        assert caught.value.message.startswith("Conflict: terminated by other getUpdates request")
        assert await second == []
