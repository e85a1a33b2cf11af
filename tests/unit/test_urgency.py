"""Urgency cues: every kind of emergency in Kazakh (Kazakh letters, plain Cyrillic, Latin),
Russian and English, and the look-alikes that are not emergencies."""

from __future__ import annotations

import pytest
import yaml

from bot.answers import urgency
from bot.answers.store import ContentStore
from bot.answers.urgency import (
    ACCIDENT,
    ARREST,
    DEATH,
    DISASTER,
    MISSING,
    STRANDED,
    VIOLENCE,
    assess,
    urgent_topic,
)
from tests.kit import CONTENT, DATA

# (category, script, question): each category in kk Cyrillic, kk without the Kazakh
# letters, kk Latin, ru (with the typos people make) and en.
URGENT = [
    (DEATH, "kk", "Ағам Түркияда қайтыс болды, не істеуім керек?"),
    (DEATH, "kk-plain", "агам Туркияда кайтыс болды не истеу керек"),
    (DEATH, "kk-latin", "agam Turkiyada qaitys boldy, ne isteu kerek"),
    (DEATH, "kk-latin", "akem Germaniyada kaitys boldy"),
    (DEATH, "kk", "Әкеміз Кореяда жол апатында қаза тапты"),
    (DEATH, "ru", "Мой отец умер в Германии, что делать?"),
    (DEATH, "ru", "отец скончался в турции как перевезти тело"),
    (DEATH, "ru", "брат погиб в Дубае"),
    (DEATH, "en", "My father passed away in Germany, what do I do?"),
    (DEATH, "en", "my brother died in Turkey yesterday"),
    (DEATH, "en", "How do I register a death abroad?"),
    (ARREST, "kk", "Інімді Дубайда полиция ұстап алды"),
    (ARREST, "kk-plain", "улымды полиция устап алды"),
    (ARREST, "kk-latin", "ulymdy politsiya ustap aldy, ne isteimiz"),
    (ARREST, "kk-latin", "bauyrymdy Turkiyada ustady"),
    (ARREST, "ru", "брата задержали в Дубае"),
    (ARREST, "ru", "мужа арестовали в Турции"),
    (ARREST, "ru", "полиция забрала сына в Стамбуле"),
    (ARREST, "en", "My son was arrested in Turkey"),
    (ARREST, "en", "my husband is detained at the airport in Dubai"),
    (ACCIDENT, "kk", "Інім Түркияда апатқа ұшырады"),
    (ACCIDENT, "kk-plain", "анам ауруханада жатыр, Германияда"),
    (ACCIDENT, "kk-latin", "bauyrym apatka ushyrady"),
    (ACCIDENT, "kk-latin", "anam auruhanada jatyr"),
    (ACCIDENT, "ru", "попал в ДТП в Грузии"),
    (ACCIDENT, "ru", "мама в больнице в Турции, что делать"),
    (ACCIDENT, "ru", "сын попал в аварию"),
    (ACCIDENT, "en", "I had a car accident in Spain"),
    (ACCIDENT, "en", "my wife was injured and is in hospital in Thailand"),
    (VIOLENCE, "kk", "Мені Стамбулда ұрып кетті"),
    (VIOLENCE, "kk-latin", "soqqy jedim, komek kerek"),
    (VIOLENCE, "kk-latin", "meni urip ketti"),
    (VIOLENCE, "ru", "меня избили в Стамбуле"),
    (VIOLENCE, "ru", "муж бьёт меня, домашнее насилие"),
    (VIOLENCE, "ru", "дочь похитили"),
    (VIOLENCE, "en", "my friend was assaulted in Rome"),
    (VIOLENCE, "en", "my daughter was kidnapped"),
    (MISSING, "kk", "Ұлым Кореяда хабарсыз кетті"),
    (MISSING, "kk-plain", "улым хабарсыз кетти"),
    (MISSING, "kk-latin", "ulym zhogalyp ketti"),
    (MISSING, "kk-latin", "qyzym joghalyp ketti, telefon almaidy"),
    (MISSING, "ru", "сын пропал в Турции, не выходит на связь"),
    (MISSING, "ru", "дочь не выходит на связь третий день"),
    (MISSING, "en", "my brother is missing in Thailand"),
    (STRANDED, "kk", "Төлқұжатымды ұрлап кетті, ақшам жоқ"),
    (STRANDED, "kk-latin", "tolqujatymdy urlap ketti, aqsham joq"),
    (STRANDED, "ru", "у меня украли паспорт, завтра рейс"),
    (STRANDED, "ru", "меня ограбили, нет денег"),
    (STRANDED, "en", "passport stolen, flight tomorrow and no money"),
    (STRANDED, "en", "I was robbed in Rome"),
    (DISASTER, "kk", "Түркияда жер сілкінісі болды, біз сондамыз"),
    (DISASTER, "ru", "В Турции землетрясение, как эвакуироваться?"),
    (DISASTER, "en", "There was an earthquake, how do we evacuate?"),
]

