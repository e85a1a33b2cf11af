"""The bot in groups: introduction on joining, settings only for administrators (asked of
Telegram when they act), answers only to commands, mentions and replies, removal and
migration to a supergroup."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.travel.groups import likely_language
from storage.models.publishing import ChatRow
from tests.e2e.travel_kit import TravelBot, travel_bot
from tests.kit import until


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url):
        yield running


async def _refusals(tb: TravelBot, wanted: int) -> int:
    """Callback answers refusing a non-administrator, once ``wanted`` arrived (or 5 s)."""
    def refusals() -> int:
        return sum("Only the group's administrators" in (a.get("text") or "")
                   for a in tb.server.callback_answers().values())

    await until(lambda: refusals() >= wanted)
    return refusals()


def test_likely_language() -> None:
    assert likely_language("Алматыдағы қазақтар", "en", "kk") == "kk"
    assert likely_language("Путешественники", "en", "kk") == "ru"
    assert likely_language("Travel club", "en", "kk") == "en"
    assert likely_language("Travel club", None, "kk") == "kk"


async def test_group_life_and_admin_only_settings(tb: TravelBot) -> None:
    server = tb.server
    admin = server.add_user(first_name="Admin", language_code="en")
    member = server.add_user(first_name="Member", language_code="en")
    group = server.add_group("Travel club", members=[member], admins=[admin], bot_member=False)
    server.mark(group)
    server.add_bot_to_group(group, by=admin)
    [hello] = await server.wait_for_messages(group)
    assert "Administrators can set me up" in hello["text"] and "/settings" in hello["text"]
    [row] = await tb.eventually(select(ChatRow))
    assert (row.chat_id, row.languages, row.active) == (group.id, "en", True)

    # a plain message is not for the bot; a mention is
    await server.send_message(member, "anyone going to Germany?", chat=group)
    server.mark(group)
    await server.send_message(member, "@embassy_bot lost passport in Germany", chat=group)
    [answer] = await server.wait_for_messages(group)
    assert "passport" in answer["text"].lower() and "Germany" in answer["text"]
    assert len([m for m in server.messages(group) if m["outgoing"]]) == 2

    # a member may not change settings; the administrator may
    server.mark(group)
    await server.send_message(member, "/follow Germany", chat=group)
    [refused] = await server.wait_for_messages(group)
    assert "Only the group's administrators" in refused["text"]
    server.mark(group)
    await server.send_message(admin, "/follow Germany", chat=group)
    [ok] = await server.wait_for_messages(group)
    assert "receive travel alerts for 🇩🇪 Germany" in ok["text"]
    server.mark(group)
    await server.send_message(admin, "/settings", chat=group)
    [screen] = await server.wait_for_messages(group)
    assert "Germany" in screen["text"]
    server.mark(group)
    await server.press_button(member, screen, text="Русский", chat=group)
    await server.press_button(member, screen, text="🔕 Stop Germany", chat=group)
    refusals = await _refusals(tb, 2)
    assert refusals == 2
    [row] = await tb.scalars(select(ChatRow))
    assert row.languages == "en" and row.countries == {"iso": ["DE"]}
    await server.press_button(admin, screen, text="Русский", chat=group)
    [edited] = await server.wait_for_messages(group)
    assert edited["edited"]
    assert await tb.settled(select(ChatRow.languages), "ru,en") == "ru,en"

    # supergroup migration moves the settings; removal is noticed
    new_id = server.migrate_group(group)
    assert await tb.settled(select(ChatRow.chat_id), new_id) == new_id
    [row] = await tb.scalars(select(ChatRow))
    assert row.countries == {"iso": ["DE"]} and row.kind == "supergroup"
    server.kick_bot(new_id)
    assert await tb.settled(select(ChatRow.active), False) is False
    assert tb.failed_calls() == []


@pytest.mark.parametrize(("title", "code", "expected"), [("Қазақ клубы", "ru", "Сәлем")])
async def test_introduction_in_the_groups_language(tb: TravelBot, title: str, code: str,
                                                   expected: str) -> None:
    server = tb.server
    admin = server.add_user(first_name="Admin", language_code=code)
    group = server.add_group(title, admins=[admin], bot_member=False)
    server.mark(group)
    server.add_bot_to_group(group, by=admin)
    [hello] = await server.wait_for_messages(group)
    [row] = await tb.eventually(select(ChatRow))
    assert row.languages == "kk"
    assert hello["text"]


async def test_the_bot_asks_back_in_a_group_and_the_choice_answers_there(tb: TravelBot) -> None:
    server = tb.server
    admin = server.add_user(first_name="Admin", language_code="en")
    member = server.add_user(first_name="Member", language_code="en")
    group = server.add_group("Travel club", members=[member], admins=[admin], bot_member=False)
    server.add_bot_to_group(group, by=admin)
    await server.wait_for_messages(group)
    server.mark(group)
    await server.send_message(member, "@embassy_bot passport Germany", chat=group)
    [asked] = await server.wait_for_messages(group)
    assert asked["text"] == "Which is closer to your case?"
    labels = [t for row in server.buttons(asked) for t, _ in row]
    assert labels == ["Expired or damaged", "Lost or stolen"]  # no menu: it has no use here
    server.mark(group)
    await server.press_button(member, asked, text="Lost or stolen", chat=group)
    [card] = await server.wait_for_messages(group)
    assert card["edited"] and card["message_id"] == asked["message_id"]
    assert card["text"].startswith("Passport lost or stolen") and "Germany" in card["text"]
    assert all(data.startswith("fc:") for row in server.buttons(card) for _, data in row
               if data)
    assert tb.failed_calls() == []
