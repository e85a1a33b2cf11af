"""Bad input over real HTTP: each gets a clear, localized reply or is ignored on purpose,
nothing escapes as an exception, and the bot keeps answering afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models.answers import UnansweredQuestion
from tests.kit import Conversation, RunningBot

pytestmark = pytest.mark.asyncio


async def _still_answers(person: Conversation) -> None:
    [reply] = await person.say("/help")
    assert "/menu" in reply["text"]


@pytest.mark.parametrize("text", ["   ", "😀😀😀", "🇰🇿 🙏", "...", "12345"])
async def test_text_without_words_gets_a_prompt(running_bot: RunningBot, text: str) -> None:
    anna = running_bot.person("Anna", "ru")
    [reply] = await anna.say(text)
    assert "напишите вопрос словами" in reply["text"]
    await _still_answers(anna)


async def test_ten_thousand_characters(running_bot: RunningBot) -> None:
    anna = running_bot.person("Anna", "en")
    [reply] = await anna.say("passport " * 1100)
    assert reply["text"]
    assert len(reply["text"]) <= 4096
    await _still_answers(anna)


async def test_mixed_script_gibberish_is_recorded_as_unanswered(running_bot: RunningBot) -> None:
    anna = running_bot.person("Anna", "en")
    [reply] = await anna.say("qwzx ЖЖЖ ƛƛƛ xyzzy plugh фывапр")
    assert "I don't have an answer to that yet" in reply["text"]
    assert anna.buttons(reply) == ["🏠 Menu", "📞 Reach a person"]
    rows = await running_bot.eventually(select(UnansweredQuestion.text))
    assert rows == ["qwzx ЖЖЖ ƛƛƛ xyzzy plugh фывапр"]


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        ("send_sticker", "Мен тек мәтінді оқи аламын"),
        ("send_photo", "Мен тек мәтінді оқи аламын"),
        ("send_voice", "Мен тек мәтінді оқи аламын"),
    ],
)
async def test_media_where_text_was_expected(running_bot: RunningBot, send: str,
                                             expected: str) -> None:
    person = running_bot.person("Дәурен", "kk")
    server = running_bot.server
    server.mark(person.user)
    await getattr(server, send)(person.user)
    [reply] = await server.wait_for_messages(person.user, timeout=10)
    assert expected in reply["text"]
    await _still_answers(person)


async def test_location_is_explained(running_bot: RunningBot) -> None:
    person = running_bot.person("Sam", "en")
    server = running_bot.server
    server.mark(person.user)
    await server.send_location(person.user, 41.0, 29.0)
    [reply] = await server.wait_for_messages(person.user, timeout=10)
    assert "Type the name of the country" in reply["text"]


async def test_unknown_command(running_bot: RunningBot) -> None:
    person = running_bot.person("Sam", "en")
    [reply] = await person.say("/teleport now")
    assert "I don't know that command" in reply["text"]
    assert "/menu" in reply["text"]


@pytest.mark.parametrize(
    "data",
    ["t:no-such-topic:", "c:ZZ", "n:nowhere:0", "l:de", "garbage", "t:" + "x" * 50, "n:main:abc"],
)
async def test_forged_or_stale_buttons(running_bot: RunningBot, data: str) -> None:
    person = running_bot.person("Sam", "en")
    [help_] = await person.say("/help")
    server = running_bot.server
    server.mark(person.user)
    await server.press_callback(person.user, help_["message_id"], data)
    [shown] = await server.wait_for_messages(person.user, timeout=10)
    assert shown["message_id"] == help_["message_id"]
    assert "What would you like to know?" in shown["text"]
    notices = [c.params.get("text") for c in server.calls_for("answerCallbackQuery")]
    assert notices == ["This button is out of date. Here is the menu."]
    assert running_bot.failed_calls() == []


async def test_flood_is_answered_once_then_ignored(running_bot: RunningBot) -> None:
    person = running_bot.person("Sam", "en")
    server = running_bot.server
    server.mark(person.user)
    for i in range(12):
        await server.send_message(person.user, f"/help {i}")
    replies = await server.wait_for_messages(person.user, count=9, timeout=15)
    slow_down = [r for r in replies if "writing very fast" in r["text"]]
    assert len(slow_down) == 1
    with pytest.raises(TimeoutError):
        await server.wait_for_messages(person.user, count=1, timeout=1.5)
    sent = [m for m in server.messages(person.user) if m["outgoing"]]
    assert len(sent) == 9  # eight answers, one "slow down", then silence
