"""Unit tests of the question analyzer on the real content store."""

from __future__ import annotations

import time

import pytest

from bot.answers.search import Analysis, QuestionIndex, detect_language
from bot.answers.store import ContentStore
from bot.shared.textnorm import key, latin_to_cyrillic, tokenize
from tests.kit import CONTENT, ROOT

CACHE = ROOT / "data" / "cache"


@pytest.fixture(scope="module")
def index() -> QuestionIndex:
    """The analyzer the bot answers with: the index and the topic model trained on the
    content's examples."""
    store = ContentStore.from_files(CONTENT, cache_dir=CACHE)
    assert store.index.model is not None
    return store.index


# --- normalisation ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Төлқұжат", "толкужат"),
        ("tölqūjat", "төлқұжат"),
        ("joghaldy", "жоғалды"),
        ("zhogaldy", "жоғалды"),
        ("şetelde", "шетелде"),
        ("Qalai", "қалай"),
        ("Ёлка", "елка"),
        ("pasportymdy", "паспортымды"),
        ("Turtsiya", "Турция"),
        ("Turciya", "Турция"),
    ],
)
def test_keys_meet_across_scripts(a: str, b: str) -> None:
    assert key(a) == key(b)


def test_transliteration_digraphs() -> None:
    assert latin_to_cyrillic("shetelde") == "шетелде"
    assert latin_to_cyrillic("kh") == "х"
    assert latin_to_cyrillic("mening") == "менин"


def test_tokenize_joins_initialisms_and_marks_hyphens() -> None:
    tokens = tokenize("Visa to the U.S.A. or БАӘ-ге?")
    assert [t.raw for t in tokens] == ["Visa", "to", "the", "USA", "or", "БАӘ", "ге"]
    assert tokens[-1].hyphen
    assert not tokens[-2].hyphen
    assert tokens[0].latin == "visa"
    assert tokens[-1].latin == ""


def test_tokens_carry_their_script_and_lowercase() -> None:
    tokens = tokenize("Visa ВИЗА Vиза Ελλάδα")
    assert [t.lower for t in tokens] == ["visa", "виза", "vиза", "ελλάδα"]
    assert [t.cyrillic for t in tokens] == [False, True, True, False]
    assert [t.latin for t in tokens] == ["visa", "", "", ""]


def test_every_one_word_country_name_is_found_on_its_own(index: QuestionIndex) -> None:
    """The matcher skips words by their first letters and lengths: no name may be lost."""
    matcher = index._countries
    ambiguous = ("казан", "катар")
    cyrillic = [
        k
        for k in matcher.single
        if len(k) >= 4 and key(k) == k and not k.startswith(ambiguous)  # typeable keys
    ]
    latin = [w for w in matcher.single_latin if w not in ("kazan", "qatar")]
    assert len(cyrillic) > 100 and len(latin) > 100
    missed = [w for w in cyrillic + latin if not matcher.find(tokenize(w.upper()))]
    assert missed == []


# --- language --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Төлқұжатымды жоғалттым, не істеу керек?", "kk"),
        ("Елшілік қайда орналасқан?", "kk"),
        ("Паспортымды жогалттым не истеу керек", "kk"),
        ("Туркияга виза керек па", "kk"),
        ("консулдык есепке калай турамын", "kk"),
        ("pasportymdy joghaldy, qalai bolady?", "kk"),
        ("Shetelde elshilikke qalai jazylamyn", "kk"),
        ("Tölqūjatymdy qaida auystyramyn?", "kk"),
        ("Я потерял паспорт, что делать?", "ru"),
        ("Нужна ли виза в Турцию", "ru"),
        ("как продлить паспорт за границей", "ru"),
        ("I lost my passport in Germany", "en"),
        ("Do I need a visa for Turkey?", "en"),
        ("hello", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_detect_language_without_words_defaults_to_english() -> None:
    assert detect_language("") == "en"
    assert detect_language("👍🙏 123 ?!") == "en"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Паспортымды жогалттым не истеу керек", "kk"),
        ("Я потерял паспорт, что делать?", "ru"),
        ("pasportymdy joghaldy", "kk"),
        ("my passport was stolen", "en"),
    ],
)
def test_index_detects_language(index: QuestionIndex, text: str, lang: str) -> None:
    assert index.analyze(text).lang == lang


def test_given_language_skips_detection(index: QuestionIndex) -> None:
    assert index.analyze("паспорт", lang="kk").lang == "kk"


