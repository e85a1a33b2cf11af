"""Every callback query gets an answer, so the person's spinner stops: buttons no router takes
in a group, and buttons on messages sent via inline mode (no chat, only inline_message_id)."""

from __future__ import annotations

import pytest

from tests.kit import RunningBot


@pytest.mark.parametrize(("language", "notice"), [("en", "This button is out of date."),
                                                  ("ru", "Эта кнопка устарела.")])
async def test_a_forged_button_in_a_group_is_answered(running_bot: RunningBot, language: str,
                                                      notice: str) -> None:
    server = running_bot.server
    person = running_bot.person("Dana", language)
    group = server.add_group("Travellers", members=[person.user])
    queries = [await server.press_callback(person.user, 1, data, chat=group)
               for data in ("garbage", "t:no-such-topic:", "n:main:0")]
    await server.wait_for_calls("answerCallbackQuery", count=len(queries), timeout=10)
    answers = server.callback_answers()
    assert [answers[q["id"]]["text"] for q in queries] == [notice] * len(queries)
    assert running_bot.failed_calls() == []


async def test_a_button_on_an_inline_message_is_answered(running_bot: RunningBot) -> None:
    server = running_bot.server
    person = running_bot.person("Dana", "kk")
    query = await server.press_inline_callback(person.user, "AgAAAFoAAAB", "c:DE")
    await server.wait_for_calls("answerCallbackQuery", timeout=10)
    assert server.callback_answers()[query["id"]]["text"] == "Бұл түйме ескірген."
    assert running_bot.failed_calls() == []
