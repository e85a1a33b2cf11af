"""End to end: what a card's footer tells a person — when its facts were last reviewed, and
once, however many of its parts are unverified, where to check them."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.answers.content import load_tree
from bot.shared.translation import fmt_date
from tests.kit import CONTENT, RunningBot

pytestmark = pytest.mark.asyncio


def _long(day: date, lang: str) -> str:
    """The one date style people see (``tests/unit/test_when.py`` pins it down)."""
    return fmt_date(day, lang, ZoneInfo("UTC"))


async def test_card_shows_the_files_review_date_not_the_import_date(
    running_bot: RunningBot,
) -> None:
    bundle = load_tree(CONTENT)
    reviewed = bundle.topics["lost-passport"].reviewed
    country_reviewed = bundle.countries["DE"].reviewed
    today = date.today()
    assert today not in (reviewed, country_reviewed)  # else the test could not tell them apart

    ivan = running_bot.person("Иван", "ru")
    [answer] = await ivan.say("потерял паспорт, что делать?")
    assert f"Обновлено {_long(reviewed, 'ru')}" in answer["text"]
    assert _long(today, "ru") not in answer["text"]

    aigerim = running_bot.person("Айгерім", "kk")
    await aigerim.say("/start")
    countries = await aigerim.press("Елдер")
    germany = await aigerim.press("Германия", countries)
    assert _long(country_reviewed, "kk") in germany["text"]
    assert _long(today, "kk") not in germany["text"]

    john = running_bot.person("John", "en")
    [card] = await john.say("I lost my passport")
    assert f"Updated {_long(reviewed, 'en')}" in card["text"]
    assert running_bot.failed_calls() == []


async def test_unverified_topic_and_country_say_so_once(running_bot: RunningBot) -> None:
    bundle = load_tree(CONTENT)
    topic, country = bundle.topics["work-abroad"], bundle.countries["TR"]
    assert not topic.verified and not country.visa.verified  # both parts are unverified
    assert topic.source.url != country.source.url

    ivan = running_bot.person("Иван", "ru")
    [answer] = await ivan.say("работа в Турции, как устроиться легально")
    text = answer["text"]
    assert "Турция" in text  # the country's part is in the answer
    assert text.count("Не проверено") == 1
    for url in (topic.source.url, country.source.url):
        assert url.removeprefix("https://") in text  # each source is still pointed to
    assert running_bot.failed_calls() == []