# --- countries ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("нужна ли виза в Турцию", "TR"),
        ("потерял паспорт в Германии", "DE"),
        ("как вернуться из Китая", "CN"),
        ("безопасно ли отдыхать в Египте", "EG"),
        ("Түркияда паспортым жоғалды", "TR"),
        ("Қытайға виза керек пе", "CN"),
        ("Ресейден қалай қайтамын", "RU"),
        ("БАӘ-ге виза керек пе", "AE"),
        ("АҚШ-қа виза", "US"),
        ("do I need a visa for the UAE", "AE"),
        ("moving to the States", "US"),
        ("embassy in the U.S.", "US"),
        ("is the US embassy open", "US"),
        ("visa to USA", "US"),
        ("Germaniyada pasportymdy joghaltyp aldym", "DE"),
        ("Is it safe to travel to Georgia?", "GE"),
        ("Грузия", "GE"),
        ("учеба в Южной Корее", "KR"),
        ("жить в Объединённых Арабских Эмиратах", "AE"),
        ("жить в Арабских Эмиратах", "AE"),
    ],
)
def test_country(index: QuestionIndex, text: str, iso: str | None) -> None:
    assert index.analyze(text).country == iso


@pytest.mark.parametrize(
    "text",
    [
        "can you help us",
        "tell us what to do",
        "Ирина потеряла паспорт",
        "мало времени, нужен паспорт",
        "ok thanks",
    ],
)
def test_no_country_false_positive(index: QuestionIndex, text: str) -> None:
    assert index.analyze(text).country is None


def test_destination_preferred_over_origin(index: QuestionIndex) -> None:
    assert index.analyze("лечу из Германии в Турцию, нужна виза?").country == "TR"


def test_find_countries_prefixes(index: QuestionIndex) -> None:
    assert index.find_countries("герм")[0] == "DE"
    assert index.find_countries("түрк")[0] == "TR"
    assert index.find_countries("emir")[0] == "AE"
    assert index.find_countries("Германии")[0] == "DE"
    assert index.find_countries("south kor")[0] == "KR"
    assert index.find_countries("") == []
    assert len(index.find_countries("а", limit=3)) <= 3


# --- topics ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "topic", "iso"),
    [
        ("нужна ли виза в Турцию", "visa-for-citizens", "TR"),
        ("is it safe to go to Egypt", "travel-advisory", "EG"),
        ("Я потерял паспорт в Германии", "lost-passport", "DE"),
        ("Паспортымды жоғалттым, не істеу керек?", "lost-passport", None),
        ("pasportymdy joghaldy qalai bolady", "lost-passport", None),
        ("my passport was stolen", "lost-passport", None),
        ("Как продлить паспорт в США?", "passport-renewal", "US"),
        ("How do I renew my passport?", "passport-renewal", None),
        ("срок паспорта истёк", "passport-renewal", None),
        ("төлқұжатты ауыстыру", "passport-renewal", None),
        ("где поставить апостиль", "legalization-apostille", None),
        ("how to register the birth of my child abroad", "civil-registration", None),
    ],
)
def test_clear_topics(index: QuestionIndex, text: str, topic: str, iso: str | None) -> None:
    a = index.analyze(text)
    assert (a.topic, a.country) == (topic, iso)
    assert topic not in a.alternatives
    assert 0.0 <= a.confidence <= 1.0


def test_country_alone_gives_no_topic(index: QuestionIndex) -> None:
    a = index.analyze("Грузия")
    assert (a.topic, a.country, a.smalltalk) == (None, "GE", None)


def test_lost_and_renewal_are_told_apart(index: QuestionIndex) -> None:
    assert index.analyze("потерял паспорт").topic == "lost-passport"
    assert index.analyze("продлить паспорт").topic == "passport-renewal"
    assert index.analyze("lost passport").topic == "lost-passport"
    assert index.analyze("renew passport").topic == "passport-renewal"


def test_generic_word_alone_is_unsure(index: QuestionIndex) -> None:
    a = index.analyze("паспорт")
    assert a.topic is None or a.unsure
    if a.topic:
        assert len(a.alternatives) >= 1


def test_alternatives_are_distinct_and_at_most_three(index: QuestionIndex) -> None:
    a = index.analyze("документы паспорт виза консульство")
    assert len(a.alternatives) <= 3
    assert len(set(a.alternatives)) == len(a.alternatives)
    assert a.topic not in a.alternatives


def test_nonsense_gives_no_topic(index: QuestionIndex) -> None:
    assert index.analyze("qwzx vbnm").topic is None


