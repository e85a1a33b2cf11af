"""Messages the bot writes first reach each person in the language they read.

DEFAULT_LANGUAGE stays Kazakh here (the project's default), while the staff's Telegram is in
English: every notice, report and alert must still be in English. The language comes from
the person's row in ``users``: the one chosen with /language, else the one Telegram reported
when they wrote (kept up to date), else DEFAULT_LANGUAGE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest_asyncio
from sqlalchemy import event, select

from bot.officer.jobs import send_digests
from bot.shared.middlewares import FloodMiddleware
from localapi import LocalBotAPI
from storage.models.people import AuditEntry, Role, User
from storage.models.publishing import Post
from tests.kit import Conversation, RunningBot, running, start_bot


class World(RunningBot):
    """The bot whose first person is its administrator (``admin``), speaking en-GB."""

    admin: Conversation


async def _world(db_url: str, **extra: Any) -> AsyncIterator[World]:
    async with LocalBotAPI() as server:
        admin = server.add_user(first_name="Admin", language_code="en-GB")
        async with running(db_url, World, server=server, admin_ids=(admin.id,),
                           long_scripts=True, **extra) as world:
            assert world.settings.default_language == "kk"
            world.admin = Conversation(server, admin)
            yield world


@pytest_asyncio.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async for made in _world(db_url):
        yield made


async def _add_editor(world: World, editor: Conversation) -> None:
    await editor.say("/start")
    [screen] = await world.admin.say("/editors")
    await world.admin.press("Add an editor", screen)
    world.server.mark(editor.user)
    [added] = await world.admin.say(str(editor.user.id))
    assert f"{editor.user.id} is now an editor." in added["text"]
    [welcome] = await world.server.wait_for_messages(editor.user)
    assert welcome["text"].startswith("You are now an editor of the ministry's bot.")


async def _write_post(editor: Conversation, text: str) -> dict[str, Any]:
    await editor.say("/newpost")
    await editor.press("Skip")
    await editor.press("Skip")
    [media] = await editor.say(text)
    buttons = await editor.press("Skip", media)
    await editor.press("Skip", buttons)
    await editor.press("Citizens: English")
    await editor.press("Next")
    shown = await editor.server.wait_for_messages(editor.user, count=3)
    return await editor.press("Now", shown[2])


async def test_staff_notices_and_reports_are_in_each_persons_telegram_language(
        world: World) -> None:
    server = world.server
    editor = world.person("Editor", "en")
    citizen = world.person("Aigerim", "en")
    [sub] = await citizen.say("/subscribe")
    assert "in English" in sub["text"]
    await world.admin.say("/start")
    await _add_editor(world, editor)

    ready = await _write_post(editor, "Embassy open on Monday")
    server.mark(world.admin.user)
    await editor.press("Submit for approval", ready)
    review = await server.wait_for_messages(world.admin.user, count=4)
    assert "needs approval" in review[0]["text"]
    assert review[-1]["text"] == "Approve post #1?"

    server.mark(editor.user)
    server.mark(citizen.user)
    await world.admin.press("Approve", review[-1])
    [told] = await server.wait_for_messages(editor.user)
    assert told["text"] == "Your post #1 was approved by Admin and is scheduled."
    [delivered] = await server.wait_for_messages(citizen.user, timeout=15)
    assert delivered["text"] == "Embassy open on Monday"
    [report] = await server.wait_for_messages(editor.user, timeout=15)
    assert report["text"].startswith("Post #1: delivery report\nSent: 1\n")
    assert world.failed_calls() == []


async def test_alert_approval_request_and_verdict_in_each_persons_language(
        world: World) -> None:
    server = world.server
    editor = world.person("Editor", "en")
    await world.admin.say("/start")
    await _add_editor(world, editor)
    await editor.say("/alert Germany")
    await editor.press("Caution")
    await editor.press("Skip this language")
    await editor.press("Skip this language")
    await editor.say("Strike in Berlin.")
    await editor.press("3 days")
    server.mark(world.admin.user)
    submitted = await editor.press("Submit")
    assert "Submitted for approval" in submitted["text"]
    [request] = await server.wait_for_messages(world.admin.user)
    assert request["text"].startswith("📣 An alert waits for your approval:")
    assert "Travel alert: 🇩🇪 Germany" in request["text"]
    server.mark(editor.user)
    await world.admin.press("Approve", request)
    [verdict] = await server.wait_for_messages(editor.user)
    assert verdict["text"] == "Your alert was approved and is going out."


async def test_telegram_language_is_stored_once_and_followed_until_a_choice(
        world: World) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    engine = world.started.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    person = world.person("Dana", "ru-RU")
    await person.say("/start")
    assert await world.rows(select(User.language, User.telegram_language)
                            .where(User.id == person.user.id)) == [(None, "ru")]
    first = [s for s in statements if "users" in s]
    statements.clear()
    await person.say("/help")
    await person.say("/menu")
    event.remove(engine, "before_cursor_execute", seen)
    assert any(s.lstrip().upper().startswith("INSERT INTO USERS") for s in first)
    assert [s for s in statements if "users" in s] == []  # cached: no query, no write

    person.user.language_code = "de"  # Telegram switched to German: the bot speaks English
    [reply] = await person.say("/menu")
    assert reply["text"].startswith("What would you like to know?")
    assert await world.rows(select(User.language, User.telegram_language)
                            .where(User.id == person.user.id)) == [(None, "en")]

    language = await person.press("Language", reply)
    await person.press("Қазақша", language)
    person.user.language_code = "ru"
    await person.say("/menu")
    assert await world.rows(select(User.language, User.telegram_language)
                            .where(User.id == person.user.id)) == [("kk", "ru")]

    # A person who never wrote has no row: the default language applies to them.
    stranger = world.person("Nobody", "en")
    assert await world.rows(select(User.id).where(User.id == stranger.user.id)) == []


async def test_weekly_digest_in_the_editors_telegram_language(world: World) -> None:
    started = world.started
    await world.admin.say("/start")
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=started.settings.tz)
    world.server.mark(world.admin.user)
    sent = await send_digests(started.bot, started.app.session_factory, started.settings,
                              started.app.store, started.app.i18n, now=monday)
    assert list(sent) == [world.admin.user.id]
    [digest] = await world.server.wait_for_messages(world.admin.user)
    assert digest["text"].startswith("Weekly digest")


async def test_admins_own_post_is_approved_at_once_and_audited(world: World) -> None:
    server = world.server
    citizen = world.person("Aigerim", "en")
    await citizen.say("/subscribe")
    await world.admin.say("/start")
    ready = await _write_post(world.admin, "Consular day on Friday")
    server.mark(citizen.user)
    done = await world.admin.press("Schedule", ready)  # not "Submit for approval"
    assert "approved at once" in done["text"]
    [delivered] = await server.wait_for_messages(citizen.user, timeout=15)
    assert delivered["text"] == "Consular day on Friday"
    audit = await world.rows(select(AuditEntry.action, AuditEntry.details)
                             .where(AuditEntry.action == "post.approved"))
    assert audit == [("post.approved", {"self_approved": True})]
    assert [s for (s,) in await world.rows(select(Post.approved_by))] == [world.admin.user.id]


async def test_admins_own_alert_goes_out_at_once_and_is_audited(world: World) -> None:
    server = world.server
    follower = world.person("Dana", "en")
    await follower.say("/start")
    countries = await follower.press("Countries")
    [card] = await follower.say("Germany") if "Germany" not in " ".join(
        follower.buttons(countries)) else [await follower.press("Germany", countries)]
    server.mark(follower.user)
    await server.press_button(follower.user, card, text="🔔 Follow alerts")
    await server.wait_for_messages(follower.user)

    await world.admin.say("/alert Germany")
    await world.admin.press("Caution")
    await world.admin.press("Skip this language")
    await world.admin.press("Skip this language")
    await world.admin.say("Strike in Berlin.")
    await world.admin.press("3 days")
    server.mark(follower.user)
    going = await world.admin.press("Submit")
    assert "going out to 1 recipients" in going["text"]
    [alert] = await server.wait_for_messages(follower.user, timeout=15)
    assert "Strike in Berlin." in alert["text"]
    audit = await world.rows(select(AuditEntry.actor_id, AuditEntry.details)
                             .where(AuditEntry.action == "alert.approved"))
    assert audit == [(world.admin.user.id, {"self_approved": True, "severity": "caution"})]


async def test_a_lone_editor_is_told_plainly_that_a_second_person_is_needed(
        db_url: str) -> None:
    async with LocalBotAPI() as server, start_bot(
            db_url, server, dispatcher={"flood": FloodMiddleware(limit=1000)},
            default_language="en") as started:
        editor = Conversation(server, server.add_user(first_name="Solo", language_code="en"))
        async with started.app.session_factory() as session, session.begin():
            session.add(Role(user_id=editor.user.id, role="editor"))
        ready = await _write_post(editor, "Embassy open on Monday")
        waiting = await editor.press("Submit for approval", ready)
        assert "waiting for approval" in waiting["text"]
        assert "a second person is needed" in waiting["text"]
        assert "/editors" in waiting["text"] and "ADMIN_IDS" in waiting["text"]

        await editor.say("/alert Germany")
        await editor.press("Caution")
        await editor.press("Skip this language")
        await editor.press("Skip this language")
        await editor.say("Strike in Berlin.")
        await editor.press("3 days")
        told = await editor.press("Submit")
        assert told["text"].startswith("No administrator could be asked to approve this alert")
        async with started.app.session_factory() as session:
            statuses = sorted(await session.scalars(select(Post.kind + ":" + Post.status)))
        assert statuses == ["alert:rejected", "post:pending"]
