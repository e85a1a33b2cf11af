"""The answer service on its own (no Telegram): what a typed question gets back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.alert_board import BOARD
from bot.services.answers import AnswerService, Kind
from bot.services.store import ContentStore
from storage.models import utcnow
from storage.repo_travellers import AlertDTO
from tests.conftest import CONTENT


@pytest.fixture(scope="module")
def answers() -> AnswerService:
    return AnswerService(ContentStore.from_files(CONTENT), ZoneInfo("Asia/Almaty"))


@pytest.fixture
def board() -> Iterator[None]:
    BOARD.replace([])
    yield
    BOARD.replace([])


def _alert(expires_in: timedelta) -> AlertDTO:
    return AlertDTO(id=1, author_id=1, status="sent", country="TR", severity="leave_now",
                    texts={"en": "🚨 <b>Leave Turkey now</b>", "kk": "🚨", "ru": "🚨"},
                    expires_at=utcnow() + expires_in, approved_by=2)


@pytest.mark.usefixtures("board")
def test_typed_country_card_shows_a_new_alert_and_drops_an_expired_one(
    answers: AnswerService,
) -> None:
    before = answers.answer("Turkey", lang="en")
    assert before.kind == Kind.COUNTRY
    assert "Leave Turkey now" not in before.screen.html

    BOARD.replace([_alert(timedelta(hours=1))])
    during = answers.answer("Turkey", lang="en")
    assert during.screen.html.startswith("🚨 <b>Leave Turkey now</b>")

    BOARD.replace([_alert(timedelta(hours=-1))])
    after = answers.answer("Turkey", lang="en")
    assert "Leave Turkey now" not in after.screen.html


def test_unknown_question_answers_in_the_reading_language(answers: AnswerService) -> None:
    reply = answers.answer("qwzx ЖЖЖ ƛƛƛ xyzzy plugh", fallback="ru")
    assert reply.kind == Kind.UNKNOWN
    assert reply.unanswered
    assert reply.screen.html.startswith("Извините, ответа на этот вопрос у меня пока нет.")


def test_answer_json_shape(answers: AnswerService) -> None:
    data = answers.answer("Как продлить паспорт в Германии?").to_json()
    assert (data["lang"], data["topic"], data["country"]) == ("ru", "passport-renewal", "DE")
    assert "Германия" in data["answer"]
    assert all(isinstance(s, str) for s in data["alternatives"])