# --- small talk ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", "greeting"),
        ("Hello!", "greeting"),
        ("сәлем", "greeting"),
        ("Сәлеметсіз бе", "greeting"),
        ("Здравствуйте", "greeting"),
        ("добрый день", "greeting"),
        ("спасибо", "thanks"),
        ("рахмет", "thanks"),
        ("Көп рахмет!", "thanks"),
        ("thank you very much", "thanks"),
        ("пока", "bye"),
        ("сау болыңыз", "bye"),
        ("goodbye", "bye"),
        ("who are you?", "identity"),
        ("кто ты", "identity"),
        ("сен кімсің", "identity"),
        ("ok", "ack"),
        ("понятно", "ack"),
        ("түсінікті", "ack"),
    ],
)
def test_smalltalk(index: QuestionIndex, text: str, kind: str) -> None:
    a = index.analyze(text)
    assert (a.smalltalk, a.topic) == (kind, None)
    assert not a.unsure


def test_question_after_greeting_is_a_question(index: QuestionIndex) -> None:
    a = index.analyze("Здравствуйте, я потерял паспорт")
    assert (a.topic, a.smalltalk) == ("lost-passport", None)


# --- robustness ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   ", "👍", "🇹🇷🇹🇷", "???", "12345"])
def test_empty_and_emoji_only(index: QuestionIndex, text: str) -> None:
    assert index.analyze(text) == Analysis("en", None, None, 0.0, (), None)


def test_emoji_only_keeps_given_language(index: QuestionIndex) -> None:
    assert index.analyze("🙏", lang="kk").lang == "kk"


def test_very_long_input(index: QuestionIndex) -> None:
    text = "Я потерял паспорт в Германии. " * 400
    assert len(text) > 10_000
    start = time.perf_counter()
    a = index.analyze(text)
    assert time.perf_counter() - start < 0.5
    assert (a.lang, a.topic, a.country) == ("ru", "lost-passport", "DE")
    assert index.find_countries(text) is not None


def test_mixed_script_and_layout(index: QuestionIndex) -> None:
    a = index.analyze("Пaспорт (with Latin a) lost в Turkey 🇹🇷!!")
    assert a.country == "TR"
    mixed = index.analyze("pasport жоғалды")
    assert mixed.topic == "lost-passport"


def test_analysis_is_frozen(index: QuestionIndex) -> None:
    a = index.analyze("hi")
    with pytest.raises(AttributeError):
        a.topic = "x"  # type: ignore[misc]


# --- nationality words, cities, out of scope -----------------------------------------------
@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("I'm a British citizen, do I need a visa?", "GB"),
        ("do Americans need a visa", "US"),
        ("my wife is Egyptian", "EG"),
        ("a Czech university diploma", "CZ"),
        ("Turkish airlines lost my bag", "TR"),
        ("у меня американский паспорт", "US"),
        ("турецкого гражданина", "TR"),
        ("немецкий вид на жительство", "DE"),
        ("китайская виза", "CN"),
        ("қытайлық студент", "CN"),
        ("Түркиядамын, анықтама керек", "TR"),
        ("Angliyadamyn, senimhat kerek", "GB"),
        ("кореядамын", "KR"),
    ],
)
def test_nationality_and_where_i_am(index: QuestionIndex, text: str, iso: str) -> None:
    assert index.analyze(text).country == iso


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("we live in Toronto", "CA"),
        ("stolen in barcelona", "ES"),
        ("в Новосибирске", "RU"),
        ("Бангкокта ауруханадамын", "TH"),
        ("Seoul", "KR"),
        ("Ташкентте тұрамын", "UZ"),
        ("in Texas", "US"),
        ("в Казани", "RU"),
        ("Катарда жұмыс істеймін", "QA"),
    ],
)
def test_cities_name_their_country(index: QuestionIndex, text: str, iso: str) -> None:
    assert index.analyze(text).country == iso


@pytest.mark.parametrize(
    "text",
    [
        "Қазан айында демалысқа шығамын",  # October
        "қазанда ет асамыз",  # cauldron
        "кезекте бірінші қатарда тұрмын",  # a row
        "what language do they speak there, russian or kazakh",
        "I speak Chinese and English",
        "is there a male doctor",
    ],
)
def test_place_word_false_positives(index: QuestionIndex, text: str) -> None:
    assert index.analyze(text).country is None


