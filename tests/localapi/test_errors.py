"""Telegram's refusals, surfacing as aiogram's exception classes."""

from __future__ import annotations

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from localapi import Faults

from . import serve

pytestmark = pytest.mark.asyncio

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


async def test_bad_requests_have_telegram_descriptions() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Erlan", started=True)

        async def refused(call: object) -> str:
            with pytest.raises(TelegramBadRequest) as caught:
                await call  # type: ignore[misc]
            return caught.value.message

        assert await refused(bot.send_message(999, "x")) == "Bad Request: chat not found"
        assert (
            await refused(bot.send_message(user.id, "я" * 4097))
            == "Bad Request: message is too long"
        )
        assert (await bot.send_message(user.id, "<b>" + "я" * 4096 + "</b>")).text == "я" * 4096
        assert (
            await refused(bot.send_message(user.id, "  <b> </b> "))
            == "Bad Request: message text is empty"
        )
        assert await refused(bot.send_message(user.id, "hi <xyz>")) == (
            'Bad Request: can\'t parse entities: Unsupported start tag "xyz" at byte offset 3'
        )
        assert await refused(bot.send_message(user.id, "<b>hi")) == (
            "Bad Request: can't parse entities: "
            'Can\'t find end tag corresponding to start tag "b"'
        )
        long_data = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
        )
        assert await refused(bot.send_message(user.id, "x", reply_markup=long_data)) == (
            "Bad Request: BUTTON_DATA_INVALID"
        )
        from aiogram.types import BufferedInputFile

        assert (
            await refused(
                bot.send_photo(user.id, BufferedInputFile(b"x", "a.jpg"), caption="c" * 1025)
            )
            == "Bad Request: message caption is too long"
        )

        sent = await bot.send_message(user.id, "same")
        assert await refused(
            bot.edit_message_text(chat_id=user.id, message_id=sent.message_id, text="same")
        ) == (NOT_MODIFIED)
        assert await refused(
            bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)
        ) == (NOT_MODIFIED)
        assert await refused(
            bot.edit_message_text(chat_id=user.id, message_id=9999, text="x")
        ) == ("Bad Request: message to edit not found")
        assert (
            await refused(bot.delete_message(user.id, 9999))
            == "Bad Request: message to delete not found"
        )
        assert await refused(bot.answer_callback_query("12345")) == (
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )


async def test_stale_callback_query_on_the_accelerated_clock() -> None:
    async with serve(time_scale=100.0) as (server, bot):
        user = server.add_user("Slow", started=True)
        sent = await bot.send_message(user.id, "x")
        query = await server.press_callback(user, sent.message_id, "forged-data")
        import asyncio

        await asyncio.sleep(0.2)
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.answer_callback_query(query["id"])
        assert "query is too old" in caught.value.message


async def test_forbidden_cases() -> None:
    async with serve() as (server, bot):
        stranger = server.add_user("Stranger")
        blocked = server.add_user("Blocked", started=True)
        gone = server.add_user("Gone", started=True)
        admin = server.add_user("Admin")
        group = server.add_group("G", admins=[admin])
        supergroup = server.add_group("S", admins=[admin], supergroup=True)
        channel = server.add_channel("News", admins=[admin], bot_admin=False)
        server.block(blocked)
        server.deactivate(gone)
        server.kick_bot(group)
        server.kick_bot(supergroup)

        async def forbidden(chat_id: int) -> str:
            with pytest.raises(TelegramForbiddenError) as caught:
                await bot.send_message(chat_id, "hello")
            return caught.value.message

        assert (
            await forbidden(stranger.id)
            == "Forbidden: bot can't initiate conversation with a user"
        )
        assert await forbidden(blocked.id) == "Forbidden: bot was blocked by the user"
        assert await forbidden(gone.id) == "Forbidden: user is deactivated"
        assert await forbidden(group.id) == "Forbidden: bot was kicked from the group chat"
        assert (
            await forbidden(supergroup.id) == "Forbidden: bot was kicked from the supergroup chat"
        )
        assert await forbidden(channel.id) == "Forbidden: bot is not a member of the channel chat"

        updates = await bot.get_updates()
        kicked = [
            u.my_chat_member
            for u in updates
            if u.my_chat_member and u.my_chat_member.chat.id == blocked.id
        ]
        assert kicked[0].new_chat_member.status == "kicked"

        await server.send_message(blocked, "/start")
        assert (await bot.send_message(blocked.id, "welcome back")).text == "welcome back"

        server.remove_chat(supergroup)
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(supergroup.id, "x")
        assert caught.value.message == "Bad Request: chat not found"


async def test_migrated_group() -> None:
    async with serve() as (server, bot):
        admin = server.add_user("Admin")
        group = server.add_group("Old", admins=[admin])
        new_id = server.migrate_group(group)
        with pytest.raises(TelegramMigrateToChat) as caught:
            await bot.send_message(group.id, "hello")
        assert caught.value.migrate_to_chat_id == new_id
        assert (
            "Original description: Bad Request: group chat was upgraded to a supergroup chat"
            in (caught.value.message)
        )
        assert (await bot.send_message(new_id, "hello")).chat.type == "supergroup"


async def test_server_errors_and_429_storm() -> None:
    async with serve(faults=Faults(error_rate_5xx=1.0, seed=7)) as (server, bot):
        user = server.add_user("U", started=True)
        with pytest.raises(TelegramServerError) as caught:
            await bot.send_message(user.id, "x")
        assert caught.value.message in ("Internal Server Error", "Bad Gateway")
        assert server.messages(user) == []
        assert (await bot.get_me()).username == "embassy_bot"

        server.faults.error_rate_5xx = 0.0
        server.storm_429(5)
        with pytest.raises(TelegramRetryAfter) as retry:
            await bot.send_message(user.id, "x")
        assert retry.value.retry_after == 5
        assert server.stats.too_many_requests == 1


async def test_fault_after_delivery_and_timeouts() -> None:
    faults = Faults(error_rate_5xx=1.0, act_before_fault=True, seed=1)
    async with serve(faults=faults) as (server, bot):
        user = server.add_user("U", started=True)
        with pytest.raises(TelegramServerError):
            await bot.send_message(user.id, "delivered anyway")
        assert [m["text"] for m in server.messages(user)] == ["delivered anyway"]

        server.faults.error_rate_5xx = 0.0
        server.faults.timeout_rate = 1.0
        server.faults.hang_seconds = 1.5
        server.faults.act_before_fault = False
        from aiogram.exceptions import TelegramNetworkError

        with pytest.raises(TelegramNetworkError):
            await bot.send_message(user.id, "lost", request_timeout=1)
        assert [m["text"] for m in server.messages(user)] == ["delivered anyway"]
