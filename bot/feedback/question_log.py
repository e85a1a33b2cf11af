"""The question log for statistics, written in batches off the answering path.

Every free-text question is logged (language, kind, topic, country, text), and one the bot
could not answer is also recorded for the editors. Writing and committing per question
would put a database round trip on every answer, so rows are buffered and inserted
together every ``FLUSH_EVERY`` seconds (or ``BATCH`` rows).
Each row's id is known at once, because feedback buttons under the answer carry it: ids
are reserved from the table's own sequence in blocks (PostgreSQL, safe across processes)
or counted on from the highest id (SQLite, the one-process embedded default).

Readers that need the newest rows (a 👍/👎 press, statistics, /my_data) call
:meth:`QuestionLogBuffer.flush` first. The buffer takes a connection of its own, so the update
calling it first gives back the one its unit of work holds (:func:`storage.db.release_held`):
with every connection held by updates waiting for the buffer's, the pool would run dry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import release_held
from storage.models.answers import UnansweredQuestion
from storage.models.base import utcnow
from storage.models.feedback import QuestionLog

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.5
BATCH = 500
ID_BLOCK = 200


class QuestionLogBuffer:
    def __init__(self, factory: async_sessionmaker[AsyncSession],
                 on_add: Callable[[str], None] | None = None) -> None:
        self.factory = factory
        self.on_add = on_add  # told each question's kind (the metrics' answers by outcome)
        self._rows: list[dict[str, Any]] = []
        self._unanswered: list[dict[str, Any]] = []
        self._ids: list[int] = []
        self._next_sqlite_id: int | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def _reserve(self) -> None:
        async with self.factory() as session:
            if session.get_bind().dialect.name == "postgresql":
                result = await session.execute(text(
                    "SELECT nextval(pg_get_serial_sequence('question_log', 'id')) "
                    "FROM generate_series(1, :n)"), {"n": ID_BLOCK})
                self._ids.extend(int(r[0]) for r in result)
                return
            if self._next_sqlite_id is None:
                top = await session.scalar(select(func.max(QuestionLog.id)))
                self._next_sqlite_id = int(top or 0) + 1
        start = self._next_sqlite_id
        self._ids.extend(range(start, start + ID_BLOCK))
        self._next_sqlite_id = start + ID_BLOCK

    async def add(self, user_id: int | None, lang: str, kind: str, topic: str | None,
                  country: str | None, text_: str) -> int:
        """Queue one question; returns its id (the row is written within a second)."""
        if not self._ids:
            await release_held()  # before the lock: its holder may wait for a connection
            async with self._lock:
                if not self._ids:
                    await self._reserve()
        qid = self._ids.pop(0)
        if self.on_add is not None:
            self.on_add(kind)
        self._rows.append({
            "id": qid, "user_id": user_id, "lang": lang, "kind": kind, "topic": topic,
            "country": country, "text": text_, "created_at": utcnow(),
        })
        if len(self._rows) >= BATCH:
            await self.flush()
        return qid

    def add_unanswered(self, user_id: int | None, lang: str, text_: str, country: str | None,
                       alternatives: list[str]) -> None:
        """Queue a question the bot could not answer, for the editors."""
        self._unanswered.append({
            "user_id": user_id, "lang": lang, "text": text_, "country": country,
            "alternatives": ",".join(alternatives)[:200] or None, "handled": False,
            "created_at": utcnow(),
        })

    async def flush(self) -> int:
        if not self._rows and not self._unanswered:
            return 0
        await release_held()
        rows, self._rows = self._rows, []
        unanswered, self._unanswered = self._unanswered, []
        try:
            async with self.factory() as session, session.begin():
                if rows:
                    await session.execute(insert(QuestionLog), rows)
                if unanswered:
                    await session.execute(insert(UnansweredQuestion), unanswered)
        except Exception:
            self._rows[:0] = rows  # keep them for the next attempt
            self._unanswered[:0] = unanswered
            raise
        return len(rows) + len(unanswered)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.flush()
            except Exception:
                log.exception("question log flush failed")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="question-log")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