def test_nationality_is_not_a_trip_abroad(index: QuestionIndex) -> None:
    """A foreigner coming to Kazakhstan is not a question about their country as a place."""
    a = index.analyze("my husband is German, does he need a visa to come to Kazakhstan")
    assert (a.topic, a.country) == ("visa-to-kazakhstan", "DE")


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather in Astana tomorrow",
        "погода в Алматы на выходные",
        "ертең Алматыда ауа райы қандай",
        "курс доллара на сегодня",
        "теңге курсы қанша",
        "book me a flight to Dubai",
        "сколько стоит билет до Стамбула",
        "recommend a restaurant in Seoul",
    ],
)
def test_out_of_scope_gets_no_topic(index: QuestionIndex, text: str) -> None:
    assert index.analyze(text).topic is None


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("how do I book an appointment at the embassy", "appointment"),
        ("lost my passport and my plane ticket in Rome", "lost-passport"),
        ("stuck at the airport, flight cancelled, no money for a hotel", "emergency-help"),
    ],
)
def test_in_scope_despite_out_of_scope_words(index: QuestionIndex, text: str, topic: str) -> None:
    assert index.analyze(text).topic == topic


@pytest.mark.parametrize(("text", "lang"), [("Tailand", "kk"), ("Thailand", "en")])
def test_country_name_alone_tells_kazakh_latin(index: QuestionIndex, text: str, lang: str) -> None:
    assert index.analyze(text).lang == lang


@pytest.mark.parametrize("text", ["qalaisyn", "салем калайсын", "hi, how are you"])
def test_how_are_you_is_a_greeting(index: QuestionIndex, text: str) -> None:
    a = index.analyze(text)
    assert (a.smalltalk, a.topic) == ("greeting", None)


# --- inflected names, short keyword questions, Kazakh without its letters --------------------
@pytest.mark.parametrize(
    ("text", "iso"),
    [
        # a soft sign before the case ending (Анталья → Анталье, Антальи, Аланье)
        ("потерял паспорт в Анталье", "TR"),
        ("из Антальи звоню, украли паспорт", "TR"),
        ("мы сейчас в Аланье", "TR"),
        # a name whose first word is short (Эр-Рияд)
        ("паспорт украли в Эр-Рияде", "SA"),
        ("Эр-Риядта тұрамын", "SA"),
        # Kazakh typed without its letters: ә as э, і as и, ғ as г, and к voiced to г
        ("Бириккен Араб Эмирлигине барамын", "AE"),
        ("Біріккен Араб Әмірлігіне барамын", "AE"),
        ("Бириккен Араб Эмирликтерине", "AE"),
        ("Эмирликтерге барамыз", "AE"),
        ("Эзирбайжанга барамын", "AZ"),
        ("Мэскеуде паспортымды жогалттым", "RU"),
        ("Онтустик Кореяга барамын", "KR"),
    ],
)
def test_inflected_and_plainly_typed_names(index: QuestionIndex, text: str, iso: str) -> None:
    assert index.analyze(text).country == iso


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("visa Germany", "DE"),
        ("Germany visa", "DE"),
        ("виза Германия", "DE"),
        ("Германия виза", "DE"),
        ("Германияға виза", "DE"),
        ("Japan visa", "JP"),
        ("visa for Korea", "KR"),
        ("Italy visa", "IT"),
        ("виза Турция", "TR"),
        ("виза в Японию", "JP"),
        ("Жапония виза", "JP"),
        ("Италия виза керек пе", "IT"),
        ("Туркияга виза керекпе", "TR"),
        ("Эзирбайжанга виза керекпе", "AZ"),
        ("Бириккен Араб Эмирлигине барамын, виза керекпе", "AE"),
    ],
)
def test_visa_with_a_country_is_the_visa_answer(index: QuestionIndex, text: str, iso: str) -> None:
    """A country fills the slot of keyword phrases like "US visa"; its name is no evidence
    for any topic, and "visa for Kazakhstan citizens" is not about Kazakhstan as a place."""
    a = index.analyze(text)
    assert (a.topic, a.country) == ("visa-for-citizens", iso)
    assert not a.unsure


def test_country_slot_keeps_other_topics(index: QuestionIndex) -> None:
    assert index.analyze("работа в Германии").topic == "work-abroad"
    assert index.analyze("lost passport Turkey").topic == "lost-passport"


def test_glued_question_particle_is_a_function_word(index: QuestionIndex) -> None:
    """«керекпе» is «керек пе», not a word that extends «Керей» (a khan of the history page)."""
    glued = index.analyze("Туркияга виза керекпе")
    apart = index.analyze("Туркияга виза керек пе")
    assert glued.topic == apart.topic == "visa-for-citizens"
