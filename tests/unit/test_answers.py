"""The answer service on its own (no Telegram): what a typed question gets back."""

from __future__ import annotations

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.answers.analysis import Analysis
from bot.answers.service import AnswerService, Kind
from bot.answers.store import ContentStore
from bot.shared.tghtml import quote
from bot.travel.alert_board import Board
from storage.models.base import utcnow
from storage.publishing.posts import AlertDTO
from tests.kit import CONTENT


@pytest.fixture(scope="module")
def store() -> ContentStore:
    return ContentStore.from_files(CONTENT)


@pytest.fixture
def board() -> Board:
    return Board()


@pytest.fixture
def answers(store: ContentStore, board: Board) -> AnswerService:
    return AnswerService(store, ZoneInfo("Asia/Almaty"), board)


def _alert(expires_in: timedelta) -> AlertDTO:
    return AlertDTO(id=1, author_id=1, status="sent", country="TR", severity="leave_now",
                    texts={"en": "🚨 <b>Leave Turkey now</b>", "kk": "🚨", "ru": "🚨"},
                    expires_at=utcnow() + expires_in, approved_by=2)


def test_typed_country_card_shows_a_new_alert_and_drops_an_expired_one(
    answers: AnswerService, board: Board,
) -> None:
    before = answers.answer("Turkey", lang="en")
    assert before.kind == Kind.COUNTRY
    assert "Leave Turkey now" not in before.screen.html

    board.replace([_alert(timedelta(hours=1))])
    during = answers.answer("Turkey", lang="en")
    assert during.screen.html.startswith("🚨 <b>Leave Turkey now</b>")

    board.replace([_alert(timedelta(hours=-1))])
    after = answers.answer("Turkey", lang="en")
    assert "Leave Turkey now" not in after.screen.html


def test_unknown_question_answers_in_the_reading_language(answers: AnswerService) -> None:
    reply = answers.answer("qwzx ЖЖЖ ƛƛƛ xyzzy plugh", fallback="ru")
    assert reply.kind == Kind.UNKNOWN
    assert reply.unanswered
    assert reply.screen.html.startswith("Извините, ответа на этот вопрос у меня пока нет.")


@pytest.mark.parametrize("reader", ["kk", "ru"])
def test_a_short_question_either_language_could_be_is_answered_in_the_readers(
    answers: AnswerService, reader: str
) -> None:
    """«апостиль» is a Kazakh word as much as a Russian one: the person's language decides."""
    reply = answers.answer("апостиль", fallback=reader)
    assert (reply.lang, reply.analysis.topic) == (reader, "legalization-apostille")
    title = answers.store.topics["legalization-apostille"].title.get(reader)
    assert html.escape(title, quote=False) in reply.screen.html


def test_answer_json_shape(answers: AnswerService) -> None:
    data = answers.answer("Как продлить паспорт в Германии?").to_json()
    assert (data["lang"], data["topic"], data["country"]) == ("ru", "passport-renewal", "DE")
    assert "Германия" in data["answer"]
    assert all(isinstance(s, str) for s in data["alternatives"])


def _labels(reply_screen) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.text for row in reply_screen.buttons for b in row]


@pytest.mark.parametrize(("question", "lead", "title", "numbers"), [
    ("Ағам Түркияда қайтыс болды, не істеймін?", "death-abroad",
     "Азамат шетелде қайтыс болса", "<b>112</b>"),
    ("Брата задержали в Германии, что делать?", "emergency-help",
     "Экстренная помощь за границей", "<b>112</b>"),
    ("My son was injured in an accident in Turkey", "emergency-help",
     "Emergency help abroad", "<b>112</b>"),
])
def test_an_emergency_leads_with_its_card_and_the_countrys_numbers_first(
    answers: AnswerService, question: str, lead: str, title: str, numbers: str
) -> None:
    reply = answers.answer(question)
    assert reply.kind == Kind.ANSWER and reply.analysis.topic == lead
    html = reply.screen.html
    assert html.startswith(f"<b>{title}</b>")
    body = answers.store.topics[lead].body.get(reply.lang)
    assert html.index(numbers) < html.index(body[:40])  # the numbers come before the advice
    country = answers.store.countries[reply.analysis.country or ""]
    assert country.emergency.general and country.emergency.general in numbers
    sites = [m.website for m in country.missions if m.website]
    assert sites and all(f'href="{quote(site)}"' in html for site in sites)  # official pages


