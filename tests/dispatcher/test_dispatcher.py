"""Dispatcher layer: real Update objects through the real dispatcher with a network-free
session; assert the outgoing API calls and the rows written, on both backends."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from sqlalchemy import select

from bot.factory import App
from localapi.offline import OfflineSession
from storage.models.answers import UnansweredQuestion
from storage.models.people import User as UserRow
from tests.kit import REDIS_URL, OfflineBot, make_settings, seed_content, unavailable
from tests.kit.dispatcher import harness
from tests.kit.updates import press_update, text_update


async def test_start_greets_in_telegram_language_and_offers_others(harness: OfflineBot) -> None:
    [reply] = await harness.feed(text_update(1, "/start", "ru"))
    assert isinstance(reply, SendMessage)
    assert reply.text.startswith("Здравствуйте!")
    labels = [b.text for row in reply.reply_markup.inline_keyboard for b in row]
    assert labels[:1] == ["🛂 Консульские услуги"]
    assert labels[-2:] == ["🇰🇿 Қазақша", "🇬🇧 English"]


async def test_unknown_language_code_gets_english(harness: OfflineBot) -> None:
    [reply] = await harness.feed(text_update(2, "/start", "de"))
    assert reply.text.startswith("Hello!")


async def test_language_choice_is_stored_and_used(harness: OfflineBot) -> None:
    calls = await harness.feed(press_update(3, "l:kk", "en"))
    assert any(isinstance(c, AnswerCallbackQuery) and c.text == "Тіл өзгертілді." for c in calls)
    edit = next(c for c in calls if isinstance(c, EditMessageText))
    assert "қазақша" in edit.text
    rows = await harness.scalars(select(UserRow.language).where(UserRow.id == 3))
    assert rows == ["kk"]
    [menu] = await harness.feed(text_update(3, "/menu", "en"))
    assert menu.reply_markup.inline_keyboard[0][0].text == "🛂 Консулдық қызметтер"


async def test_unanswered_question_is_recorded(harness: OfflineBot) -> None:
    [reply] = await harness.feed(text_update(4, "zxqv wvut plorg", "en"))
    assert "I don't have an answer to that yet" in reply.text
    rows = await harness.scalars(select(UnansweredQuestion))
    assert [(r.user_id, r.text) for r in rows] == [(4, "zxqv wvut plorg")]


async def test_topic_question_is_answered_not_recorded(harness: OfflineBot) -> None:
    [reply] = await harness.feed(text_update(5, "I lost my passport, what do I do?", "en"))
    assert "certificate of return" in reply.text
    assert await harness.scalars(select(UnansweredQuestion)) == []


__all__ = ["harness"]


class Dialogue(StatesGroup):
    waiting = State()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_cancel_clears_state_kept_in_redis(db_url: str) -> None:
    from aiogram.fsm.storage.redis import RedisStorage

    storage = RedisStorage.from_url(REDIS_URL)
    try:
        await storage.redis.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means Redis is not there
        await storage.close()
        unavailable("Redis", exc)
    await seed_content(db_url)
    app = await App.create(make_settings(db_url, redis_url=REDIS_URL))
    session = OfflineSession()
    bot = Bot("42:OFFLINE", session=session)
    dp = app.dispatcher(storage=storage)
    key = StorageKey(bot_id=bot.id, chat_id=6, user_id=6)
    try:
        await FSMContext(storage, key).set_state(Dialogue.waiting)
        await dp.feed_update(bot, text_update(6, "/cancel"))
        assert await storage.get_state(key) is None
        assert session.requests[-1].text.startswith("Cancelled.")
        await dp.feed_update(bot, text_update(6, "/cancel"))
        assert session.requests[-1].text.startswith("There is nothing to cancel.")
    finally:
        keys = [k async for k in storage.redis.scan_iter("fsm:*:6:*")]
        if keys:
            await storage.redis.delete(*keys)
        await storage.close()
        await app.close()
