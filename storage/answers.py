"""The answers' tables: the content store, unanswered questions and taught examples.

What may be taught comes from the question log: a question the bot did not understand
(kind ``unknown``) or an answer its asker marked 👎, while its text is kept and nobody has
taught it yet. Never commits: the unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.answers import (
    ContentDocumentRow,
    CountryRow,
    TaughtExample,
    TopicRow,
    UnansweredQuestion,
)
from storage.models.base import utcnow
from storage.models.feedback import Feedback, QuestionLog

UNANSWERED_KINDS = ("unknown",)  # answers.Kind values of a question the bot could not answer


@dataclass(frozen=True)
class PendingDTO:
    """A question an editor may teach; ``topic`` is the answer's topic when it was a 👎."""

    question_id: int
    lang: str
    text: str
    country: str | None
    created_at: datetime
    disliked: bool
    topic: str | None
    reason: str | None


@dataclass(frozen=True)
class TaughtDTO:
    id: int
    text: str
    lang: str
    topic: str | None
    taught_by: int | None
    source_question_id: int | None
    created_at: datetime


def _taught(r: TaughtExample) -> TaughtDTO:
    return TaughtDTO(r.id, r.text, r.lang, r.topic, r.taught_by, r.source_question_id,
                     r.created_at)


class TeachRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _pending_where(self) -> ColumnElement[bool]:
        taught = exists().where(TaughtExample.source_question_id == QuestionLog.id)
        return and_(QuestionLog.text.is_not(None),
                    QuestionLog.kind.in_(UNANSWERED_KINDS) | Feedback.id.is_not(None),
                    ~taught)

    def _pending_from(self, *columns: Any) -> Any:
        return (select(*columns).select_from(QuestionLog)
                .outerjoin(Feedback, and_(Feedback.question_id == QuestionLog.id,
                                          Feedback.helpful.is_(False)))
                .where(self._pending_where()))

    async def pending(self, offset: int, limit: int) -> list[PendingDTO]:
        """Newest first."""
        rows = await self.session.execute(
            self._pending_from(QuestionLog.id, QuestionLog.lang, QuestionLog.text,
                               QuestionLog.country, QuestionLog.created_at, Feedback.id,
                               QuestionLog.topic, Feedback.reason)
            .order_by(QuestionLog.id.desc()).offset(offset).limit(limit))
        return [PendingDTO(qid, lang, text, country, created, fid is not None,
                           topic if fid is not None else None, reason)
                for qid, lang, text, country, created, fid, topic, reason in rows]

    async def pending_count(self) -> int:
        return int(await self.session.scalar(self._pending_from(func.count())) or 0)

    async def pending_one(self, question_id: int) -> PendingDTO | None:
        rows = await self.session.execute(
            self._pending_from(QuestionLog.id, QuestionLog.lang, QuestionLog.text,
                               QuestionLog.country, QuestionLog.created_at, Feedback.id,
                               QuestionLog.topic, Feedback.reason)
            .where(QuestionLog.id == question_id))
        for qid, lang, text, country, created, fid, topic, reason in rows:
            return PendingDTO(qid, lang, text, country, created, fid is not None,
                              topic if fid is not None else None, reason)
        return None

    async def position(self, question_id: int) -> int:
        """How many pending questions are newer than this one (its place in the list)."""
        return int(await self.session.scalar(
            self._pending_from(func.count()).where(QuestionLog.id > question_id)) or 0)

    async def add(self, text: str, lang: str, topic: str | None, taught_by: int | None,
                  source_question_id: int | None = None) -> TaughtDTO | None:
        """The new example; None when that question was taught meanwhile (by another editor
        or process: the unique source decides)."""
        row = TaughtExample(text=text, lang=lang, topic=topic, taught_by=taught_by,
                            source_question_id=source_question_id)
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return _taught(row)

    async def all(self) -> list[TaughtDTO]:
        rows = await self.session.scalars(select(TaughtExample).order_by(TaughtExample.id))
        return [_taught(r) for r in rows]

    async def count_between(self, since: datetime, until: datetime) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(TaughtExample)
            .where(TaughtExample.created_at >= since, TaughtExample.created_at < until)) or 0)

    def _from_asker(self, user_id: int) -> ColumnElement[bool]:
        return TaughtExample.source_question_id.in_(
            select(QuestionLog.id).where(QuestionLog.user_id == user_id))

    async def count_from_asker(self, user_id: int) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(TaughtExample)
            .where(self._from_asker(user_id))) or 0)

    async def unlink_asker(self, user_id: int) -> int:
        """Cut the link from examples to the person's logged questions; the examples stay."""
        result = await self.session.execute(
            update(TaughtExample).where(self._from_asker(user_id))
            .values(source_question_id=None).execution_options(synchronize_session=False))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredRecord:
    key: str
    data: dict[str, Any]
    digest: str
    updated_at: datetime


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
