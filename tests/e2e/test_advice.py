"""Advice that says what changed, end to end: the card shows when the advice was last
reviewed and what changed; a level change at ``content import`` reaches the country's
followers and travellers (and nobody else) as the change, not the whole card, each in their
language; a country's past alerts are listed from its card, newest first."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import yaml
from sqlalchemy import select

from bot.answers.content import load_tree
from bot.answers.store import import_content
from bot.shared.translation import fmt_date
from bot.travel.trips import local_today
from storage.models.base import utcnow
from storage.models.people import User
from storage.models.publishing import Post
from storage.models.travel import CountryFollow, Trip
from tests.e2e.travel_kit import TravelBot, travel_bot
from tests.kit import CONTENT

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url):
        yield running


NOTES = {
    "kk": "Шекара маңындағы өңірлерде жағдай шиеленісті; сапарды қайта қараңыз.",
    "ru": "Обстановка в приграничных районах обострилась; пересмотрите планы поездки.",
    "en": "Tension has risen in the border areas; reconsider your travel plans.",
}


def _raise_germany(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    path = root / "countries" / "de.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["advisory"]["level"] = 3
    data["advisory"]["changed"] = dict(NOTES)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@pytest.mark.parametrize(("lang", "countries", "germany", "line"), [
    ("kk", "Елдер", "Германия", "Кеңес соңғы рет {date} қаралды: Деңгей өзгерген жоқ"),
    ("ru", "Страны", "Германия",
     "Рекомендации последний раз пересмотрены {date}: Уровень не изменился"),
    ("en", "Countries", "Germany", "Advice last reviewed {date}: Level unchanged"),
])
async def test_card_says_when_the_advice_was_reviewed_and_what_changed(
    tb: TravelBot, lang: str, countries: str, germany: str, line: str,
) -> None:
    reviewed = load_tree(CONTENT).countries["DE"].advisory.reviewed
    assert reviewed is not None
    person = tb.person("Reader", lang)
    await person.say("/start")
    listing = await person.press(countries)
    card = await person.press(germany, listing)
    assert line.format(date=fmt_date(reviewed, lang, ZoneInfo("UTC"))) in card["text"]
    assert tb.failed_calls() == []


async def test_a_level_change_reaches_followers_and_travellers_with_the_note(
    tb: TravelBot, tmp_path: Path,
) -> None:
    server = tb.server
    today = local_today(tb.clock.now, tb.settings.tz)
    p = {name: server.add_user(first_name=name, language_code=code, started=True)
         for name, code in (("follower_kk", "kk"), ("follower_ru", "en"), ("traveller_en", "en"),
                            ("upcoming_en", "en"), ("past_traveller", "en"),
                            ("other_country", "en"))}
    async with tb.app.session_factory() as session, session.begin():
        session.add_all([
            CountryFollow(user_id=p["follower_kk"].id, country="DE", lang="kk"),
            CountryFollow(user_id=p["follower_ru"].id, country="DE", lang="en"),
            User(id=p["follower_ru"].id, language="ru"),  # the chosen language wins
            Trip(user_id=p["traveller_en"].id, lang="en", country="DE",
                 starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=3)),
            Trip(user_id=p["upcoming_en"].id, lang="en", country="DE",
                 starts_on=today + timedelta(days=10), ends_on=today + timedelta(days=12)),
            Trip(user_id=p["past_traveller"].id, lang="en", country="DE",
                 starts_on=today - timedelta(days=9), ends_on=today - timedelta(days=2)),
            CountryFollow(user_id=p["other_country"].id, country="TR", lang="en"),
        ])

    root = _raise_germany(tmp_path)
    report = await import_content(tb.app.session_factory, root, today=today)
    assert report.advisories == ["DE 1→3"] and report.queued == 1
    again = await import_content(tb.app.session_factory, root, today=today)
    assert again.advisories == [] and again.queued == 0  # a re-import queues nothing

    for user in p.values():
        server.mark(user)
    await tb.sweep()  # the running bot hands the queued change to its publisher
    expected = {
        "follower_kk": ("Сапар туралы кеңес өзгерді", "1-деңгей", "3-деңгей", NOTES["kk"]),
        "follower_ru": ("Изменились рекомендации для поездок", "Уровень 1 из 4",
                        "Уровень 3 из 4", NOTES["ru"]),
        "traveller_en": ("Travel advice changed", "Level 1 of 4", "Level 3 of 4", NOTES["en"]),
        "upcoming_en": ("Travel advice changed", "Level 1 of 4", "Level 3 of 4", NOTES["en"]),
    }
    for name, (head, old_level, new_level, note) in expected.items():
        [message] = await server.wait_for_messages(p[name], timeout=10)
        text = message["text"]
        assert head in text and note in text, (name, text)
        assert text.index(old_level) < text.index("→") < text.index(new_level)
        assert "🛂" not in text and "🏛" not in text  # the change, not the whole card
    for name in ("past_traveller", "other_country"):
        assert [m for m in server.messages(p[name]) if m["outgoing"]] == []
    status = await tb.settled(select(Post.status).where(Post.kind == "advisory"), "sent")
    assert status == "sent"
    assert await tb.sweep() is not None  # a second sweep sends nothing again
    assert len([m for m in server.messages(p["follower_kk"]) if m["outgoing"]]) == 1
    assert tb.failed_calls() == []


async def _past_alerts(tb: TravelBot, count: int) -> list[int]:
    now = utcnow()
    ids = []
    async with tb.app.session_factory() as session, session.begin():
        for i in range(count):
            row = Post(kind="alert", priority=10, author_id=1, status="sent",
                       texts={lang: f"<b>header</b>\n\nAlert number {i} ({lang})\n\n<i>until</i>"
                              for lang in ("kk", "ru", "en")},
                       targets={"alert": True}, country="DE", severity="caution",
                       expires_at=now - timedelta(days=count - i),
                       approved_at=now - timedelta(days=40 - i))
            session.add(row)
            await session.flush()
            ids.append(row.id)
        session.add(Post(kind="alert", priority=10, author_id=1, status="rejected",
                         texts={"en": "Never sent"}, targets={"alert": True}, country="DE",
                         severity="caution", expires_at=now))
    return ids


@pytest.mark.parametrize(("lang", "countries", "germany", "button", "more"), [
    ("kk", "Елдер", "Германия", "Бұрынғы ескертулер", "Тағы"),
    ("ru", "Страны", "Германия", "Прошлые предупреждения", "Ещё"),
    ("en", "Countries", "Germany", "Past alerts", "More"),
])
async def test_past_alerts_are_listed_newest_first_with_more(
    tb: TravelBot, lang: str, countries: str, germany: str, button: str, more: str,
) -> None:
    await _past_alerts(tb, 4)
    person = tb.person("Archivist", lang)
    await person.say("/start")
    card = await person.press(germany, await person.press(countries))
    first: dict[str, Any] = await person.press(button, card)
    text = first["text"]
    shown = [i for i in range(4) if f"Alert number {i} ({lang})" in text]
    assert shown == [1, 2, 3]
    assert text.index("number 3") < text.index("number 2") < text.index("number 1")
    assert "Never sent" not in text and "header" not in text
    second = await person.press(more, first)
    assert f"Alert number 0 ({lang})" in second["text"]
    assert more not in " ".join(person.buttons(second))
    assert tb.failed_calls() == []


async def test_a_country_without_alerts_says_so(tb: TravelBot) -> None:
    person = tb.person("Archivist", "en")
    [card] = await person.say("Germany")
    archive = await person.press("Past alerts", card)
    assert "No travel alerts have been issued for this country." in archive["text"]
