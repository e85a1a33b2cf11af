"""Editors teach the bot, end to end through the local Bot API server: questions it could not
answer and a 👎, taught from the weekly digest and from /unanswered, are answered right the
next time (kk, ru, en); out of scope makes the next ask "not understood"; the role gate and
forged buttons; a restart keeps what was taught; /forget_me keeps the example, unlinked;
``content export`` / ``import`` round-trip the taught examples."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.answers.service import AnswerService
from bot.answers.store import load_store
from bot.answers.teach import Teacher, export_taught, import_taught, read_taught
from bot.answers.topic_model import CACHE_NAME
from bot.config import Settings
from bot.feedback.stats import build_digest, digest_week
from bot.officer.jobs import send_digests
from bot.shared.middlewares import FloodMiddleware
from localapi import LocalBotAPI
from storage.answers import TeachRepo
from storage.db import create_engine, create_session_factory
from storage.models.answers import TaughtExample
from storage.models.base import utcnow
from storage.models.feedback import QuestionLog
from storage.models.people import AuditEntry
from tests.kit import Conversation, RunningBot, Started, seed_content, start_bot

LEARNING = 240.0  # seconds a retraining may take on a busy machine (an event is awaited)
TOPIC = "document-reclaiming"
QUESTIONS = {  # the bot cannot answer these before it is taught
    "kk": "зейнетақы аударымдарымды қалай тексеремін",
    "ru": "где найти родословную прадеда",
    "en": "how do I check my pension contributions",
}
OFF_TOPIC = "регистрация в фитнес клубе"  # answered with a topic, then 👎
OFF_TOPIC_ANSWER = "consular-registration"


@pytest_asyncio.fixture
async def started(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Started, Conversation]]:
    """The bot, with a model cache of its own: teaching replaces the cached model, which
    would make the next bot of the suite train again; it starts from the shared one."""
    cache = _own_cache(tmp_path)
    async with LocalBotAPI() as server:
        editor = server.add_user(first_name="Editor", language_code="en")
        async with start_bot(db_url, server, admin_ids=(editor.id,), cache_dir=cache,
                             dispatcher={"flood": FloodMiddleware(limit=1000)}) as s:
            yield s, Conversation(server, editor)


def _title(s: Started, lang: str, slug: str = TOPIC) -> str:
    return str(s.app.store.topics[slug].title.get(lang))


def _labels(conv: Conversation, message: dict[str, Any]) -> list[str]:
    return conv.buttons(message)


REPORTS = ("🎓", "The example is saved")


def _reports(conv: Conversation) -> list[str]:
    texts = (m.get("text") or "" for m in conv.server.messages(conv.user))
    return [t for t in texts if t.startswith(REPORTS)]


async def _learned(conv: Conversation, count: int) -> list[str]:
    """Wait for ``count`` "learned" reports, whenever they came (each is a new message;
    they may arrive while the editor is still pressing through the list)."""
    deadline = asyncio.get_running_loop().time() + LEARNING
    while len(_reports(conv)) < count:
        remaining = deadline - asyncio.get_running_loop().time()
        with contextlib.suppress(TimeoutError):
            await conv.server.wait_for_messages(conv.user, timeout=max(remaining, 0.01))
        if remaining <= 0:
            break
    return _reports(conv)


async def _press(editor: Conversation, label: str, message: dict[str, Any]) -> dict[str, Any]:
    """Press and return the list's next screen, skipping a "learned" report that the
    background training may send in between."""
    got = await editor.press(label, message)
    while (got.get("text") or "").startswith(REPORTS):
        [got] = await editor.server.wait_for_messages(editor.user, timeout=LEARNING)
    return got


async def _pick(editor: Conversation, item: dict[str, Any], title: str) -> dict[str, Any]:
    """"Another topic…" → the consular section → the topic."""
    sections = await _press(editor, "Another topic", item)
    assert _labels(editor, sections) == ["🛂 Consular services", "🇰🇿 About Kazakhstan",
                                         "‹ Back"]
    topics = await _press(editor, "Consular services", sections)
    return await _press(editor, title, topics)


async def test_taught_from_the_digest_and_the_list_is_answered_next_time(
        started: tuple[Started, Conversation]) -> None:
    s, editor = started
    server = s.server
    citizens = {lang: Conversation(server, server.add_user(first_name=f"C{lang}",
                                                          language_code=lang))
                for lang in QUESTIONS}
    first: dict[str, str] = {}
    for lang, question in QUESTIONS.items():
        [reply] = await citizens[lang].say(question)
        assert not reply["text"].startswith(_title(s, lang))
        first[lang] = reply["text"]
    ru = citizens["ru"]
    [answered] = await ru.say(OFF_TOPIC)
    assert answered["text"].startswith(_title(s, "ru", OFF_TOPIC_ANSWER))
    await ru.press("👎", answered)

    # The Monday digest: nothing taught yet, and a button that opens the list.
    await editor.say("/start")
    monday = _next_monday(s)
    server.mark(editor.user)
    sent = await send_digests(s.bot, s.app.session_factory, s.settings, s.app.store,
                              s.app.i18n, now=monday)
    assert list(sent) == [editor.user.id]
    [digest] = await server.wait_for_messages(editor.user)
    assert "Questions taught to the bot this week: 0" in digest["text"]
    item = await editor.press("Teach the bot (4 questions)", digest)
    assert server.messages(editor.user)[-2]["text"] == digest["text"]  # the digest stays

    # Newest first: the 👎'd answer, filed as out of scope.
    assert "1 of 4" in item["text"] and OFF_TOPIC in item["text"]
    assert f"👎 on the answer “{_title(s, 'en', OFF_TOPIC_ANSWER)}”" in item["text"]
    labels = _labels(editor, item)
    assert len([b for b in labels if b.startswith("📌 ")]) == 3
    assert f"📌 {_title(s, 'en', OFF_TOPIC_ANSWER)}" not in labels  # the answer it got
    assert {"🗂 Another topic…", "🚫 Out of scope", "Older ▶"} <= set(labels)
    item = await _press(editor, "Out of scope", item)
    assert item["text"].startswith(f"✅ Taught: “{OFF_TOPIC}” is out of scope.")
    assert "1 of 3" in item["text"] and QUESTIONS["en"] in item["text"]
    item = await _pick(editor, item, _title(s, "en"))
    assert "1 of 2" in item["text"] and QUESTIONS["ru"] in item["text"]

    # The rest from /unanswered.
    [item] = await editor.say("/unanswered")
    assert item["text"].startswith("Teach the bot · 1 of 2")
    assert "❓ The bot did not understand it" in item["text"]
    item = await _pick(editor, item, _title(s, "en"))
    assert "1 of 1" in item["text"] and QUESTIONS["kk"] in item["text"]
    done = await _pick(editor, item, _title(s, "en"))
    assert done["text"].endswith("Nothing to teach: every recent question was answered or has "
                                 "been taught.")

    reports = await _learned(editor, 4)
    assert all(r.startswith("🎓") for r in reports), reports
    assert f"🎓 Learned: “{QUESTIONS['kk']}” is now answered with {_title(s, 'en')}." in reports
    assert f"🎓 Learned: “{OFF_TOPIC}” is now treated as out of scope." in reports

    # Asked again: answered, in each language; the off-topic question is not understood.
    for lang, question in QUESTIONS.items():
        [reply] = await citizens[lang].say(question)
        assert reply["text"].startswith(_title(s, lang)), (lang, reply["text"])
    [again] = await ru.say(OFF_TOPIC)
    assert again["text"] == first["ru"]

    rows = await _rows(s, select(TaughtExample).order_by(TaughtExample.id))
    assert [(r.lang, r.topic, r.taught_by) for r in rows] == [
        ("ru", None, editor.user.id), ("en", TOPIC, editor.user.id),
        ("ru", TOPIC, editor.user.id), ("kk", TOPIC, editor.user.id)]
    assert all(r.source_question_id for r in rows)
    audit = await _rows(s, select(AuditEntry).where(AuditEntry.action == "example.taught")
                        .order_by(AuditEntry.id))
    assert [(a.actor_id, a.allowed, (a.details or {}).get("topic")) for a in audit] == [
        (editor.user.id, True, None)] + [(editor.user.id, True, TOPIC)] * 3

    # The week's digest counts them.
    _week, since, until = digest_week(monday, s.settings.tz)
    async with s.app.session_factory() as session:
        assert (await build_digest(session, since, until)).taught == 4

    # A restart keeps what was taught.
    from bot.factory import App

    again_app = await App.create(s.settings)
    try:
        assert len(again_app.store.taught) == 4
        reply = AnswerService(again_app.store, s.settings.tz).answer(QUESTIONS["kk"])
        assert reply.analysis.topic == TOPIC
    finally:
        await again_app.close()

    # /forget_me: the example stays (content the editor made), no longer linked to the asker.
    en = citizens["en"]
    [shown] = await en.say("/my_data")
    assert "1 of your questions were filed under a topic by an editor" in shown["text"]
    [ask] = await en.say("/forget_me")
    erased = await en.press("Yes, erase everything", ask)
    assert ("Your questions the bot was taught with: kept as examples, no longer linked to you "
            "(1)") in erased["text"]
    rows = await _rows(s, select(TaughtExample).order_by(TaughtExample.id))
    assert len(rows) == 4 and rows[1].source_question_id is None
    assert rows[1].text == QUESTIONS["en"]
    assert [c for c in _failed(s)] == []


async def test_only_editors_teach_and_forged_buttons_are_refused(
        started: tuple[Started, Conversation]) -> None:
    s, editor = started
    server = s.server
    citizen = Conversation(server, server.add_user(first_name="Dana", language_code="kk"))
    await citizen.say(QUESTIONS["kk"])
    [qid] = await RunningBot(s).eventually(select(QuestionLog.id))
    ru_citizen = Conversation(server, server.add_user(first_name="Ivan", language_code="ru"))

    [refused] = await citizen.say("/unanswered")
    assert refused["text"].startswith("Кешіріңіз, бұл тек министрлік редакторларына арналған.")
    await ru_citizen.say("/start")
    await editor.say("/start")
    queries = [await server.press_callback(who.user, 1, data) for who, data in (
        (citizen, f"te:t:{qid}:{TOPIC}"), (ru_citizen, f"te:o:{qid}:"),
        (editor, "te:t:999999:lost-passport"), (editor, f"te:t:{qid}:no-such-topic"),
        (editor, "te:t:x:y"), (editor, "te:n:0:-1"))]
    await server.wait_for_calls("answerCallbackQuery", count=len(queries), timeout=10)
    answers = server.callback_answers()
    got = [answers[q["id"]].get("text") for q in queries]
    assert got[0].startswith("Кешіріңіз, бұл тек министрлік редакторларына арналған.")
    assert got[1].startswith("Извините, это доступно только редакторам министерства.")
    assert got[2] == "This question is no longer on the list."
    assert got[3] == "This button is no longer valid."
    assert got[4:] == ["This button is out of date."] * 2  # malformed: refused, no traceback
    assert await _rows(s, select(TaughtExample)) == []
    refusals = await _rows(s, select(AuditEntry).where(AuditEntry.allowed.is_(False)))
    assert {a.actor_id for a in refusals} >= {citizen.user.id, ru_citizen.user.id}
    assert _failed(s) == []

    # The editor can still teach it afterwards: nothing forged reached the list.
    [item] = await editor.say("/unanswered")
    assert "1 of 1" in item["text"] and QUESTIONS["kk"] in item["text"]


@pytest.mark.asyncio
async def test_export_and_import_round_trip_the_taught_examples(db_url: str,
                                                                tmp_path: Path) -> None:
    await seed_content(db_url)
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        taught = [("паспорт жоғалса не істеу керек", "kk", "lost-passport"),
                  ("стих про осень", "ru", None), ("visa Germany", "en", "visa-for-citizens")]
        async with factory() as session, session.begin():
            for text, lang, topic in taught:
                await TeachRepo(session).add(text, lang, topic, 7)
        assert await export_taught(factory, tmp_path) == 3
        assert [(i.text, i.lang, i.topic) for i in read_taught(tmp_path)] == taught
        report = await import_taught(factory, tmp_path, {"lost-passport", "visa-for-citizens"})
        assert (report.added, report.unchanged) == (0, 3)  # nothing doubled

        async with factory() as session, session.begin():
            for row in await session.scalars(select(TaughtExample)):
                await session.delete(row)
        report = await import_taught(factory, tmp_path, {"lost-passport"})
        assert (report.added, report.unknown_topic) == (2, ["visa-for-citizens"])
        async with factory() as session:
            rows = await TeachRepo(session).all()
        assert [(r.text, r.lang, r.topic, r.taught_by) for r in rows] == [
            ("паспорт жоғалса не істеу керек", "kk", "lost-passport", None),
            ("стих про осень", "ru", None, None)]
    finally:
        await engine.dispose()


def test_a_bad_taught_file_is_refused_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "taught.yaml").write_text("examples:\n- text: hi there\n  lang: de\n",
                                          encoding="utf-8")
    with pytest.raises(ValueError, match=r"taught\.yaml.*unknown language 'de'"):
        read_taught(tmp_path)


async def test_examples_taught_through_another_process_are_learned_once(
        sqlite_url: str, tmp_path: Path) -> None:
    await seed_content(sqlite_url)
    engine = create_engine(sqlite_url)
    factory = create_session_factory(engine)
    try:
        store = await load_store(factory, _own_cache(tmp_path))
        teacher = Teacher(store, factory)
        assert await teacher.sync() == 0
        async with factory() as session, session.begin():  # as another process would
            await TeachRepo(session).add(QUESTIONS["ru"], "ru", TOPIC, 7)
        assert AnswerService(store, UTC_ZONE).answer(QUESTIONS["ru"]).analysis.topic != TOPIC
        assert await teacher.sync() == 1
        assert await teacher.sync() == 0  # nothing learned twice
        assert store.taught == ((QUESTIONS["ru"], "ru", TOPIC),)
        assert AnswerService(store, UTC_ZONE).answer(QUESTIONS["ru"]).analysis.topic == TOPIC
    finally:
        await engine.dispose()


# --- helpers ------------------------------------------------------------------------------


UTC_ZONE = ZoneInfo("UTC")


def _own_cache(tmp_path: Path) -> Path:
    """A model cache of this test's own, starting from the shared one."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shared = Settings.model_fields["cache_dir"].default / CACHE_NAME
    if shared.exists():
        shutil.copy(shared, cache / CACHE_NAME)
    return cache


def _next_monday(s: Started) -> datetime:
    local = utcnow().astimezone(s.settings.tz)
    days = (7 - local.weekday()) % 7 or 7
    return (local + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


async def _rows(s: Started, query: Any) -> list[Any]:
    return await RunningBot(s).scalars(query)


def _failed(s: Started) -> list[str]:
    return RunningBot(s).failed_calls()
