"""Feedback on answers through the real dispatcher: 👍/👎 rows, reasons, free text, forgery."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import select

from storage.models.feedback import Feedback, QuestionLog
from tests.kit import OfflineBot
from tests.kit.dispatcher import harness
from tests.kit.updates import press_update, text_update

__all__ = ["harness"]


def _labels(reply: SendMessage) -> list[str]:
    return [b.text for row in reply.reply_markup.inline_keyboard for b in row]


def _data(reply: SendMessage, label: str) -> str:
    return next(b.callback_data for row in reply.reply_markup.inline_keyboard for b in row
                if b.text == label)


async def test_thumbs_down_with_a_reason_and_free_text(harness: OfflineBot) -> None:
    [answer] = await harness.feed(text_update(21, "I lost my passport, what do I do?"))
    assert "certificate of return" in answer.text
    assert {"👍", "👎"} <= set(_labels(answer))
    [logged] = await harness.scalars(select(QuestionLog))
    assert (logged.user_id, logged.lang, logged.kind, logged.topic) == \
        (21, "en", "answer", "lost-passport")

    calls = await harness.feed(press_update(21, _data(answer, "👎")))
    reasons = next(c for c in calls if isinstance(c, SendMessage))
    assert reasons.text == "Sorry it did not help. What was missing?"
    assert _labels(reasons) == ["❓ Wrong topic", "🕰 Outdated", "🔍 Not enough detail",
                                "✏️ Something else"]
    await harness.feed(press_update(21, _data(reasons, "✏️ Something else")))
    [thanks] = await harness.feed(text_update(21, "what if I have no ID at all"))
    assert thanks.text == "Thank you: the editors will see it."
    [row] = await harness.scalars(select(Feedback))
    assert (row.question_id, row.helpful, row.reason, row.comment, row.topic) == \
        (logged.id, False, "other", "what if I have no ID at all", "lost-passport")

    again = await harness.feed(press_update(21, _data(answer, "👍")))
    assert any(isinstance(c, AnswerCallbackQuery) and "already" in (c.text or "") for c in again)


async def test_someone_elses_or_forged_vote_is_refused(harness: OfflineBot) -> None:
    [answer] = await harness.feed(text_update(22, "How do I renew my passport abroad?"))
    up = _data(answer, "👍")
    calls = await harness.feed(press_update(23, up))  # another person presses it
    assert any(isinstance(c, AnswerCallbackQuery) and c.show_alert for c in calls)
    await harness.feed(press_update(22, "fb:99999:up"))
    await harness.feed(press_update(22, "fb:1:hack"))
    assert await harness.scalars(select(Feedback)) == []
    await harness.feed(press_update(22, up))
    [row] = await harness.scalars(select(Feedback))
    assert row.helpful is True and row.user_id == 22
