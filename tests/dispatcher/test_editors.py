"""Roles and the editors' gate, through the real dispatcher on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import func, select

from bot.answers.callbacks import TEACH_ACTIONS, TeachCb
from bot.publishing.callbacks import (
    ADMIN_COMMANDS,
    ADMIN_PREFIXES,
    EDITOR_COMMANDS,
    EDITOR_PREFIXES,
    ChannelAct,
    DraftAct,
    EditorsAct,
    PostAct,
    PostList,
    ReviewAct,
)
from storage.models.people import Role
from storage.models.publishing import ChatRow, NewsSubscription, Post
from tests.dispatcher.editors_kit import ADMIN, CITIZEN, EDITOR, Harness, harness
from tests.kit.updates import button, forwarded, message, person, texts

__all__ = ["harness"]

REFUSED = "Sorry, this is only for the ministry's editors."
ADMIN_ONLY = "Sorry, only an administrator can do this."

# One crafted press per callback prefix and action the editors' UI defines.
CRAFTED = [
    EditorsAct(action="list").pack(), EditorsAct(action="add").pack(),
    EditorsAct(action="rm", user_id=EDITOR).pack(),
    ChannelAct(action="list").pack(), ChannelAct(action="add").pack(),
    ChannelAct(action="rm", chat_id=-100).pack(), ChannelAct(action="lang", value="kk").pack(),
    ChannelAct(action="save").pack(),
    *[DraftAct(action=a, value="kk").pack()
      for a in ("skip", "cancel", "target", "next", "fallback", "now", "submit")],
    ReviewAct(action="ok", post_id=1).pack(), ReviewAct(action="no", post_id=1).pack(),
    PostList(tab="upcoming").pack(), PostList(tab="sent", page=2).pack(),
    *[PostAct(action=a, post_id=1, value="kk").pack()
      for a in ("view", "preview", "edit", "lang", "resched", "cancel", "report")],
    *[TeachCb(action=a, qid=1, arg="0").pack() for a in sorted(TEACH_ACTIONS)],
    "pa:garbage", "po:", "np",
]


def test_every_prefix_is_crafted() -> None:
    assert {d.split(":")[0] for d in CRAFTED} == set(EDITOR_PREFIXES)


async def _snapshot(h: Harness) -> list[Any]:
    counts = []
    for table in (Role, Post, ChatRow, NewsSubscription):
        counts += await h.scalars(select(func.count()).select_from(table))
    counts += await h.scalars(select(Post.status).order_by(Post.id))
    return counts


async def _seed_post(h: Harness) -> None:
    async with h.app.session_factory() as session:
        session.add(Post(id=1, author_id=EDITOR, status="pending", texts={"en": "Hi"},
                         targets={"citizens": ["en"]}))
        session.add(Role(user_id=EDITOR, role="editor"))
        await session.commit()


async def test_admins_are_bootstrapped(harness: Harness) -> None:
    rows = await harness.scalars(select(Role))
    assert [(r.user_id, r.role) for r in rows] == [(ADMIN, "admin")]


@pytest.mark.parametrize("command", sorted(EDITOR_COMMANDS))
async def test_citizen_cannot_use_editor_commands(harness: Harness, command: str) -> None:
    await _seed_post(harness)
    before = await _snapshot(harness)
    calls = await harness.say(CITIZEN, f"/{command}")
    assert next(c.text for c in calls if isinstance(c, SendMessage)).startswith(REFUSED)
    assert await _snapshot(harness) == before
    [entry] = [a for a in await harness.audit() if a.actor_id == CITIZEN]
    assert (entry.action, entry.allowed) == (f"command:/{command}", False)


async def test_citizen_cannot_press_any_editor_button(harness: Harness) -> None:
    await _seed_post(harness)
    before = await _snapshot(harness)
    for data in CRAFTED:
        calls = await harness.press(CITIZEN, data)
        answers = [c for c in calls if isinstance(c, AnswerCallbackQuery)]
        assert len(answers) == 1 and answers[0].text.startswith(REFUSED), data
        assert not [c for c in calls if not isinstance(c, AnswerCallbackQuery)], data
    assert await _snapshot(harness) == before
    refusals = [a for a in await harness.audit() if a.actor_id == CITIZEN]
    assert [a.action for a in refusals] == [f"button:{d}"[:48] for d in CRAFTED]
    assert all(not a.allowed for a in refusals)


async def test_editor_cannot_use_admin_actions(harness: Harness) -> None:
    await _seed_post(harness)
    before = await _snapshot(harness)
    for command in sorted(ADMIN_COMMANDS):
        calls = await harness.say(EDITOR, f"/{command}")
        assert texts(calls) == [ADMIN_ONLY]
    admin_presses = [d for d in CRAFTED if d.split(":")[0] in ADMIN_PREFIXES]
    for data in admin_presses:
        calls = await harness.press(EDITOR, data)
        assert texts(calls) == [ADMIN_ONLY], data
    assert await _snapshot(harness) == before
    refusals = [a for a in await harness.audit() if a.actor_id == EDITOR]
    assert len(refusals) == len(ADMIN_COMMANDS) + len(admin_presses)
    assert not any(a.allowed for a in refusals)


async def test_citizen_in_the_middle_of_nothing_still_gets_normal_replies(
        harness: Harness) -> None:
    calls = await harness.say(CITIZEN, "/help")
    assert not any(REFUSED in t for t in texts(calls))
    assert await harness.audit() == []


async def test_admin_adds_editor_by_forward_and_by_id_then_removes(harness: Harness) -> None:
    calls = await harness.say(ADMIN, "/editors")
    assert "No editors yet." in texts(calls)[0]
    calls = await harness.press(ADMIN, button(calls, "Add an editor"))
    assert "Forward me any message" in texts(calls)[0]
    calls = await harness.feed(forwarded(ADMIN, person(77)))
    assert "User77 (77) is now an editor." in texts(calls)[0]
    assert any(isinstance(c, SendMessage) and c.chat_id == 77 for c in calls)  # welcomed

    calls = await harness.press(ADMIN, EditorsAct(action="add").pack())
    calls = await harness.say(ADMIN, "not a number")
    assert "numeric id" in texts(calls)[0]
    calls = await harness.say(ADMIN, "88")
    assert "88 is now an editor." in texts(calls)[0]
    roles = await harness.scalars(select(Role).order_by(Role.user_id))
    assert [(r.user_id, r.role, r.granted_by) for r in roles] == [
        (ADMIN, "admin", None), (77, "editor", ADMIN), (88, "editor", ADMIN)]

    calls = await harness.press(ADMIN, button(calls, "Remove User77"))
    assert "User77 (77) is no longer an editor." in texts(calls)[0]
    assert [r.user_id for r in await harness.scalars(select(Role))] == [ADMIN, 88]
    actions = [(a.actor_id, a.action, a.target, a.allowed) for a in await harness.audit()]
    assert actions == [(ADMIN, "editor.add", "user:77", True),
                       (ADMIN, "editor.add", "user:88", True),
                       (ADMIN, "editor.remove", "user:77", True)]


async def test_removed_editor_is_refused_at_once(harness: Harness) -> None:
    await harness.press(ADMIN, EditorsAct(action="add").pack())
    await harness.say(ADMIN, "77")
    calls = await harness.say(77, "/newpost")
    assert "Send the text in Kazakh" in texts(calls)[0]
    await harness.press(ADMIN, EditorsAct(action="rm", user_id=77).pack())
    calls = await harness.say(77, "Some text for the post")  # mid-dialogue
    assert texts(calls)[0].startswith(REFUSED)
    calls = await harness.say(77, "/posts")
    assert texts(calls)[0].startswith(REFUSED)
    denied = [a.action for a in await harness.audit() if a.actor_id == 77 and not a.allowed]
    assert denied == ["dialogue:message", "command:/posts"]


async def test_cannot_remove_an_administrator(harness: Harness) -> None:
    calls = await harness.press(ADMIN, EditorsAct(action="rm", user_id=ADMIN).pack())
    assert "This person is not an editor." in texts(calls)
    assert [r.user_id for r in await harness.scalars(select(Role))] == [ADMIN]


async def test_group_message_does_not_reach_editor_gate(harness: Harness) -> None:
    from aiogram.types import Chat

    group = Chat(id=-500, type="group", title="G")
    calls = await harness.feed(message(CITIZEN, "/newpost", chat=group))
    assert texts(calls) == []
    assert await harness.audit() == []
