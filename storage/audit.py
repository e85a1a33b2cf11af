"""The audit log: who did, or was refused, what and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.people import AuditEntry


@dataclass(frozen=True)
class AuditDTO:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    target: str | None
    allowed: bool
    details: dict[str, Any] | None


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, actor_id: int | None, action: str, target: str | None = None, *,
                  allowed: bool = True, details: dict[str, Any] | None = None) -> None:
        self.session.add(AuditEntry(
            actor_id=actor_id, action=action[:48], target=target[:128] if target else None,
            allowed=allowed, details=details,
        ))
        await self.session.flush()

    async def latest(self, limit: int = 100) -> list[AuditDTO]:
        rows = await self.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        )
        return [AuditDTO(r.id, r.at, r.actor_id, r.action, r.target, r.allowed, r.details)
                for r in rows]
