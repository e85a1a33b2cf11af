"""/stats through the real dispatcher: who may see it, the period buttons, the export."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiogram.methods import AnswerCallbackQuery, SendDocument, SendMessage, SendPhoto
from sqlalchemy import select

from bot.feedback.callbacks import StatsPeriod
from storage.models.people import AuditEntry
from tests.kit import OfflineBot, offline_bot
from tests.kit.updates import press_update, text_update

ADMIN = 99


@pytest_asyncio.fixture
async def staff(db_url: str) -> AsyncIterator[OfflineBot]:
    async with offline_bot(db_url, seed=True, admin_ids=(ADMIN,),
                           default_language="en") as bot:
        yield bot


async def test_stats_are_refused_to_citizens_and_audited(staff: OfflineBot) -> None:
    [reply] = await staff.feed(text_update(5, "/stats", "en"))
    assert isinstance(reply, SendMessage)
    assert reply.text == "Statistics are for editors only."
    calls = await staff.feed(press_update(5, StatsPeriod(days=7).pack(), "en"))
    assert [type(c) for c in calls] == [AnswerCallbackQuery]
    assert calls[0].text == "Statistics are for editors only."
    rows = await staff.scalars(select(AuditEntry).where(AuditEntry.actor_id == 5))
    assert [(r.action, r.allowed) for r in rows] == [("stats", False), ("stats", False)]


async def test_period_buttons_draw_the_charts_and_export_sends_csv(staff: OfflineBot) -> None:
    [menu] = await staff.feed(text_update(ADMIN, "/stats", "en"))
    labels = [b.text for row in menu.reply_markup.inline_keyboard for b in row]
    assert labels == ["7 days", "30 days", "90 days"]

    calls = await staff.feed(press_update(ADMIN, StatsPeriod(days=30).pack(), "en"))
    photos = [c for c in calls if isinstance(c, SendPhoto)]
    assert len(photos) == 6
    assert all(p.photo.filename.endswith(".png") for p in photos)

    calls = await staff.feed(text_update(ADMIN, "/stats export 7", "en"))
    documents = [c for c in calls if isinstance(c, SendDocument)]
    assert len(documents) == 6
    assert all(d.document.filename.endswith(".csv") for d in documents)
    assert calls[-1].text == "The numbers of the last 7 days, one CSV file per chart."
