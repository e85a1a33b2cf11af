"""Charts from seeded data, their numbers checked against SQL counts; the weekly digest.

``DOCS_CHARTS=1`` also writes each chart to ``docs/`` (the samples shown in the README).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.feedback.charts import all_charts
from bot.feedback.stats import build_digest, collect, digest_week, to_csv
from storage.db import create_engine, create_session_factory
from storage.models.answers import UnansweredQuestion
from storage.models.feedback import Feedback, QuestionLog
from storage.models.officer import OfficerRequest
from storage.models.people import Role, User
from storage.models.publishing import Delivery, Post, PostRun
from tests.kit import ROOT, make_settings

pytestmark = pytest.mark.asyncio
DOCS = ROOT / "docs"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 11:00 in Almaty


def _seed_rows(now: datetime) -> list[Any]:
    """A fortnight of varied, deterministic activity."""
    rows: list[Any] = []
    langs = ("kk", "ru", "en")
    topics = ("lost-passport", "visa-for-citizens", "consular-registration", "passport-renewal")
    countries = ("TR", "DE", "AE", None)
    kinds = ("answer", "answer", "country", "unknown", "smalltalk")
    qid = 0
    for day in range(14):
        for i in range(3 + day % 4):
            qid += 1
            kind = kinds[(day + i) % len(kinds)]
            rows.append(QuestionLog(
                id=qid, user_id=1000 + i, lang=langs[(day + i) % 3], kind=kind,
                topic=topics[(day * i) % 4] if kind == "answer" else None,
                country=countries[(day + 2 * i) % 4], text=f"question {qid}",
                created_at=now - timedelta(days=day, hours=i)))
            if kind == "answer" and i % 2 == 0:
                rows.append(Feedback(question_id=qid, user_id=1000 + i, lang="en",
                                     topic=topics[(day * i) % 4], country=None,
                                     helpful=(day + i) % 3 != 0,
                                     reason=None if (day + i) % 3 else "outdated",
                                     created_at=now - timedelta(days=day, hours=i)))
    for n in range(9):
        created = now - timedelta(days=n, hours=3)
        reply = None if n % 4 == 0 else created + timedelta(hours=2 if n % 3 else 30)
        rows.append(OfficerRequest(
            user_id=2000 + n, lang="ru", urgent=False, status="closed" if n % 2 else "open",
            created_at=created, first_reply_at=reply, rating=(n % 5) + 1 if n % 2 else None,
            question_id=qid - n if n in (1, 2) else None))
    rows.append(Post(id=1, author_id=1, texts={"kk": "x"}, targets={}))
    rows.append(PostRun(id=1, post_id=1, run_key="r1", started_at=now - timedelta(days=2)))
    states = ("sent", "sent", "sent", "blocked", "failed")
    for n in range(23):
        kind = ("private", "group", "channel")[n % 3]
        rows.append(Delivery(run_id=1, chat_id=n, chat_kind=kind, lang="kk",
                             state=states[n % 5]))
    return rows


async def _seeded(db_url: str) -> Any:
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    rows = _seed_rows(NOW)
    stages = ((Post,), (PostRun, QuestionLog), (Delivery, Feedback, OfficerRequest))
    async with factory() as session, session.begin():
        for kinds in stages:
            session.add_all([r for r in rows if isinstance(r, kinds)])
            await session.flush()
    return engine, factory


async def _count(session: Any, query: Any) -> float:
    return float(await session.scalar(query) or 0)


async def test_each_chart_draws_the_databases_numbers(db_url: str) -> None:
    engine, factory = await _seeded(db_url)
    settings: Settings = make_settings(db_url)
    since, until = NOW - timedelta(days=7), NOW + timedelta(seconds=1)
    try:
        async with factory() as session:
            data = await collect(session, since, until, settings.tz, 24.0)
            charts = {c.key: c for c in all_charts(data, {}, {}, 24.0)}
            assert set(charts) == {"questions", "topics", "self_service", "feedback",
                                   "requests", "reach"}
            for chart in charts.values():
                assert chart.png.startswith(b"\x89PNG") and len(chart.png) > 5000

            period = QuestionLog.created_at.between(since, until)
            # questions per day by language: every bar sums back to the table
            drawn = sum(v for s in charts["questions"].series.values() for v in s.values())
            assert drawn == await _count(session, select(func.count()).where(period))
            assert drawn > 0
            for lang, per_day in charts["questions"].series.items():
                assert sum(per_day.values()) == await _count(session, select(func.count())
                                                             .where(period,
                                                                    QuestionLog.lang == lang))
            # most asked topics and countries
            for topic, n in charts["topics"].series["topics"].items():
                assert n == await _count(session, select(func.count()).where(
                    period, QuestionLog.topic == topic))
            for iso, n in charts["topics"].series["countries"].items():
                assert n == await _count(session, select(func.count()).where(
                    period, QuestionLog.country == iso))
            # answered without an officer
            share = charts["self_service"].series["share"]
            assert sum(share.values()) == drawn
            escalated = select(OfficerRequest.question_id).where(
                OfficerRequest.question_id.is_not(None))
            assert share["officer"] == await _count(session, select(func.count()).where(
                period, QuestionLog.id.in_(escalated)))
            assert share["unanswered"] == await _count(session, select(func.count()).where(
                period, QuestionLog.kind == "unknown", QuestionLog.id.not_in(escalated)))
            # 👍 / 👎 by topic
            fperiod = Feedback.created_at.between(since, until)
            for topic, votes in charts["feedback"].series.items():
                for key, helpful in (("up", True), ("down", False)):
                    assert votes[key] == await _count(session, select(func.count()).where(
                        fperiod, Feedback.topic == topic, Feedback.helpful.is_(helpful)))
            # requests: opened, within the SLA, ratings
            rperiod = OfficerRequest.created_at.between(since, until)
            req = charts["requests"].series
            assert sum(req["opened"].values()) == await _count(
                session, select(func.count()).select_from(OfficerRequest).where(rperiod))
            assert req["sla"]["waiting"] == await _count(session, select(func.count()).where(
                rperiod, OfficerRequest.first_reply_at.is_(None)))
            within = [r for r in await session.scalars(select(OfficerRequest).where(
                rperiod, OfficerRequest.first_reply_at.is_not(None)))
                if r.first_reply_at - r.created_at <= timedelta(hours=24)]
            assert req["sla"]["within"] == len(within) and req["sla"]["late"] > 0
            for stars, n in req["ratings"].items():
                assert n == await _count(session, select(func.count()).where(
                    rperiod, OfficerRequest.rating == int(stars)))
            # reach of posts
            for kind, states in charts["reach"].series.items():
                for state, n in states.items():
                    assert n == await _count(session, select(func.count()).where(
                        Delivery.chat_kind == kind, Delivery.state == state))
            assert charts["reach"].series["group"]["blocked"] > 0

            csv = to_csv(data)
            assert set(csv) == {f"{k}.csv" for k in charts}
            assert csv["reach.csv"].decode().splitlines()[0] == "series,label,value"
        if os.environ.get("DOCS_CHARTS") and db_url.startswith("sqlite"):
            DOCS.mkdir(exist_ok=True)
            async with factory() as session:
                data = await collect(session, NOW - timedelta(days=14), until, settings.tz, 24.0)
            for chart in all_charts(data, {}, {}, 24.0):
                (DOCS / f"stats-{chart.key}.png").write_bytes(chart.png)
    finally:
        await engine.dispose()


async def test_digest_groups_a_seeded_week_and_goes_once_per_editor(db_url: str) -> None:
    from aiogram import Bot

    from bot.answers.store import ContentStore
    from bot.officer.jobs import send_digests
    from bot.shared.i18n import create_i18n
    from localapi.offline import OfflineSession
    from tests.kit import CONTENT

    settings = make_settings(db_url)
    week, since, until = digest_week(NOW, settings.tz)
    assert week == "2026-W48"
    assert since == datetime(2026, 11, 15, 19, 0, tzinfo=UTC)  # Monday 00:00 Almaty
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    inside = since + timedelta(days=2)
    async with factory() as session, session.begin():
        session.add_all([
            Role(user_id=501, role="editor"), Role(user_id=502, role="admin"),
            User(id=501, language="ru"),
            QuestionLog(id=1, user_id=9, lang="en", kind="answer", topic="lost-passport",
                        text="passport lost in Rome, no police nearby", created_at=inside),
            *[UnansweredQuestion(user_id=9, lang="en", country="IT", alternatives="appointment",
                                 text=f"can I bring my dog to Italy {n}", created_at=inside)
              for n in range(4)],
            UnansweredQuestion(user_id=9, lang="kk", country=None, text="салық туралы",
                               created_at=inside),
            UnansweredQuestion(user_id=9, lang="en", country="IT", text="too old",
                               created_at=since - timedelta(hours=1)),
        ])
        await session.flush()
        session.add(Feedback(question_id=1, user_id=9, lang="en", topic="lost-passport",
                             country="IT", helpful=False, reason="detail",
                             comment="what if there is no police station", created_at=inside))
    try:
        async with factory() as session:
            digest = await build_digest(session, since, until)
        [dogs, tax] = digest.unanswered
        assert (dogs.lang, dogs.country, dogs.topic, dogs.count) == ("en", "IT", "appointment", 4)
        assert dogs.examples == [f"can I bring my dog to Italy {n}" for n in range(3)]
        assert (tax.lang, tax.count, tax.examples) == ("kk", 1, ["салық туралы"])
        [disliked] = digest.disliked
        assert (disliked.topic, disliked.count, disliked.reasons) == \
            ("lost-passport", 1, {"detail": 1})
        assert disliked.examples == ["what if there is no police station"]

        store = ContentStore.from_files(CONTENT)
        session_ = OfflineSession()
        bot = Bot("42:OFFLINE", session=session_)
        i18n = create_i18n(settings.default_language)
        sunday = NOW - timedelta(days=1)
        assert await send_digests(bot, factory, settings, store, i18n, sunday) == {}
        sent = await send_digests(bot, factory, settings, store, i18n, NOW)
        assert set(sent) == {501, 502}
        text = sent[502]
        assert "can I bring my dog to Italy 0" in text and "too old" not in text
        assert "4" in text and "what if there is no police station" in text
        assert [r.chat_id for r in session_.requests] == [501, 502]
        # a second process (or a restart) on the same Monday sends nothing again
        assert await send_digests(bot, factory, settings, store, i18n,
                                  NOW + timedelta(hours=1)) == {}
    finally:
        await engine.dispose()


@pytest.mark.parametrize("zone", ["Asia/Almaty", "Asia/Kolkata"])
async def test_questions_fall_on_the_local_day_they_were_asked(db_url: str, zone: str) -> None:
    """The database counts per hour or quarter hour; each count lands on its local day,
    also in a zone whose offset is not whole hours (Kolkata is UTC+5:30)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    midnight = datetime(2026, 11, 20, tzinfo=tz).astimezone(UTC)
    moments = {  # local day -> questions asked then
        "2026-11-19": [midnight - timedelta(minutes=1), midnight - timedelta(hours=23)],
        "2026-11-20": [midnight, midnight + timedelta(minutes=14), midnight + timedelta(hours=23)],
    }
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        async with factory() as session, session.begin():
            session.add_all([QuestionLog(lang="en", kind="answer", created_at=at)
                             for ats in moments.values() for at in ats])
        async with factory() as session:
            data = await collect(session, midnight - timedelta(days=1),
                                 midnight + timedelta(days=1), tz, 24.0)
        assert data.days == ["2026-11-19", "2026-11-20"]
        assert data.questions_by_day == {"en": {d: float(len(a)) for d, a in moments.items()}}
    finally:
        await engine.dispose()