NOT_URGENT = [
    "Төлқұжатым жоғалып кетті, жаңасын қалай аламын?",  # a lost passport, no distress
    "tolqujatym zhogalyp ketti",
    "паспорт пропал",
    "потерял паспорт что делать",
    "my passport went missing",
    "I lost my passport, how do I get a new one?",
    "how to renew my passport in Germany",
    "visa Germany",
    "виза в Германию",
    "Hello, how are you?",
    "what is the weather today",
    "напиши стих о Казахстане",
    "Какой климат в Казахстане, умеренный?",  # умеренный is not умер
    "Abai died in 1904",  # history: a year long past, nobody's relative
    "When did Abylai Khan die?",
    "Когда умер Абылай хан?",
    "Абай қашан қайтыс болды? Ол ақын ғой",
    "How many people died in the famine of 1932?",
    "Is there a death penalty in Kazakhstan?",
    "В Казахстане есть смертная казнь?",
    "Қазақстанда өлім жазасы бар ма?",
    "Смертность в Казахстане",
]


@pytest.mark.parametrize(("category", "script", "question"), URGENT)
def test_each_emergency_is_found_in_each_language(
    category: str, script: str, question: str
) -> None:
    assert category in assess(question), script


@pytest.mark.parametrize("question", NOT_URGENT)
def test_look_alikes_are_not_emergencies(question: str) -> None:
    assert assess(question) == frozenset()
    assert urgency.detect(question) is None


def test_a_death_leads_with_death_abroad_and_everything_else_with_emergency_help() -> None:
    assert urgent_topic({DEATH, ACCIDENT}) == "death-abroad"
    assert urgency.detect("брат погиб в аварии") == "death-abroad"
    assert urgency.detect("брата задержали в Дубае") == "emergency-help"
    assert urgent_topic(set()) is None


def test_a_relative_who_died_long_ago_is_still_a_death() -> None:
    assert urgency.detect("my grandfather died in 1991, I need his death certificate") == (
        "death-abroad")


@pytest.fixture(scope="module")
def store() -> ContentStore:
    return ContentStore.from_files(CONTENT)


@pytest.mark.parametrize(("question", "urgent", "country"), [
    ("Ағам Түркияда қайтыс болды", "death-abroad", "TR"),
    ("Брата задержали в Германии", "emergency-help", "DE"),
    ("I lost my passport in Turkey and my flight is tomorrow", "emergency-help", "TR"),
    ("I lost my passport in Turkey", None, "TR"),
])
def test_the_analysis_reports_the_urgent_topic(
    store: ContentStore, question: str, urgent: str | None, country: str
) -> None:
    a = store.index.analyze(question)
    assert (a.urgent, a.country) == (urgent, country)


def test_on_the_development_set_every_urgent_question_leads_with_an_urgent_topic(
    store: ContentStore,
) -> None:
    """tests/data/questions_styles.yaml marks its urgent questions: each one leads with
    emergency help or death abroad, and no question about anything else raises the alarm."""
    items = yaml.safe_load((DATA / "questions_styles.yaml")
                           .read_text(encoding="utf-8"))
    urgent_topics = {"emergency-help", "death-abroad"}
    missed, alarms, urgent = [], [], 0
    for item in items:
        a = store.index.analyze(item["q"])
        if item.get("urgent"):
            urgent += 1
            if (a.urgent or a.topic) not in urgent_topics:
                missed.append(item["q"])
        elif a.urgent and item.get("topic") not in urgent_topics:
            alarms.append(item["q"])
    assert urgent >= 40
    assert missed == []
    assert alarms == []
