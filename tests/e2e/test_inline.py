"""Inline mode end to end: country cards and answers in the query's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from handlers.answers.inline import query_language
from tests.e2e.travel_kit import TravelBot, travel_bot
from tests.kit import until


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url):
        yield running


def test_query_language() -> None:
    assert query_language("паспорт жоғалды", "en", "kk") == "kk"
    assert query_language("потерял паспорт", "en", "kk") == "ru"
    assert query_language("lost passport", "ru", "kk") == "en"
    assert query_language("112", "ru", "kk") == "ru"


async def _answer(tb: TravelBot, user: Any, text: str) -> list[dict[str, Any]]:
    query = await tb.server.inline_query(user, text)
    found = await until(lambda: tb.server.inline_answers().get(query["id"]), timeout=10)
    if found is not None:
        return list(found["results"])
    raise AssertionError(f"no inline answer to {text!r}")


@pytest.mark.parametrize(("text", "code", "title", "body"), [
    ("germany", "en", "Germany", "Visa"),
    ("германия", "ru", "Германия", "Виза"),
    ("паспорт жоғалды", "ru", "Төлқұжат", "куәлік"),
    ("lost passport", "kk", "passport", "passport"),
])
async def test_inline_answers_in_each_language(tb: TravelBot, text: str, code: str,
                                               title: str, body: str) -> None:
    user = tb.server.add_user(first_name="Asel", language_code=code)
    results = await _answer(tb, user, text)
    assert results, text
    first = results[0]
    assert title.lower() in first["title"].lower()
    assert body.lower() in first["input_message_content"]["message_text"].lower()
    assert tb.failed_calls() == []


async def test_empty_and_nonsense_queries(tb: TravelBot) -> None:
    user = tb.server.add_user(first_name="Asel", language_code="en")
    assert await _answer(tb, user, "") == []
    assert await _answer(tb, user, "zzqxw") == []


async def test_an_emergency_comes_first_inline_then_what_else_it_matched(tb: TravelBot) -> None:
    user = tb.server.add_user(first_name="Asel", language_code="en")
    results = await _answer(tb, user, "lost my passport in Turkey, my flight is tomorrow")
    titles = [r["title"] for r in results]
    assert titles[:2] == ["Emergency help abroad", "Passport lost or stolen"]
    assert "112" in results[0]["input_message_content"]["message_text"]
    [kk] = (await _answer(tb, user, "Ағам Түркияда қайтыс болды"))[:1]
    assert kk["title"] == "Азамат шетелде қайтыс болса"
    assert tb.failed_calls() == []
