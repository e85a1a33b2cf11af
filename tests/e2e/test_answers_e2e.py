"""End to end through the local Bot API server, in Kazakh, Russian and English: emergencies
come first with the country's numbers, close topics are asked back with buttons, and a
keyword question about a country's visa shows that country's visa line on top."""

from __future__ import annotations

import pytest

from bot.answers.content import load_tree
from tests.kit import CONTENT, RunningBot

pytestmark = pytest.mark.asyncio


async def test_an_urgent_question_leads_with_emergency_help_and_the_countrys_numbers(
    running_bot: RunningBot,
) -> None:
    turkey = load_tree(CONTENT).countries["TR"]
    number = turkey.emergency.general
    assert number  # the numbers shown come from the country's file
    site = next(m.website for m in turkey.missions if m.website)

    aigerim = running_bot.person("Айгерім", "kk")
    [kk] = await aigerim.say("Інім Түркияда апатқа ұшырады, ауруханада жатыр")
    assert kk["text"].startswith("Шетелдегі төтенше жағдай\n\n🇹🇷 Түркия\n\n🚑 Шұғыл нөмірлер:")
    assert number in kk["text"].split("\n\n")[2]

    ivan = running_bot.person("Иван", "ru")
    [ru] = await ivan.say("Отец умер в Турции, что делать?")
    assert ru["text"].startswith("Смерть гражданина за границей\n\n🇹🇷 Турция\n\n🚑")
    assert number in ru["text"].split("\n\n")[2]
    assert any(e.get("url") == site for e in ru.get("entities", [])), "the mission's page"

    john = running_bot.person("John", "en")
    [en] = await john.say("I lost my passport in Turkey and my flight home is tomorrow")
    assert en["text"].startswith("Emergency help abroad\n\n🇹🇷 Türkiye\n\n🚑 Emergency numbers:")
    assert john.buttons(en)[0] == "Passport lost or stolen"  # what else it matched follows
    lost = await john.press("Passport lost or stolen", en)
    assert lost["text"].startswith("Passport lost or stolen")
    assert "Türkiye" in lost["text"]
    assert running_bot.failed_calls() == []


@pytest.mark.parametrize(("lang", "question", "asked", "pick", "title"), [
    ("kk", "төлқұжат", "Сіздің жағдайыңызға қайсысы жақын?", "Жоғалды немесе ұрланды",
     "Төлқұжат жоғалды немесе ұрланды"),
    ("ru", "паспорт", "Что ближе к вашему случаю?", "Истёк срок или испорчен",
     "Замена и получение нового паспорта"),
    ("en", "passport Germany", "Which is closer to your case?", "Lost or stolen",
     "Passport lost or stolen"),
])
async def test_close_topics_are_asked_back_and_the_chosen_one_answered(
    running_bot: RunningBot, lang: str, question: str, asked: str, pick: str, title: str,
) -> None:
    person = running_bot.person("Dana", lang)
    [question_reply] = await person.say(question)
    assert question_reply["text"] == asked
    labels = person.buttons(question_reply)
    assert len(labels) == 3 and pick in labels  # two topics and the menu
    card = await person.press(pick, question_reply)
    assert card["message_id"] == question_reply["message_id"]  # the question becomes the answer
    assert card["text"].startswith(title)
    if "Germany" in question:
        assert "🇩🇪 Germany" in card["text"]  # for the country the question named
    assert running_bot.failed_calls() == []


async def test_forged_ask_back_buttons_are_refused_in_the_persons_language(
    running_bot: RunningBot,
) -> None:
    server = running_bot.server
    ivan = running_bot.person("Иван", "ru")
    [asked] = await ivan.say("паспорт")
    for count, data in enumerate(["ab:no-such-topic::ru", "ab:lost-passport:ZZ:ru"], start=1):
        await server.press_callback(ivan.user, asked["message_id"], data)
        await server.wait_for_calls("answerCallbackQuery", count=count, timeout=10)
    notices = [c.params.get("text") for c in server.calls_for("answerCallbackQuery")]
    assert notices == ["Этот вариант больше недоступен. Пожалуйста, напишите вопрос ещё раз."] * 2
    assert server.calls_for("editMessageText") == []  # the question stays as it was
    assert running_bot.failed_calls() == []


@pytest.mark.parametrize(("lang", "question", "title", "visa"), [
    ("en", "visa Germany", "Visas for Kazakhstan citizens travelling abroad",
     "🇩🇪 Germany\n\n🛂 Visa: required"),
    ("ru", "виза в Германию", "Визы для граждан Казахстана", "🇩🇪 Германия\n\n🛂 Виза: требуется"),
    ("kk", "Германияға виза", "Қазақстан азаматтарына шетелге виза",
     "🇩🇪 Германия\n\n🛂 Виза: қажет"),
])
async def test_a_visa_keyword_question_shows_the_countrys_visa_line_on_top(
    running_bot: RunningBot, lang: str, question: str, title: str, visa: str,
) -> None:
    person = running_bot.person("Dana", lang)
    [answer] = await person.say(question)
    assert answer["text"].startswith(f"{title}\n\n{visa}")
    assert running_bot.failed_calls() == []


async def test_the_chosen_card_is_in_the_questions_language_not_the_readers(
    running_bot: RunningBot,
) -> None:
    john = running_bot.person("John", "en")
    [asked] = await john.say("паспорт")
    assert asked["text"] == "Что ближе к вашему случаю?"
    card = await john.press("Утерян или украден", asked)
    assert card["text"].startswith("Паспорт утерян или украден")
    assert any("Меню" in label for label in john.buttons(card))
    assert running_bot.failed_calls() == []
