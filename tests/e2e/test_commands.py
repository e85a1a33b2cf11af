"""/help and the command menu by role: citizens see everything they can do; editors,
administrators and operators also see theirs, in /help and in their own menu (set per chat,
in the language they read, at start-up and whenever /editors changes a role)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.shared.middlewares import FloodMiddleware
from localapi import LocalBotAPI
from tests.kit import Conversation, start_bot

CITIZEN = ["menu", "trip", "mytrips", "alerts", "officer", "case", "book", "appointments",
           "subscribe", "my_data", "forget_me", "language", "help", "cancel"]
OPERATOR = ["answer", "slots", "closed", "open", "day", "case"]
EDITOR = [*CITIZEN, "newpost", "posts", "alert", "stats", "unanswered"]
ADMIN = [*EDITOR, "editors", "channels"]


@pytest_asyncio.fixture
async def bot_with_staff(db_url: str) -> AsyncIterator[tuple[LocalBotAPI, Any, Conversation]]:
    async with LocalBotAPI() as server:
        admin = server.add_user(first_name="Admin", language_code="en")
        operator = server.add_user(first_name="Operator", language_code="en")
        desk = server.add_group("Consular desk", admins=[operator], supergroup=True, forum=True)
        async with start_bot(db_url, server, admin_ids=(admin.id,),
                             operators_chat_id=desk.id,
                             dispatcher={"flood": FloodMiddleware(limit=1000)}) as started:
            yield server, started, Conversation(server, admin)


def _names(menu: list[dict[str, Any]]) -> list[str]:
    return [c["command"] for c in menu]


def _help_commands(text: str) -> list[str]:
    return [line.split(" ", 1)[0][1:] for line in text.splitlines() if line.startswith("/")]


async def test_citizens_help_lists_what_they_can_do(
        bot_with_staff: tuple[LocalBotAPI, Any, Conversation]) -> None:
    server, _, _ = bot_with_staff
    citizen = Conversation(server, server.add_user(first_name="Aigerim", language_code="en"))
    [shown] = await citizen.say("/help")
    assert _help_commands(shown["text"]) == CITIZEN
    assert "/trip — Register a trip" in shown["text"]
    assert "/forget_me — Erase everything about me" in shown["text"]
    assert "For editors" not in shown["text"]
    assert _names(server.menu_for(citizen.user)) == CITIZEN


async def test_staff_see_their_commands_in_help_and_in_their_menu(
        bot_with_staff: tuple[LocalBotAPI, Any, Conversation]) -> None:
    server, started, admin = bot_with_staff
    # ADMIN_IDS get their menu at start-up, before they ever wrote.
    menu = server.menu_for(admin.user)
    assert _names(menu) == ADMIN
    assert {c["command"]: c["description"] for c in menu}["newpost"] == "Write a post"
    [shown] = await admin.say("/help")
    assert _help_commands(shown["text"]) == ADMIN
    assert "For administrators" in shown["text"]

    editor = Conversation(server, server.add_user(first_name="Editor", language_code="ru"))
    await editor.say("/start")
    assert _names(server.menu_for(editor.user)) == CITIZEN
    [screen] = await admin.say("/editors")
    await admin.press("Add an editor", screen)
    [added] = await admin.say(str(editor.user.id))
    assert "is now an editor" in added["text"]
    [welcome] = await server.wait_for_messages(editor.user)
    assert welcome["text"].startswith("Теперь вы редактор")
    menu = server.menu_for(editor.user)
    assert _names(menu) == EDITOR
    assert {c["command"]: c["description"] for c in menu}["menu"] == "Главное меню"
    [shown] = await editor.say("/help")
    assert _help_commands(shown["text"]) == EDITOR

    [screen] = await admin.say("/editors")
    await admin.press(f"Remove {editor.user.id}", screen)
    assert _names(server.menu_for(editor.user)) == CITIZEN
    [shown] = await editor.say("/help")
    assert _help_commands(shown["text"]) == CITIZEN
    assert started.bot is not None


async def test_operators_see_their_commands(
        bot_with_staff: tuple[LocalBotAPI, Any, Conversation]) -> None:
    server, started, _ = bot_with_staff
    operator = Conversation(server, next(u for u in server.users.values()
                                         if u.first_name == "Operator"))
    [shown] = await operator.say("/help")
    assert _help_commands(shown["text"]) == [*CITIZEN, *OPERATOR]
    assert "For consular operators" in shown["text"]
    group = {"type": "chat", "chat_id": started.settings.operators_chat_id}
    assert _names(server.commands(group, "en")) == OPERATOR
