"""Storage on both backends: migrations up, down and up again; repositories; retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from bot.privacy.retention import purge_expired
from storage.answers import QuestionRepo
from storage.db import create_engine, create_session_factory
from storage.migrate import downgrade, upgrade
from storage.models.answers import UnansweredQuestion
from storage.models.base import utcnow
from storage.users import UserRepo
from tests.kit import make_settings

TABLES = {"users", "topics", "countries", "unanswered_questions"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return names - {"alembic_version"}


def test_migrations_stairway(db_url: str) -> None:
    assert TABLES <= asyncio.run(_tables(db_url))
    downgrade(db_url, "base")
    assert asyncio.run(_tables(db_url)) == set()
    upgrade(db_url)
    assert TABLES <= asyncio.run(_tables(db_url))


@pytest.mark.asyncio
async def test_repositories_and_retention(db_url: str) -> None:
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        async with factory() as session, session.begin():
            users = UserRepo(session)
            assert await users.get(42) is None
            await users.set_language(42, "kk")
            await users.set_language(42, "ru")
            questions = QuestionRepo(session)
            await questions.record_unanswered(42, "ru", "old question", None, [])
            await questions.record_unanswered(43, "en", "new question", "DE", ["appointment"])
            old = (await session.scalars(select(UnansweredQuestion).where(
                UnansweredQuestion.text == "old question"))).one()
            old.created_at = utcnow() - timedelta(days=91)
        async with factory() as session:
            stored = await UserRepo(session).get(42)
            assert stored is not None and stored.language == "ru"
        # repositories never commit: a session closed without commit leaves nothing behind
        async with factory() as session:
            await UserRepo(session).set_language(77, "en")
        async with factory() as session:
            assert await UserRepo(session).get(77) is None

        removed = await purge_expired(factory, make_settings(db_url))
        assert removed == 1
        async with factory() as session:
            left = [q.text for q in await QuestionRepo(session).unanswered()]
        assert left == ["new question"]
    finally:
        await engine.dispose()
