"""Posts: the /newpost dialogue, approval, /posts, and the validation and time services."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendMessage, SendPhoto
from aiogram.types import MessageEntity
from aiogram.utils.i18n import I18n
from sqlalchemy import select

from bot.publishing import posts as svc
from bot.publishing import render
from bot.publishing.callbacks import DraftAct, PostAct, PostList, ReviewAct
from bot.shared.i18n import create_i18n, locale
from storage.models.people import AuditEntry, Role
from storage.models.publishing import Post
from tests.dispatcher.editors_kit import ADMIN, EDITOR, SECOND, Harness, harness
from tests.kit.updates import button, message, photo, sticker, texts

__all__ = ["harness"]
ALMATY = ZoneInfo("Asia/Almaty")
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday 11:00 in Almaty


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return create_i18n("en")


# --- services ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "local"), [
    ("25.12.2026 10:00", datetime(2026, 12, 25, 10, 0)),
    ("2026-12-25 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25/12/2026 9.30", datetime(2026, 12, 25, 9, 30)),
    ("tomorrow 9:30", datetime(2026, 3, 3, 9, 30)),
    ("завтра 9:30", datetime(2026, 3, 3, 9, 30)),
    ("ертең 9:30", datetime(2026, 3, 3, 9, 30)),
    ("18:00", datetime(2026, 3, 2, 18, 0)),
    ("10:00", datetime(2026, 3, 3, 10, 0)),  # passed today: tomorrow
    ("01.01 10:00", datetime(2027, 1, 1, 10, 0)),
])
def test_parse_dates(text: str, local: datetime, i18n: I18n) -> None:
    with locale(i18n, "en"):
        when = svc.parse_when(text, ALMATY, NOW)
    assert when.repeat is None
    assert when.send_at == local.replace(tzinfo=ALMATY).astimezone(UTC)


@pytest.mark.parametrize(("text", "days", "clock"), [
    ("every Monday 10:00", [0], "10:00"),
    ("every Monday and Thursday 9:15", [0, 3], "09:15"),
    ("дүйсенбі сайын 10:00", [0], "10:00"),
    ("каждый понедельник 10:00", [0], "10:00"),
    ("каждую среду и пятницу 18:30", [2, 4], "18:30"),
    ("по субботам 12:00", [5], "12:00"),
    ("every day 08:00", list(range(7)), "08:00"),
])
def test_parse_weekly_rules(text: str, days: list[int], clock: str, i18n: I18n) -> None:
    with locale(i18n, "en"):
        when = svc.parse_when(text, ALMATY, NOW)
    assert when.repeat == {"weekdays": days, "time": clock}
    assert when.send_at is not None and when.send_at > NOW
    assert when.send_at.astimezone(ALMATY).weekday() in days


@pytest.mark.parametrize(("text", "error"), [
    ("whenever", "I did not understand the time"),
    ("every Monday", "Add the time of day"),
    ("31.02.2026 10:00", "There is no such date"),
    ("01.03.2026 10:00", "already passed"),
])
def test_parse_when_errors(text: str, error: str, i18n: I18n) -> None:
    with locale(i18n, "en"), pytest.raises(svc.WhenError, match=error):
        svc.parse_when(text, ALMATY, NOW)


def test_now(i18n: I18n) -> None:
    assert svc.parse_when("now", ALMATY, NOW) == svc.When(None)


def _post(**extra: object) -> dict[str, object]:
    return {"texts": {"en": "Hello"}, "targets": {"citizens": ["en"]}, **extra}


def test_validate_limits_and_urls(i18n: I18n) -> None:
    with locale(i18n, "en"):
        assert svc.validate(_post(), NOW) == []
        long_ru = _post(texts={"ru": "я" * 4210}, targets={"citizens": ["ru"]})
        assert svc.validate(long_ru, NOW) == [
            "The Russian text is 4,210 characters; the limit is 4,096."]
        caption = _post(texts={"en": "x" * 1100}, media={"type": "photo", "file_id": "F"})
        [error] = svc.validate(caption, NOW)
        assert "1,100 characters" in error and "caption" in error and "1,024" in error
        link = _post(buttons={"rows": [{"url": "http://x.kz", "labels": {"en": "Go"}}]})
        assert svc.validate(link, NOW) == ["A button link must start with https:// (http://x.kz)."]
        bad_html = _post(texts={"en": "<b>open"})
        assert "formatting Telegram does not accept" in svc.validate(bad_html, NOW)[0]
        missing = _post(targets={"channels": True})
        assert [e.split(":")[0] for e in svc.validate(missing, NOW)] == [
            "There is no Kazakh text", "There is no Russian text"]
        assert svc.validate(_post(targets={}), NOW) == [
            "Choose at least one audience: channels, groups or citizens."]


def test_build_uses_fallback_and_labels() -> None:
    post = _post(texts={"kk": "Сәлем"}, fallbacks={"ru": "kk", "en": "skip"},
                 buttons={"rows": [{"url": "https://a.kz",
                                    "labels": {"kk": "Ашу", "en": "Open"}}]})
    ru = render.of_draft(post, "ru")
    assert ru is not None and (ru.lang, ru.html, ru.buttons[0].label) == ("kk", "Сәлем", "Ашу")
    assert render.of_draft(post, "en") is None


async def test_after_commit_work_sees_the_committed_row_and_never_follows_a_rollback(
        sqlite_url: str) -> None:
    """What the publisher does after an editor's decision runs once the unit of work has
    committed (a session of its own then finds the row), and not at all after a rollback."""
    from bot.shared.middlewares import UnitOfWork
    from storage.db import create_engine, create_session_factory

    engine = create_engine(sqlite_url)
    factory = create_session_factory(engine)
    seen: list[object] = []

    async def look() -> None:
        async with factory() as own:
            seen.append(await own.scalar(select(Post.status).where(Post.author_id == 7)))

    try:
        for ok in (True, False):
            uow = UnitOfWork(factory)
            uow.session.add(Post(author_id=7, status="scheduled" if ok else "draft",
                                 texts={"en": "x"}, targets={}))
            uow.after_commit(look)
            assert seen == ([] if ok else ["scheduled"])
            await uow.finish(ok)
        assert seen == ["scheduled"]
    finally:
        await engine.dispose()


# --- the dialogue --------------------------------------------------------------------


async def _roles(h: Harness) -> None:
    async with h.app.session_factory() as session:
        session.add_all([Role(user_id=EDITOR, role="editor", name="Author"),
                         Role(user_id=SECOND, role="editor", name="Second")])
        await session.commit()


async def _compose(h: Harness, when: str | None = None) -> list[object]:
    """Kazakh and English texts, a photo, a button, citizens kk+ru, Russian gets Kazakh."""
    await h.say(EDITOR, "/newpost")
    bold = message(EDITOR, "Сәлем, әлем!", entities=[
        MessageEntity(type="bold", offset=0, length=5)])
    calls = await h.feed(bold)
    assert "Send the text in Russian" in texts(calls)[0]
    calls = await h.press(EDITOR, button(calls, "Skip"))
    assert "Send the text in English" in texts(calls)[0]
    calls = await h.say(EDITOR, "Hello & welcome")
    assert "photo or a document" in texts(calls)[0]
    calls = await h.feed(photo(EDITOR))
    assert "Link buttons" in texts(calls)[0]
    calls = await h.say(EDITOR, "https://mfa.gov.kz | Ашу | Открыть | Open")
    assert "Who should receive it?" in texts(calls)[0]
    calls = await h.press(EDITOR, button(calls, "Citizens: Kazakh"))
    calls = await h.press(EDITOR, button(calls, "Citizens: Russian"))
    calls = await h.press(EDITOR, button(calls, "Next"))
    assert "There is no Russian text" in texts(calls)[0]
    calls = await h.press(EDITOR, button(calls, "Send Kazakh"))
    photos = [c for c in calls if isinstance(c, SendPhoto)]
    assert [p.caption for p in photos] == ["<b>Сәлем</b>, әлем!", "<b>Сәлем</b>, әлем!"]
    assert photos[0].reply_markup.inline_keyboard[0][0].url == "https://mfa.gov.kz"
    assert photos[0].reply_markup.inline_keyboard[0][0].text == "Ашу"
    assert "When should it go out?" in texts(calls)[-1]
    if when is None:
        calls = await h.press(EDITOR, button(calls, "Now"))
    else:
        calls = await h.say(EDITOR, when)
    assert "Ready." in texts(calls)[0]
    return calls


async def test_newpost_approved_by_second_editor_is_scheduled(harness: Harness) -> None:
    await _roles(harness)
    calls = await _compose(harness, "25.12.2099 10:00")
    calls = await harness.press(EDITOR, button(calls, "Submit for approval"))
    assert "waiting for approval" in texts(calls)[-1]
    [post] = await harness.scalars(select(Post))
    assert post.status == "pending" and post.author_id == EDITOR
    assert post.texts == {"kk": "<b>Сәлем</b>, әлем!", "en": "Hello &amp; welcome"}
    assert post.fallbacks == {"ru": "kk"} and post.targets["citizens"] == ["kk", "ru"]
    assert post.send_at == datetime(2099, 12, 25, 5, 0, tzinfo=UTC)
    review = [c for c in calls if getattr(c, "chat_id", None) in (ADMIN, SECOND)]
    assert {c.chat_id for c in review} == {ADMIN, SECOND}
    assert any(isinstance(c, SendPhoto) and c.chat_id == SECOND for c in review)
    approve = button(review, "Approve")
    assert harness.publisher.calls == []

    calls = await harness.press(SECOND, approve)
    assert any("approved and scheduled" in t for t in texts(calls))
    assert any(isinstance(c, SendMessage) and c.chat_id == EDITOR and "was approved by" in c.text
               for c in calls)
    [post] = await harness.scalars(select(Post))
    assert (post.status, post.approved_by) == ("scheduled", SECOND)
    assert harness.publisher.calls == [("schedule", post.id)]
    actions = [(a.actor_id, a.action) for a in await harness.audit()]
    assert actions == [(EDITOR, "post.created"), (EDITOR, "post.submitted"),
                       (SECOND, "post.approved"), (SECOND, "post.scheduled")]
    calls = await harness.press(ADMIN, approve)  # a second approval changes nothing
    assert "already handled" in texts(calls)[0]
    assert harness.publisher.calls == [("schedule", post.id)]


async def test_author_cannot_approve_own_post(harness: Harness) -> None:
    await _roles(harness)
    calls = await _compose(harness)
    await harness.press(EDITOR, button(calls, "Submit for approval"))
    [post] = await harness.scalars(select(Post))
    for forged in (ReviewAct(action="ok", post_id=post.id).pack(),
                   ReviewAct(action="no", post_id=post.id).pack()):
        calls = await harness.press(EDITOR, forged)
        assert texts(calls) == ["You cannot approve or reject your own post: another editor "
                                "or an administrator must review it."]
    [post] = await harness.scalars(select(Post))
    assert post.status == "pending" and post.approved_by is None
    assert harness.publisher.calls == []
    refused = await harness.scalars(select(AuditEntry).where(AuditEntry.allowed.is_(False)))
    assert [(a.actor_id, a.action, a.target) for a in refused] == [
        (EDITOR, "post.approve", f"post:{post.id}"), (EDITOR, "post.reject", f"post:{post.id}")]


async def test_rejection_reason_reaches_author(harness: Harness) -> None:
    await _roles(harness)
    calls = await _compose(harness)
    await harness.press(EDITOR, button(calls, "Submit for approval"))
    [post] = await harness.scalars(select(Post))
    calls = await harness.press(ADMIN, ReviewAct(action="no", post_id=post.id).pack())
    assert "Why is post" in texts(calls)[0]
    calls = await harness.say(ADMIN, "Wrong date <b>here</b>")
    to_author = [c.text for c in calls if isinstance(c, SendMessage) and c.chat_id == EDITOR]
    assert to_author == [f"Your post #{post.id} was rejected by User1. "
                         "Reason: Wrong date &lt;b&gt;here&lt;/b&gt;"]
    [post] = await harness.scalars(select(Post))
    assert (post.status, post.rejection_reason) == ("rejected", "Wrong date <b>here</b>")
    assert harness.publisher.calls == []


async def test_without_approval_submit_schedules_at_once(db_url: str) -> None:
    from tests.dispatcher.editors_kit import make_harness

    h = await make_harness(db_url, posts_need_approval=False)
    try:
        await _roles(h)
        calls = await _compose(h)
        calls = await h.press(EDITOR, button(calls, "Schedule"))
        [post] = await h.scalars(select(Post))
        assert post.status == "scheduled" and post.send_at is None
        assert h.publisher.calls == [("schedule", post.id)]
        assert "is scheduled: now" in texts(calls)[-1]
    finally:
        await h.app.close()


async def test_validation_errors_keep_the_step(harness: Harness) -> None:
    await _roles(harness)
    await harness.say(EDITOR, "/newpost")
    calls = await harness.say(EDITOR, "я" * 4210)
    assert texts(calls) == ["Please fix this first:\n• The Kazakh text is 4,210 characters; "
                            "the limit is 4,096."]
    calls = await harness.feed(sticker(EDITOR))
    assert "I need text here" in texts(calls)[0]
    await harness.say(EDITOR, "x" * 1500)  # kk, fits a message
    await harness.press(EDITOR, DraftAct(action="skip").pack())
    await harness.press(EDITOR, DraftAct(action="skip").pack())
    calls = await harness.feed(photo(EDITOR))  # too long for a caption
    assert "1,500 characters" in texts(calls)[0] and "1,024" in texts(calls)[0]
    calls = await harness.say(EDITOR, "just words")
    assert "Send a photo or a document" in texts(calls)[0]
    await harness.press(EDITOR, DraftAct(action="skip").pack())
    calls = await harness.say(EDITOR, "http://insecure.kz | Open")
    assert "must start with https://" in texts(calls)[0]
    calls = await harness.say(EDITOR, "https://ok.kz | a | b")
    assert "one label or three labels" in texts(calls)[0]
    await harness.press(EDITOR, DraftAct(action="skip").pack())
    calls = await harness.press(EDITOR, DraftAct(action="next").pack())
    assert texts(calls) == ["Choose at least one audience: channels, groups or citizens."]
    assert await harness.scalars(select(Post)) == []


async def test_cancel_at_a_step(harness: Harness) -> None:
    await _roles(harness)
    await harness.say(EDITOR, "/newpost")
    await harness.say(EDITOR, "Сәлем")
    calls = await harness.say(EDITOR, "/cancel")
    assert texts(calls) == ["Cancelled. Nothing was saved."]
    calls = await harness.say(EDITOR, "Привет")  # no longer in the dialogue
    assert not any("Send the text" in t for t in texts(calls))
    await harness.say(EDITOR, "/newpost")
    calls = await harness.press(EDITOR, DraftAct(action="cancel").pack())
    assert "Cancelled. Nothing was saved." in texts(calls)
    assert await harness.scalars(select(Post)) == []


# --- /posts --------------------------------------------------------------------------


async def _many(h: Harness, count: int, status: str) -> list[int]:
    async with h.app.session_factory() as session:
        rows = [Post(author_id=EDITOR, status=status, texts={"en": f"Post {i}"},
                     targets={"citizens": ["en"]}) for i in range(count)]
        session.add_all(rows)
        await session.commit()
        return [r.id for r in rows]


async def test_posts_paging_and_actions(harness: Harness) -> None:
    await _roles(harness)
    ids = await _many(harness, 7, "scheduled")
    sent = await _many(harness, 1, "sent")
    calls = await harness.say(EDITOR, "/posts")
    first = calls[0]
    labels = [b.text for row in first.reply_markup.inline_keyboard for b in row]
    assert "7 in all." in first.text
    assert sum(label.startswith("#") for label in labels) == 5
    assert "1 of 2" in labels and "Next ›" in labels
    calls = await harness.press(EDITOR, PostList(tab="upcoming", page=1).pack())
    labels = [b.text for row in calls[0].reply_markup.inline_keyboard for b in row]
    assert [x.split()[0] for x in labels if x.startswith("#")] == [f"#{ids[1]}", f"#{ids[0]}"]

    calls = await harness.press(EDITOR, PostAct(action="cancel", post_id=ids[0]).pack())
    assert f"Post #{ids[0]} is cancelled." in texts(calls)[-1]
    assert harness.publisher.calls == [("unschedule", ids[0])]

    await harness.press(EDITOR, PostAct(action="resched", post_id=ids[1]).pack())
    calls = await harness.say(EDITOR, "every Monday 10:00")
    assert "every Monday at 10:00" in texts(calls)[0]
    assert harness.publisher.calls[-2:] == [("unschedule", ids[1]), ("schedule", ids[1])]

    await harness.press(EDITOR, PostAct(action="lang", post_id=sent[0], value="en").pack())
    calls = await harness.say(EDITOR, "Corrected text")
    assert "Edited in 3 sent messages; 1 could not be edited." in texts(calls)[0]
    assert harness.publisher.calls[-1] == ("edit_published", sent[0])
    calls = await harness.press(EDITOR, PostAct(action="report", post_id=sent[0]).pack())
    assert texts(calls)[-1] == f"<b>Report {sent[0]}</b> sent 10"

    rows = {r.id: r for r in await harness.scalars(select(Post))}
    assert rows[ids[0]].status == "cancelled"
    assert rows[ids[1]].repeat == {"weekdays": [0], "time": "10:00"}
    assert rows[sent[0]].texts == {"en": "Corrected text"}
    actions = [a.action for a in await harness.audit()]
    assert actions == ["post.cancelled", "post.rescheduled", "post.edited"]


async def test_editing_a_scheduled_post_needs_approval_again(harness: Harness) -> None:
    await _roles(harness)
    [pid] = await _many(harness, 1, "scheduled")
    await harness.press(SECOND, PostAct(action="lang", post_id=pid, value="en").pack())
    calls = await harness.say(SECOND, "New text")
    assert "It needs approval again." in texts(calls)[-1]
    [post] = await harness.scalars(select(Post))
    assert post.status == "pending" and post.texts == {"en": "New text"}
    assert harness.publisher.calls == [("unschedule", pid)]
