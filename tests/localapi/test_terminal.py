"""The terminal chat: printing bot output, sending text, pressing numbered buttons."""

from __future__ import annotations

import asyncio
import io
import queue

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from localapi.terminal import HELP, render_plain, run_terminal_chat
from tests.kit import until

from . import serve


class ScriptedInput:
    """A stdin whose lines the test hands over one at a time."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()

    def readline(self) -> str:
        return self.lines.get()

    def type(self, line: str) -> None:
        self.lines.put(line + "\n")

    def close(self) -> None:
        self.lines.put("")


async def _until(condition: object, within: float = 3.0) -> None:
    assert await until(condition, within), "condition not met in time"  # type: ignore[arg-type]


def test_render_plain_links_and_bold() -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 5, "length": 4, "url": "https://mfa.kz"},
    ]
    assert render_plain("Visa site", entities) == "Visa site (https://mfa.kz)"
    assert (
        render_plain("Visa site", entities, color=True)
        == "\x1b[1mVisa\x1b[22m site (https://mfa.kz)"
    )


@pytest.mark.asyncio
async def test_terminal_chat_round_trip() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Aigerim", "kk")
        stdin, stdout = ScriptedInput(), io.StringIO()
        chat = asyncio.create_task(run_terminal_chat(server, user, stdin=stdin, stdout=stdout))  # type: ignore[arg-type]
        await _until(lambda: HELP in stdout.getvalue())

        stdin.type("hello bot")
        await _until(lambda: [m.get("text") for m in server.messages(user)] == ["hello bot"])

        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="Consular services", callback_data="consular"),
                    InlineKeyboardButton(text="Countries", callback_data="countries"),
                ],
                [InlineKeyboardButton(text="Site", url="https://mfa.gov.kz")],
            ]
        )
        sent = await bot.send_message(
            user.id, '<b>Menu</b> see <a href="https://e.kz">site</a>', reply_markup=markup
        )
        await _until(lambda: "[#2] Countries" in stdout.getvalue())
        assert "bot: Menu see site (https://e.kz)" in stdout.getvalue()
        assert (
            "   [#1] Consular services  [#2] Countries\n   [#3] Site (https://mfa.gov.kz)"
            in stdout.getvalue()
        )

        stdin.type("#2")
        updates: list = []

        async def got_callback() -> None:
            while not updates:
                updates.extend(u for u in await bot.get_updates(timeout=1) if u.callback_query)

        await asyncio.wait_for(got_callback(), 3)
        assert updates[0].callback_query.data == "countries"

        await bot.edit_message_text(
            chat_id=user.id, message_id=sent.message_id, text="Countries list"
        )
        await _until(
            lambda: f"bot (edited #{sent.message_id}): Countries list" in stdout.getvalue()
        )

        stdin.type("/quit")
        await asyncio.wait_for(chat, 3)
        assert [m.get("text") for m in server.messages(user) if not m["outgoing"]] == ["hello bot"]


@pytest.mark.asyncio
async def test_digits_are_text_and_hash_digits_press_a_button() -> None:
    """An id or a phone number typed while a message shows buttons reaches the bot as text."""
    async with serve() as (server, bot):
        user = server.add_user("Aigerim", "en", started=True)
        stdin, stdout = ScriptedInput(), io.StringIO()
        chat = asyncio.create_task(run_terminal_chat(server, user, stdin=stdin, stdout=stdout))  # type: ignore[arg-type]
        await _until(lambda: "/quit" in stdout.getvalue())
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Cancel", callback_data="cancel")]]
        )
        await bot.send_message(user.id, "Send their numeric Telegram id.", reply_markup=markup)
        await _until(lambda: "[#1] Cancel" in stdout.getvalue())

        stdin.type("1")
        stdin.type("123456789")
        await _until(lambda: "123456789" in [m.get("text") for m in server.messages(user)])
        assert [m.get("text") for m in server.messages(user) if not m["outgoing"]] == [
            "1", "123456789"
        ]
        assert not [u for u in await bot.get_updates(timeout=0) if u.callback_query]

        stdin.type("#1")
        updates: list = []

        async def got_callback() -> None:
            while not updates:
                updates.extend(u for u in await bot.get_updates(timeout=1) if u.callback_query)

        await asyncio.wait_for(got_callback(), 3)
        assert updates[0].callback_query.data == "cancel"
        stdin.type("#2")
        await _until(lambda: "no button #2; there are 1" in stdout.getvalue())

        stdin.type("/quit")
        await asyncio.wait_for(chat, 3)
