"""News subscriptions: citizens in private, groups by their admins, channels by the bot's
administrators; through the dispatcher and end to end against the local Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from aiogram.types import Chat, MessageOriginChannel
from sqlalchemy import select

from bot.publishing.callbacks import ChannelAct, News
from storage.models.people import AuditEntry, Role
from storage.models.publishing import ChatRow, NewsSubscription, Post
from tests.dispatcher.editors_kit import ADMIN, CITIZEN, Harness, harness
from tests.kit import RunningBot, start_bot
from tests.kit.doubles import FakePublisher
from tests.kit.updates import button, message, texts

__all__ = ["harness"]
GROUP = Chat(id=-4001, type="group", title="Kazakh students in Berlin")


async def test_citizen_subscribes_and_unsubscribes(harness: Harness) -> None:
    calls = await harness.say(CITIZEN, "/subscribe")
    assert "you will receive the news in English" in texts(calls)[0]
    assert "🔕 Unsubscribe" in [b.text for row in calls[0].reply_markup.inline_keyboard
                             for b in row]
    [row] = await harness.scalars(select(NewsSubscription))
    assert (row.user_id, row.language, row.active) == (CITIZEN, "en", True)
    calls = await harness.say(CITIZEN, "/unsubscribe")
    assert texts(calls)[0].startswith("You will no longer receive the news.")
    assert await harness.scalars(select(NewsSubscription)) == []
    calls = await harness.say(CITIZEN, "/unsubscribe")
    assert texts(calls)[0].startswith("You were not subscribed")


async def test_news_from_the_main_menu(harness: Harness) -> None:
    calls = await harness.say(CITIZEN, "/menu")
    calls = await harness.press(CITIZEN, button(calls, "Ministry news"))
    assert "Get the Ministry of Foreign Affairs' news" in texts(calls)[0]
    calls = await harness.press(CITIZEN, button(calls, "Subscribe"))
    assert "you will receive the news in English" in texts(calls)[0]
    calls = await harness.press(CITIZEN, News(action="unsub").pack())
    assert "You will no longer receive the news." in texts(calls)[0]
    assert await harness.audit() == []  # not an editor action


async def test_group_admin_subscribes_group(harness: Harness) -> None:
    harness.session.statuses[(GROUP.id, 50)] = "creator"
    calls = await harness.feed(message(50, "/subscribe ru kk", chat=GROUP))
    assert texts(calls) == ["This group will receive the ministry's news in Kazakh, Russian. "
                            "An administrator can stop it with /unsubscribe."]
    [row] = await harness.scalars(select(ChatRow))
    assert (row.chat_id, row.kind, row.languages, row.news) == (GROUP.id, "group", "kk,ru",
                                                                True)
    calls = await harness.feed(message(51, "/unsubscribe", chat=GROUP))  # not an admin
    assert "Only an administrator" in texts(calls)[0]
    assert (await harness.scalars(select(ChatRow.news))) == [True]
    calls = await harness.feed(message(50, "/unsubscribe", chat=GROUP))
    assert (await harness.scalars(select(ChatRow.news))) == [False]
    audit = [(a.actor_id, a.action, a.allowed) for a in await harness.audit()]
    assert audit == [(50, "group.subscribe", True), (51, "group.unsubscribe", False),
                     (50, "group.unsubscribe", True)]


async def test_group_member_is_refused(harness: Harness) -> None:
    calls = await harness.feed(message(52, "/subscribe", chat=GROUP))
    assert texts(calls) == ["Only an administrator of this group can subscribe it to the "
                            "ministry's news."]
    assert await harness.scalars(select(ChatRow)) == []
    [entry] = await harness.audit()
    assert (entry.actor_id, entry.action, entry.allowed) == (52, "group.subscribe", False)


async def test_admin_registers_channel_by_forward(harness: Harness) -> None:
    channel = Chat(id=-100777, type="channel", title="MFA News")
    harness.session.chats[channel.id] = channel
    harness.session.statuses[(channel.id, harness.bot.id)] = "creator"
    await harness.say(ADMIN, "/channels")
    await harness.press(ADMIN, ChannelAct(action="add").pack())
    forward = message(ADMIN, "post", forward_origin=MessageOriginChannel(
        date=datetime.now(UTC), chat=channel, message_id=5))
    calls = await harness.feed(forward)
    assert "In which languages does MFA News publish?" in texts(calls)[0]
    calls = await harness.press(ADMIN, ChannelAct(action="save").pack())
    assert texts(calls) == ["Choose at least one language."]
    await harness.press(ADMIN, ChannelAct(action="lang", value="ru").pack())
    await harness.press(ADMIN, ChannelAct(action="lang", value="en").pack())
    calls = await harness.press(ADMIN, ChannelAct(action="save").pack())
    assert "MFA News will receive posts." in texts(calls)[0]
    [row] = await harness.scalars(select(ChatRow))
    assert (row.kind, row.languages, row.news, row.added_by) == ("channel", "ru,en", True, ADMIN)
    calls = await harness.press(ADMIN, ChannelAct(action="rm", chat_id=channel.id).pack())
    assert "MFA News will no longer receive posts." in texts(calls)[0]
    actions = [a.action for a in await harness.audit()]
    assert actions == ["channel.add", "channel.remove"]


async def test_channel_where_bot_is_not_admin_is_refused(harness: Harness) -> None:
    channel = Chat(id=-100778, type="channel", title="Other")
    harness.session.chats["@other"] = channel
    await harness.press(ADMIN, ChannelAct(action="add").pack())
    calls = await harness.say(ADMIN, "@other")
    assert "I am not an administrator of Other yet" in texts(calls)[0]
    assert await harness.scalars(select(ChatRow)) == []


# --- end to end ----------------------------------------------------------------------


@pytest_asyncio.fixture
async def editors_bot(db_url: str) -> AsyncIterator[tuple[RunningBot, FakePublisher]]:
    """The real bot over HTTP with one administrator (the first person) and a fake publisher."""
    from localapi import LocalBotAPI

    publisher = FakePublisher()
    async with LocalBotAPI() as server:
        admin = server.add_user(first_name="Admin", language_code="en")

        def use_fake_publisher(dp: Any) -> None:
            dp["publisher"] = publisher

        # Notices to other people (reviewers) go out in their stored language or
        # DEFAULT_LANGUAGE; English here, like the people in the test.
        async with start_bot(db_url, server, setup=use_fake_publisher,
                             admin_ids=(admin.id,), default_language="en") as s:
            yield RunningBot(s), publisher


async def test_e2e_editors_post_approval_and_subscriptions(
        editors_bot: tuple[RunningBot, FakePublisher]) -> None:
    running, publisher = editors_bot
    server = running.server
    from tests.kit import Conversation

    admin = Conversation(server, next(iter(u for u in server.users.values()
                                           if u.first_name == "Admin")))
    editor = running.person("Editor", "en")
    citizen = running.person("Aigerim", "en")
    bystander = running.person("Stranger", "en")

    # A citizen subscribes; a stranger is refused the editors' commands.
    [sub] = await citizen.say("/subscribe")
    assert "you will receive the news in English" in sub["text"]
    [no] = await bystander.say("/newpost")
    assert no["text"].startswith("Sorry, this is only for the ministry's editors.")

    # The administrator adds the editor by id.
    [screen] = await admin.say("/editors")
    await admin.press("Add an editor", screen)
    await editor.say("/start")  # the editor has talked to the bot, so it can welcome them
    server.mark(editor.user)
    [added] = await admin.say(str(editor.user.id))
    assert f"{editor.user.id} is now an editor." in added["text"]
    await server.wait_for_messages(editor.user)  # welcome

    # A group admin subscribes the group; a member is refused.
    group = server.add_group("Diaspora", admins=[editor.user], members=[bystander.user])
    await server.send_message(editor.user, "/subscribe kk", chat=group)
    await server.send_message(bystander.user, "/subscribe", chat=group)
    replies = await server.wait_for_messages(group, count=2)
    assert sorted(r["text"][:26] for r in replies) == [
        "Only an administrator of t", "This group will receive th"]
    rows = await running.eventually(select(ChatRow.chat_id).where(ChatRow.news.is_(True)))
    assert rows == [group.id]

    # The editor writes a post for citizens; the administrator approves it.
    await editor.say("/newpost")
    await editor.press("Skip")
    await editor.press("Skip")
    [media] = await editor.say("Embassy open <b>Monday</b>")  # typed tags are escaped
    buttons_step = await editor.press("Skip", media)
    await editor.press("Skip", buttons_step)
    await editor.press("Citizens: English")
    await editor.press("Next")  # the targets message turns into the previews' heading
    shown = await server.wait_for_messages(editor.user, count=3)
    assert [m["text"] for m in shown] == [
        "Preview for the English audience:", "Embassy open <b>Monday</b>",
        shown[2]["text"]]
    assert "When should it go out?" in shown[2]["text"]
    ready = await editor.press("Now", shown[2])
    assert "Ready." in ready["text"]
    server.mark(admin.user)
    await editor.press("Submit for approval", ready)
    review = await server.wait_for_messages(admin.user, count=4)
    assert "needs approval" in review[0]["text"]
    assert review[2]["text"] == "Embassy open <b>Monday</b>"  # exactly as recipients see it
    server.mark(editor.user)
    await admin.press("Approve", review[-1])
    [told] = await server.wait_for_messages(editor.user)
    assert "was approved by Admin" in told["text"]
    [post_id] = await running.eventually(select(Post.id).where(Post.status == "scheduled"))
    assert publisher.calls == [("schedule", post_id)]
    audit = await running.eventually(select(AuditEntry.action).order_by(AuditEntry.id))
    assert audit[:2] == ["command:/newpost", "editor.add"]
    assert [r for r in await running.eventually(select(Role.role))] == ["admin", "editor"]
    assert running.failed_calls() == []


async def test_e2e_channel_registration(editors_bot: tuple[RunningBot, FakePublisher]) -> None:
    running, _ = editors_bot
    server = running.server
    from tests.kit import Conversation

    admin = Conversation(server, next(u for u in server.users.values()
                                      if u.first_name == "Admin"))
    server.add_channel("MFA Kazakhstan", admins=[admin.user], username="mfa_kz")
    server.add_channel("Not ours", admins=[admin.user], bot_admin=False, username="other_kz")
    [screen] = await admin.say("/channels")
    asked = await admin.press("Add a channel", screen)
    assert "@username" in asked["text"]
    [refused] = await admin.say("@other_kz")
    assert "I am not an administrator of Not ours yet" in refused["text"]
    [langs] = await admin.say("@mfa_kz")
    await admin.press("Kazakh", langs)
    saved = await admin.press("Save")
    assert "MFA Kazakhstan will receive posts." in saved["text"]
    rows = await running.eventually(select(ChatRow.languages).where(ChatRow.kind == "channel"))
    assert rows == ["kk"]
    assert running.failed_calls() == []
