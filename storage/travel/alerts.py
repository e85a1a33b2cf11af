"""Travel alerts: the posts of kind alert, their approval and their ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Delivery,
    Post,
    PostRun,
)


@dataclass(frozen=True)
class AlertDTO:
    id: int
    author_id: int
    status: str
    country: str
    severity: str
    texts: dict[str, str]
    expires_at: datetime | None
    approved_by: int | None


def _alert(row: Post) -> AlertDTO:
    return AlertDTO(row.id, row.author_id, row.status, row.country or "", row.severity or "",
                    dict(row.texts or {}), row.expires_at, row.approved_by)


class AlertRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, author_id: int, country: str, severity: str, texts: dict[str, str],
                     expires_at: datetime, status: str, priority: int) -> AlertDTO:
        row = Post(kind="alert", priority=priority, author_id=author_id, status=status,
                   texts=texts, targets={"alert": True}, country=country, severity=severity,
                   expires_at=expires_at)
        self.session.add(row)
        await self.session.flush()
        return _alert(row)

    async def get(self, post_id: int) -> AlertDTO | None:
        row = await self.session.get(Post, post_id)
        return _alert(row) if row and row.kind == "alert" else None

    async def approve(self, post_id: int, approver: int, now: datetime) -> bool:
        """Only the first approval of a pending alert wins."""
        result = await self.session.execute(
            update(Post).where(Post.id == post_id, Post.kind == "alert",
                               Post.status == "pending", Post.approved_by.is_(None))
            .values(approved_by=approver, approved_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reject(self, post_id: int, reason: str | None) -> bool:
        result = await self.session.execute(
            update(Post).where(Post.id == post_id, Post.kind == "alert",
                               Post.status == "pending", Post.approved_by.is_(None))
            .values(status="rejected", rejection_reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_targets(self, post_id: int, targets: dict[str, Any]) -> None:
        await self.session.execute(
            update(Post).where(Post.id == post_id).values(targets=targets))

    async def active(self, country: str, now: datetime) -> list[AlertDTO]:
        """Alerts that went out for the country and have not expired, newest first."""
        rows = await self.session.scalars(
            select(Post).where(
                Post.kind == "alert", Post.country == country,
                Post.status.in_(("sending", "sent")), Post.expires_at > now,
            ).order_by(Post.id.desc())
        )
        return [_alert(r) for r in rows]

    async def all_active(self, now: datetime) -> list[AlertDTO]:
        rows = await self.session.scalars(
            select(Post).where(Post.kind == "alert", Post.status.in_(("sending", "sent")),
                               Post.expires_at > now).order_by(Post.id.desc())
        )
        return [_alert(r) for r in rows]

    async def recent(self, limit: int = 10) -> list[AlertDTO]:
        rows = await self.session.scalars(
            select(Post).where(Post.kind == "alert").order_by(Post.id.desc()).limit(limit))
        return [_alert(r) for r in rows]

    async def delivery_counts(self, post_id: int) -> dict[str, int]:
        """Ledger states of every run of the alert: {"sent": n, "pending": m, ...}."""
        rows = await self.session.execute(
            select(Delivery.state, func.count()).join(PostRun, PostRun.id == Delivery.run_id)
            .where(PostRun.post_id == post_id).group_by(Delivery.state)
        )
        return {state: int(n) for state, n in rows}
