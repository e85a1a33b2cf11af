"""The right mission: a question or card that names a city or region shows the mission that
serves it first, in kk/ru/en; a several-mission country's card asks "Where are you?"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.answers.content import ContentErrors, load_tree
from bot.answers.store import ContentStore
from bot.places.service import PlaceIndex
from tests.kit import CONTENT, RunningBot

SEVERAL = ("AE", "CN", "DE", "KG", "MN", "RU", "SA", "TR", "US", "UZ")


def _missions_in_order(text: str, cities: list[str]) -> list[str]:
    """The given mission cities in the order the text shows them."""
    return sorted((c for c in cities if c in text), key=text.index)


def test_every_several_mission_country_says_where_each_mission_serves() -> None:
    bundle = load_tree(CONTENT)
    several = sorted(iso for iso, c in bundle.countries.items() if len(c.missions) > 1)
    assert several == sorted(SEVERAL)
    for iso in several:
        for mission in bundle.countries[iso].missions:
            assert mission.serves is not None, mission.id
            for lang in ("kk", "ru", "en"):
                assert mission.serves.cities.get(lang) or mission.serves.regions.get(lang)


@pytest.mark.parametrize(("text", "mission"), [
    ("паспорт в Мюнхене", "de-frankfurt"),
    ("Мюнхенде паспорт жоғалды", "de-frankfurt"),
    ("lost my passport in Munich", "de-frankfurt"),
    ("Kazan'da pasport", "ru-kazan"),
    ("консульский учёт в Казани", "ru-kazan"),
    ("в Санкт-Петербурге", "ru-saint-petersburg"),
    ("passport in Los Angeles", "us-san-francisco"),
    ("Нью-Йоркта тұрамын", "us-new-york"),
    ("в Дубае", "ae-dubai"),
    ("Оште", "kg-osh"),
])
def test_a_named_place_finds_the_mission_serving_it(text: str, mission: str) -> None:
    index = PlaceIndex.build(load_tree(CONTENT).countries)
    place = index.find(text)
    assert place is not None and place.mission_id == mission


@pytest.mark.parametrize("text", [
    "ошибка в паспорте",  # «Ош» is not the start of every word
    "қазан айында паспорт аламын",  # «қазан» is October too
    "елшіліктің мекенжайы",  # an address, not «Мекке» with an ending
    "лесные пожары рядом с отелем",  # «рядом» is not «Риядом»
    "I lost my passport last night",
    "Никто не отвечает в консульстве",
    "паспорт в Берлине",  # a one-mission city of no other country: found, but Berlin
])
def test_everyday_words_are_not_places(text: str) -> None:
    place = PlaceIndex.build(load_tree(CONTENT).countries).find(text)
    assert place is None or place.mission_id == "de-berlin"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    return root


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_city_served_by_two_missions_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)

    def both_serve_munich(data: dict) -> None:  # type: ignore[type-arg]
        data["missions"][0]["serves"]["cities"]["ru"].append("Мюнхен")

    _edit(root / "countries" / "de.yaml", both_serve_munich)
    with pytest.raises(ContentErrors) as err:
        load_tree(root)
    assert "de-berlin: serves: cities: 'Мюнхен' is served by de-frankfurt too" in str(err.value) \
        or "de-frankfurt: serves: cities: 'Мюнхен' is served by de-berlin too" in str(err.value)


def test_serves_needs_every_language_and_every_mission(tmp_path: Path) -> None:
    root = _copy(tmp_path)

    def no_kazakh(data: dict) -> None:  # type: ignore[type-arg]
        data["missions"][0]["serves"]["cities"]["kk"] = []
        data["missions"][0]["serves"]["regions"]["kk"] = []

    def no_serves(data: dict) -> None:  # type: ignore[type-arg]
        del data["missions"][1]["serves"]

    _edit(root / "countries" / "de.yaml", no_kazakh)
    _edit(root / "countries" / "tr.yaml", no_serves)
    with pytest.raises(ContentErrors) as err:
        load_tree(root)
    text = str(err.value)
    assert "de.yaml: missions.0.serves: no region or city for kk" in text
    assert "tr-istanbul: serves: required where a country has several missions" in text


def test_card_puts_the_chosen_mission_first() -> None:
    from zoneinfo import ZoneInfo

    from bot.answers.cards import country_card
    from bot.shared.translation import use_language
    from bot.travel.alert_board import Board

    store = ContentStore.from_files(CONTENT)
    with use_language("en"):
        plain = country_card(store, "DE", "en", ZoneInfo("UTC"), board=Board())
        chosen = country_card(store, "DE", "en", ZoneInfo("UTC"), "de-frankfurt", board=Board())
    cities = ["Berlin", "Frankfurt am Main"]
    assert _missions_in_order(plain.html, cities) == cities
    assert _missions_in_order(chosen.html, cities) == ["Frankfurt am Main", "Berlin"]
    assert "Where are you?" in plain.html and "Where are you?" not in chosen.html


@pytest.mark.parametrize(("lang", "question", "first", "second"), [
    ("ru", "потерял паспорт в Мюнхене", "Франкфурт-на-Майне", "Берлин"),
    ("kk", "Мюнхенде паспортымды жоғалттым", "Франкфурт-на-Майне", "Берлин"),
    ("en", "I lost my passport in Los Angeles", "San Francisco", "Washington"),
])
@pytest.mark.asyncio
async def test_a_question_naming_a_city_shows_its_consulate_first(
    running_bot: RunningBot, lang: str, question: str, first: str, second: str,
) -> None:
    person = running_bot.person("Asker", lang)
    [reply] = await person.say(question)
    text = reply["text"]
    if first not in text:  # an unsure answer: its country button opens the mission's card
        labels = person.buttons(reply)
        country = next(label for label in labels if label.startswith("🇩🇪")
                       or label.startswith("🇺🇸"))
        text = (await person.press(country, reply))["text"]
    assert _missions_in_order(text, [first, second]) == [first, second]
    assert running_bot.failed_calls() == []


@pytest.mark.parametrize(("lang", "countries", "germany", "where", "region", "first"), [
    ("kk", "Елдер", "Германия", "Қай жердесіз?", "Гессен", "Франкфурт-на-Майне"),
    ("ru", "Страны", "Германия", "Где вы находитесь?", "Гессен", "Франкфурт-на-Майне"),
    ("en", "Countries", "Germany", "Where are you?", "Hesse", "Frankfurt am Main"),
])
@pytest.mark.asyncio
async def test_country_card_asks_where_you_are(
    running_bot: RunningBot, lang: str, countries: str, germany: str, where: str,
    region: str, first: str,
) -> None:
    person = running_bot.person("Traveller", lang)
    await person.say("/start")
    listing = await person.press(countries)
    card = await person.press(germany, listing)
    assert where in card["text"]
    assert card["text"].index("Берлин" if lang != "en" else "Berlin") < card["text"].index(first)
    chosen = await person.press(region, card)
    assert where not in chosen["text"]
    berlin = "Берлин" if lang != "en" else "Berlin"
    assert chosen["text"].index(first) < chosen["text"].index(berlin)
    assert running_bot.failed_calls() == []


@pytest.mark.parametrize("data", ["cm:de-nowhere", "cm:DROP TABLE", "cm:", "cm:zz-x",
                                  "aa:ZZ:0", "aa:DE:-1", "aa:DE:x"])
@pytest.mark.asyncio
async def test_a_forged_mission_or_archive_button_is_refused_politely(
    running_bot: RunningBot, data: str,
) -> None:
    person = running_bot.person("Forger", "en")
    [card] = await person.say("Germany")
    server = running_bot.server
    server.mark(person.user)
    await server.press_callback(person.user, card["message_id"], data)
    [shown] = await server.wait_for_messages(person.user, timeout=10)
    assert "What would you like to know?" in shown["text"]
    notices = [c.params.get("text") for c in server.calls_for("answerCallbackQuery")]
    assert notices == ["This button is out of date. Here is the menu."]
    assert running_bot.failed_calls() == []