def test_the_other_matched_topic_follows_an_emergency_as_a_button(
    answers: AnswerService,
) -> None:
    plain = answers.answer("I lost my passport in Turkey")
    assert plain.analysis.topic == "lost-passport" and plain.analysis.urgent is None
    reply = answers.answer("I lost my passport in Turkey and my flight is tomorrow")
    assert reply.analysis.topic == "emergency-help"
    assert reply.analysis.alternatives[0] == "lost-passport"
    first_row = reply.screen.buttons[0]
    assert [b.text for b in first_row] == ["Passport lost or stolen"]
    assert first_row[0].data == "t:lost-passport:TR"
    assert _labels(reply.screen).count("Passport lost or stolen") == 1


@pytest.mark.parametrize(("question", "asked", "choices"), [
    ("паспорт", "Что ближе к вашему случаю?", ["Истёк срок или испорчен", "Утерян или украден"]),
    ("төлқұжат", "Сіздің жағдайыңызға қайсысы жақын?",
     ["Мерзімі бітті немесе бүлінді", "Жоғалды немесе ұрланды"]),
    ("passport", "Which is closer to your case?", ["Expired or damaged", "Lost or stolen"]),
])
def test_close_topics_are_asked_back_with_one_button_each(
    answers: AnswerService, question: str, asked: str, choices: list[str]
) -> None:
    reply = answers.answer(question)
    assert reply.kind == Kind.UNSURE
    assert reply.screen.html == asked
    labels = _labels(reply.screen)
    assert labels[:2] == choices and len(labels) == 3  # two topics and the menu
    assert reply.screen.buttons[0][0].data == f"ab:passport-renewal::{reply.lang}"


def test_a_chosen_topic_is_answered_for_the_country_asked_about(
    answers: AnswerService,
) -> None:
    asked = answers.answer("passport Germany")
    assert asked.kind == Kind.UNSURE
    assert asked.screen.buttons[1][0].data == "ab:lost-passport:DE:en"
    card = answers.chosen("lost-passport", "DE", "en")
    assert card is not None
    assert card.html.startswith("<b>Passport lost or stolen</b>") and "Germany" in card.html
    assert answers.chosen("no-such-topic", "", "en") is None
    assert answers.chosen("lost-passport", "ZZ", "en") is None


@pytest.mark.parametrize(("question", "lang", "country", "visa"), [
    ("visa Germany", "en", "Germany", "🛂 <b>Visa:</b> required"),
    ("виза в Германию", "ru", "Германия", "🛂 <b>Виза:</b>"),
    ("Германияға виза", "kk", "Германия", "🛂 <b>Виза:</b>"),
    ("Germaniyaga viza", "kk", "Германия", "🛂 <b>Виза:</b>"),
])
def test_a_visa_keyword_question_puts_the_countrys_visa_line_on_top(
    answers: AnswerService, question: str, lang: str, country: str, visa: str
) -> None:
    reply = answers.answer(question)
    assert (reply.kind, reply.lang, reply.analysis.topic) == (
        Kind.ANSWER, lang, "visa-for-citizens")
    title = answers.store.topics["visa-for-citizens"].title.get(lang)
    head, _, rest = reply.screen.html.partition("\n\n")
    assert head == f"<b>{title}</b>"
    assert rest.startswith(f"🇩🇪 <b>{country}</b>\n\n{visa}")
    body = answers.store.topics["visa-for-citizens"].body.get(lang)
    assert rest.index(visa) < rest.index(body[:40])


@pytest.mark.parametrize("question", [
    "What should I know about Germany?", "Что нужно знать о Германии?",
    "Германия туралы не білу керек?",
])
def test_a_question_naming_only_a_country_shows_its_card(
    answers: AnswerService, question: str
) -> None:
    reply = answers.answer(question)
    assert reply.kind == Kind.COUNTRY and reply.analysis.country == "DE"
    assert reply.screen.html.startswith("🇩🇪")


def test_a_lone_unsure_topic_is_asked_about_with_one_button(answers: AnswerService) -> None:
    """Built from an analysis rather than typed text, so the topic model's scores may change
    without changing what this checks."""
    weak = Analysis("en", "appointment", "DE", 0.3, (), None)
    assert weak.unsure
    reply = answers.reply_to("how to book apointment embasy berlin", weak)
    assert reply.kind == Kind.UNSURE
    assert reply.screen.html == "Is this what you are asking about?"
    assert _labels(reply.screen) == ["I need an appointment", "🏠 Menu"]
    assert reply.screen.buttons[0][0].data == "ab:appointment:DE:en"
