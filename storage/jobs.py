"""The ``jobs`` table: schedule, claim with a lease, renew, reschedule, release.

Claims take rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes polling at once
take different rows and never wait on each other; SQLite (one process) ignores the clause
and its single ``UPDATE … RETURNING`` is atomic anyway. The repository never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.jobs import Job


@dataclass(frozen=True)
class JobDTO:
    key: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None
    every_seconds: float | None = None
    owner: str | None = None
    lease_until: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


def _dto(row: Any) -> JobDTO:
    return JobDTO(row.key, row.kind, dict(row.payload or {}), row.due_at, row.every_seconds,
                  row.owner, row.lease_until, row.attempts, row.last_error)


_COLUMNS = (Job.key, Job.kind, Job.payload, Job.due_at, Job.every_seconds, Job.owner,
            Job.lease_until, Job.attempts, Job.last_error)


def _free(now: datetime) -> Any:
    return or_(Job.lease_until.is_(None), Job.lease_until < now)


class JobRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> JobDTO | None:
        row = (await self.session.execute(select(*_COLUMNS).where(Job.key == key))).first()
        return _dto(row) if row else None

    async def all(self) -> list[JobDTO]:
        rows = await self.session.execute(select(*_COLUMNS).order_by(Job.key))
        return [_dto(r) for r in rows]

    async def put(self, key: str, kind: str, due_at: datetime, payload: dict[str, Any],
                  every: float | None = None) -> None:
        """Create the job or move it to ``due_at``: one row per key, whoever schedules it."""
        values = {"kind": kind, "payload": payload, "due_at": due_at, "every_seconds": every,
                  "attempts": 0, "last_error": None, "updated_at": utcnow()}
        changed = await self.session.execute(update(Job).where(Job.key == key).values(**values))
        if not changed.rowcount:  # type: ignore[attr-defined]
            await self._insert(key, **values)

    async def ensure(self, key: str, kind: str, due_at: datetime, payload: dict[str, Any],
                     every: float | None = None) -> bool:
        """Create the job unless it exists (its schedule then stays); True if created."""
        if await self.session.scalar(select(Job.key).where(Job.key == key)) is not None:
            if every is not None:
                await self.session.execute(
                    update(Job).where(Job.key == key, Job.every_seconds != every)
                    .values(every_seconds=every))
            return False
        return await self._insert(key, kind=kind, payload=payload, due_at=due_at,
                                  every_seconds=every, attempts=0, updated_at=utcnow())

    async def _insert(self, key: str, **values: Any) -> bool:
        """Insert unless another process just did (its row wins)."""
        from sqlalchemy.dialects import postgresql, sqlite

        bind = self.session.bind
        statement: Any
        if bind is not None and bind.dialect.name == "postgresql":
            statement = postgresql.insert(Job).values(key=key, **values).on_conflict_do_nothing()
        else:
            statement = sqlite.insert(Job).values(key=key, **values).on_conflict_do_nothing()
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove(self, key: str) -> bool:
        result = await self.session.execute(delete(Job).where(Job.key == key))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def next_due(self, kinds: list[str], now: datetime) -> datetime | None:
        """The earliest due time of a job of ``kinds`` no one holds (a cheap read)."""
        return await self.session.scalar(
            select(func.min(Job.due_at)).where(Job.kind.in_(kinds), Job.due_at.is_not(None),
                                              _free(now)))

    async def claim_due(self, owner: str, kinds: list[str], due_by: datetime,
                        now: datetime, lease_until: datetime, limit: int) -> list[JobDTO]:
        """Take up to ``limit`` due jobs of ``kinds`` whose lease is free."""
        chosen = (
            select(Job.key)
            .where(Job.kind.in_(kinds), Job.due_at.is_not(None), Job.due_at <= due_by,
                   _free(now))
            .order_by(Job.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            update(Job)
            .where(Job.key.in_(chosen.scalar_subquery()), _free(now))
            .values(owner=owner, lease_until=lease_until)
            .returning(*_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        return [_dto(r) for r in result]

    async def hold(self, key: str, kind: str, payload: dict[str, Any], owner: str,
                   now: datetime, lease_until: datetime) -> bool:
        """Take job ``key`` now, creating it if needed, unless a live lease holds it."""
        await self._insert(key, kind=kind, payload=payload, due_at=now, attempts=0,
                           updated_at=utcnow())
        result = await self.session.execute(
            update(Job).where(Job.key == key, or_(_free(now), Job.owner == owner))
            .values(owner=owner, lease_until=lease_until, due_at=now)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def renew(self, owner: str, keys: list[str], lease_until: datetime) -> set[str]:
        """Extend the leases this owner still holds; returns the keys it holds."""
        if not keys:
            return set()
        result = await self.session.execute(
            update(Job).where(Job.key.in_(keys), Job.owner == owner)
            .values(lease_until=lease_until).returning(Job.key)
            .execution_options(synchronize_session=False))
        return set(result.scalars())

    async def done(self, key: str, owner: str) -> None:
        await self.session.execute(delete(Job).where(Job.key == key, Job.owner == owner))

    async def reschedule(self, key: str, owner: str, due_at: datetime | None, *,
                         attempts: int = 0, error: str | None = None) -> None:
        """Give the lease back with the job due again at ``due_at`` (``None``: given up)."""
        await self.session.execute(
            update(Job).where(Job.key == key, Job.owner == owner)
            .values(due_at=due_at, owner=None, lease_until=None, attempts=attempts,
                    last_error=error, updated_at=utcnow())
            .execution_options(synchronize_session=False))

    async def release_all(self, owner: str) -> int:
        """A process that stops gives back every lease it holds, for others to take now."""
        result = await self.session.execute(
            update(Job).where(Job.owner == owner).values(owner=None, lease_until=None)
            .execution_options(synchronize_session=False))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def release_others(self, owner: str) -> int:
        """Leases of every other owner given back (SQLite: those are dead processes')."""
        result = await self.session.execute(
            update(Job).where(Job.owner.is_not(None), Job.owner != owner)
            .values(owner=None, lease_until=None)
            .execution_options(synchronize_session=False))
        return int(result.rowcount)  # type: ignore[attr-defined]
