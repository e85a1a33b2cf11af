"""End to end: the real bot long-polls the local Bot API server over HTTP, on SQLite and
PostgreSQL, and people hold conversations with it in Kazakh, Russian and English."""

from __future__ import annotations

import pytest

from tests.kit import RunningBot

pytestmark = pytest.mark.asyncio


async def test_kazakh_conversation(running_bot: RunningBot) -> None:
    aigerim = running_bot.person("Айгерім", "kk")

    [hello] = await aigerim.say("/start")
    assert "Сәлем" in hello["text"]
    labels = aigerim.buttons(hello)
    assert "🛂 Консулдық қызметтер" in labels
    assert "🇷🇺 Русский" in labels and "🇬🇧 English" in labels  # offers to switch

    consular = await aigerim.press("Консулдық қызметтер")
    assert consular["edited"] and consular["message_id"] == hello["message_id"]
    assert "Төлқұжат жоғалды немесе ұрланды" in aigerim.buttons(consular)

    card = await aigerim.press("Төлқұжат жоғалды")
    assert "Қазақстан Республикасына қайтуға арналған куәлік" in card["text"]
    assert card["message_id"] == hello["message_id"]

    [answer] = await aigerim.say("Түркияда төлқұжатымды жоғалтып алдым, не істеймін?")
    assert "қайтуға арналған куәлік" in answer["text"]
    assert "Түркия" in answer["text"]  # the country's specifics are added
    assert "112" in answer["text"] or "155" in answer["text"]
    assert running_bot.failed_calls() == []


async def test_russian_conversation_with_countries(running_bot: RunningBot) -> None:
    ivan = running_bot.person("Иван", "ru")

    [hello] = await ivan.say("/start")
    assert "Здравствуйте" in hello["text"]
    countries = await ivan.press("Страны")
    assert "Страны" in countries["text"]
    assert any("Германия" in label for label in ivan.buttons(countries))

    germany = await ivan.press("Германия")
    assert "🇩🇪" in germany["text"] and "Германия" in germany["text"]
    assert "Виза" in germany["text"] and "112" in germany["text"]
    assert "Берлин" in germany["text"]
    assert "⚠️" in germany["text"]  # unverified facts are marked with a pointer to the source

    [visa] = await ivan.say("нужна ли виза в Германию?")
    assert "Германия" in visa["text"]
    assert "шенген" in visa["text"].lower()
    assert running_bot.failed_calls() == []


async def test_english_conversation_language_switch_and_deep_link(running_bot: RunningBot) -> None:
    john = running_bot.person("John", "en")

    [hello] = await john.say("/start")
    assert hello["text"].startswith("Hello")

    switched = await john.press("Қазақша")
    assert "қазақша" in switched["text"].lower()
    [menu] = await john.say("/menu")
    assert "🛂 Консулдық қызметтер" in john.buttons(menu)

    [card] = await john.say("/start country_AE")
    assert "🇦🇪" in card["text"]
    [topic] = await john.say("/start topic_lost-passport")
    assert "Төлқұжат жоғалды" in topic["text"]


async def test_question_answered_in_its_own_language(running_bot: RunningBot) -> None:
    john = running_bot.person("John", "en")
    [answer] = await john.say("Как продлить паспорт за границей?")
    assert "паспорт" in answer["text"].lower()
    assert "Menu" not in " ".join(john.buttons(answer))
    assert any("Меню" in label for label in john.buttons(answer))


async def test_commands_are_set_per_language(running_bot: RunningBot) -> None:
    server = running_bot.server
    kk = {c["command"]: c["description"] for c in server.commands("all_private_chats", "kk")}
    ru = {c["command"]: c["description"] for c in server.commands("all_private_chats", "ru")}
    en = {c["command"]: c["description"] for c in server.commands("all_private_chats", "en")}
    assert set(kk) == set(ru) == set(en) == {
        "menu", "trip", "mytrips", "alerts", "officer", "subscribe", "my_data", "forget_me",
        "language", "help", "cancel", "case", "book", "appointments",
    }
    assert en["menu"] == "Main menu"
    assert ru["menu"] == "Главное меню"
    assert kk["menu"] != en["menu"]


@pytest.mark.parametrize(("start", "press", "said", "menu_button", "old_button"), [
    ("ru", "English", "I will now speak English", "🛂 Consular services", "Консульские услуги"),
    ("en", "Қазақша", "қазақша сөйлесемін", "🛂 Консулдық қызметтер", "Consular services"),
    ("kk", "Русский", "по-русски", "🛂 Консульские услуги", "Консулдық қызметтер"),
])
async def test_language_choice_changes_the_whole_reply_and_what_follows(
        running_bot: RunningBot, start: str, press: str, said: str, menu_button: str,
        old_button: str) -> None:
    person = running_bot.person("Dana", start)
    [chooser] = await person.say("/language")
    switched = await person.press(press, chooser)
    assert said in switched["text"]
    labels = person.buttons(switched)
    assert menu_button in labels  # the menu under the confirmation is in the new language
    assert not any(old_button in label for label in labels)
    [menu] = await person.say("/menu")
    assert menu_button in person.buttons(menu)
    [helped] = await person.say("/help")
    assert helped["text"] != "" and not any(old_button in b for b in person.buttons(helped))
    assert running_bot.failed_calls() == []
