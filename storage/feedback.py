"""The question log (what was asked, for statistics) and the 👍/👎 feedback on answers: one
repository per table. Like every repository here, these never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.feedback import Feedback, QuestionLog


@dataclass(frozen=True)
class QuestionDTO:
    id: int
    user_id: int | None
    lang: str
    kind: str
    topic: str | None
    country: str | None
    text: str | None


class QuestionLogRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def log_question(
        self, user_id: int | None, lang: str, kind: str, topic: str | None,
        country: str | None, text: str,
    ) -> int:
        row = QuestionLog(user_id=user_id, lang=lang, kind=kind, topic=topic,
                          country=country, text=text)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def question(self, question_id: int) -> QuestionDTO | None:
        r = await self.session.get(QuestionLog, question_id)
        if r is None:
            return None
        return QuestionDTO(r.id, r.user_id, r.lang, r.kind, r.topic, r.country, r.text)

    async def count_for(self, user_id: int) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(QuestionLog)
            .where(QuestionLog.user_id == user_id)) or 0)

    async def unlink(self, user_id: int) -> int:
        """Logged questions stay counted for statistics but lose their text and asker."""
        result = await self.session.execute(
            update(QuestionLog).where(QuestionLog.user_id == user_id)
            .values(user_id=None, text=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def purge(self, cutoff: datetime) -> int:
        """Retention: questions older than ``cutoff`` keep their counts, not the text or
        the asker."""
        result = await self.session.execute(
            update(QuestionLog)
            .where(QuestionLog.created_at < cutoff, QuestionLog.text.is_not(None))
            .values(user_id=None, text=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class FeedbackRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def vote(self, question: QuestionDTO, helpful: bool) -> int | None:
        """One vote per answer; a second vote on the same answer returns None."""
        row = Feedback(
            question_id=question.id, user_id=question.user_id, lang=question.lang,
            topic=question.topic, country=question.country, helpful=helpful,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row.id

    async def feedback_for(self, question_id: int) -> Feedback | None:
        return await self.session.scalar(
            select(Feedback).where(Feedback.question_id == question_id))

    async def set_reason(self, feedback_id: int, reason: str) -> None:
        await self.session.execute(
            update(Feedback).where(Feedback.id == feedback_id).values(reason=reason))

    async def set_comment(self, feedback_id: int, comment: str) -> None:
        await self.session.execute(
            update(Feedback).where(Feedback.id == feedback_id).values(comment=comment))

    async def votes_of(self, user_id: int) -> list[bool]:
        """The person's votes, True for 👍."""
        return list(await self.session.scalars(
            select(Feedback.helpful).where(Feedback.user_id == user_id)))

    async def erase(self, user_id: int) -> int:
        result = await self.session.execute(delete(Feedback).where(Feedback.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def purge(self, cutoff: datetime, comment_cutoff: datetime) -> int:
        """Retention: feedback older than ``cutoff`` goes; comments (free text) go earlier,
        at ``comment_cutoff``. Returns the rows removed."""
        result = await self.session.execute(delete(Feedback).where(Feedback.created_at < cutoff))
        await self.session.execute(
            update(Feedback).where(Feedback.created_at < comment_cutoff,
                                   Feedback.comment.is_not(None)).values(comment=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
