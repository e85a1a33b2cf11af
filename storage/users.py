"""Repositories: queries over one session. They never commit; the unit of work does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ContentDocumentRow,
    CountryRow,
    TopicRow,
    UnansweredQuestion,
    User,
    utcnow,
)

# The language a person reads, as SQL: the one they chose, else the one Telegram reports
# (None: neither; the caller falls back to DEFAULT_LANGUAGE). See bot.shared.i18n.reader_language.
READS = func.coalesce(User.language, User.telegram_language)


@dataclass(frozen=True)
class UserDTO:
    id: int
    language: str | None
    telegram_language: str | None = None


@dataclass(frozen=True)
class StoredRecord:
    key: str
    data: dict[str, Any]
    digest: str
    updated_at: datetime


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> UserDTO | None:
        row = await self.session.get(User, user_id)
        return UserDTO(row.id, row.language, row.telegram_language) if row else None

    async def reads(self, user_id: int) -> str | None:
        """The chosen language, else Telegram's; None when neither is stored."""
        return await self.session.scalar(select(READS).where(User.id == user_id))

    async def seen(self, user_id: int, telegram_language: str | None) -> None:
        """The person wrote: create their row, or keep Telegram's language up to date.

        An insert that races another process's is ignored; the chosen language is never
        touched.
        """
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(
            insert(User).values(id=user_id, telegram_language=telegram_language)
            .on_conflict_do_nothing(index_elements=[User.id]))
        await self.session.execute(
            update(User).where(User.id == user_id,
                               User.telegram_language.is_distinct_from(telegram_language))
            .values(telegram_language=telegram_language))

    async def set_language(self, user_id: int, language: str) -> UserDTO:
        row = await self.session.get(User, user_id)
        if row is None:
            row = User(id=user_id, language=language)
            self.session.add(row)
        else:
            row.language = language
            row.last_seen_at = utcnow()
        await self.session.flush()
        return UserDTO(row.id, row.language, row.telegram_language)

    async def delete(self, user_id: int) -> int:
        result = await self.session.execute(delete(User).where(User.id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class ContentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def topics(self) -> list[StoredRecord]:
        rows = await self.session.scalars(select(TopicRow).order_by(TopicRow.position))
        return [StoredRecord(r.slug, r.data, r.digest, r.updated_at) for r in rows]

    async def countries(self) -> list[StoredRecord]:
        rows = await self.session.scalars(select(CountryRow).order_by(CountryRow.iso))
        return [StoredRecord(r.iso, r.data, r.digest, r.updated_at) for r in rows]

    async def put_topic(self, data: dict[str, Any], digest: str) -> None:
        row = await self.session.get(TopicRow, data["slug"])
        if row is None:
            row = TopicRow(slug=data["slug"])
            self.session.add(row)
        row.section = data["section"]
        row.position = data.get("order", 100)
        row.data = data
        row.digest = digest
        row.updated_at = utcnow()

    async def put_country(self, data: dict[str, Any], digest: str) -> None:
        row = await self.session.get(CountryRow, data["iso"])
        if row is None:
            row = CountryRow(iso=data["iso"])
            self.session.add(row)
        row.data = data
        row.digest = digest
        row.updated_at = utcnow()

    async def remove_topics(self, slugs: list[str]) -> None:
        if slugs:
            await self.session.execute(delete(TopicRow).where(TopicRow.slug.in_(slugs)))

    async def remove_countries(self, codes: list[str]) -> None:
        if codes:
            await self.session.execute(delete(CountryRow).where(CountryRow.iso.in_(codes)))

    async def documents(self) -> list[StoredRecord]:
        rows = await self.session.scalars(
            select(ContentDocumentRow).order_by(ContentDocumentRow.key))
        return [StoredRecord(r.key, r.data, r.digest, r.updated_at) for r in rows]

    async def put_document(self, key: str, data: dict[str, Any], digest: str) -> None:
        row = await self.session.get(ContentDocumentRow, key)
        if row is None:
            row = ContentDocumentRow(key=key)
            self.session.add(row)
        row.data = data
        row.digest = digest
        row.updated_at = utcnow()

    async def remove_documents(self, keys: list[str]) -> None:
        if keys:
            await self.session.execute(
                delete(ContentDocumentRow).where(ContentDocumentRow.key.in_(keys)))


@dataclass(frozen=True)
class UnansweredDTO:
    id: int
    user_id: int | None
    lang: str
    country: str | None
    text: str
    created_at: datetime


class QuestionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_unanswered(
        self, user_id: int | None, lang: str, text: str, country: str | None,
        alternatives: list[str],
    ) -> int:
        row = UnansweredQuestion(
            user_id=user_id, lang=lang, text=text, country=country,
            alternatives=",".join(alternatives)[:200] or None,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def unanswered(self, limit: int = 100) -> list[UnansweredDTO]:
        rows = await self.session.scalars(
            select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)
        )
        return [
            UnansweredDTO(r.id, r.user_id, r.lang, r.country, r.text, r.created_at) for r in rows
        ]

    async def purge_before(self, moment: datetime) -> int:
        result = await self.session.execute(
            delete(UnansweredQuestion).where(UnansweredQuestion.created_at < moment)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_for_user(self, user_id: int) -> int:
        result = await self.session.execute(
            delete(UnansweredQuestion).where(UnansweredQuestion.user_id == user_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
