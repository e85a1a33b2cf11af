"""The one repository over the ``posts`` table: editors' posts, travel alerts (kind alert) and
the publisher's reads and status moves. It never commits: the unit of work (or the service
that owns a transaction) does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.publishing import Post


@dataclass(frozen=True)
class PostDTO:
    id: int
    kind: str
    priority: int
    author_id: int
    status: str
    texts: dict[str, str]
    media: dict[str, Any] | None
    buttons: dict[str, Any] | None
    targets: dict[str, Any]
    fallbacks: dict[str, Any]
    send_at: datetime | None
    repeat: dict[str, Any] | None
    approved_by: int | None
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime


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


def post_dto(row: Post) -> PostDTO:
    """The one plain view of a post row, for the editors' screens and the publisher alike."""
    return PostDTO(
        row.id, row.kind, row.priority, row.author_id, row.status, dict(row.texts or {}),
        row.media, row.buttons, dict(row.targets or {}), dict(row.fallbacks or {}),
        row.send_at, row.repeat, row.approved_by, row.rejection_reason, row.created_at,
        row.updated_at,
    )


def _alert(row: Post) -> AlertDTO:
    return AlertDTO(row.id, row.author_id, row.status, row.country or "", row.severity or "",
                    dict(row.texts or {}), row.expires_at, row.approved_by)


_LIVE = ("sending", "sent")  # an alert that went out


class PostRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ any kind

    async def find(self, post_id: int) -> PostDTO | None:
        """The post of any kind (editors' post, alert, advisory), as the publisher sends it."""
        row = await self.session.get(Post, post_id)
        return post_dto(row) if row else None

    async def with_status(self, status: str) -> list[PostDTO]:
        rows = await self.session.scalars(select(Post).where(Post.status == status))
        return [post_dto(r) for r in rows]

    async def mark(self, post_id: int, status: str, *, only_from: str | None = None) -> bool:
        """Set the status (only if it is ``only_from``, when given) without reading the row."""
        query = update(Post).where(Post.id == post_id)
        if only_from:
            query = query.where(Post.status == only_from)
        result = await self.session.execute(query.values(status=status, updated_at=utcnow()))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_targets(self, post_id: int, targets: dict[str, Any]) -> None:
        await self.session.execute(
            update(Post).where(Post.id == post_id).values(targets=targets))

    # ------------------------------------------------------------------ editors' posts

    async def create(self, author_id: int, fields: dict[str, Any]) -> PostDTO:
        row = Post(author_id=author_id, **fields)
        self.session.add(row)
        await self.session.flush()
        return post_dto(row)

    async def get(self, post_id: int) -> PostDTO | None:
        row = await self.session.get(Post, post_id, populate_existing=True)
        return post_dto(row) if row and row.kind == "post" else None

    async def update(self, post_id: int, **fields: Any) -> PostDTO | None:
        row = await self.session.get(Post, post_id)
        if row is None:
            return None
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        await self.session.flush()
        return post_dto(row)

    async def set_status(self, post_id: int, expected: tuple[str, ...], status: str,
                         **fields: Any) -> PostDTO | None:
        """Move the post to ``status`` only if it is in one of ``expected`` (row locked)."""
        row = await self.session.scalar(
            select(Post).where(Post.id == post_id).with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None or row.status not in expected:
            return None
        row.status = status
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        await self.session.flush()
        return post_dto(row)

    async def page(self, statuses: tuple[str, ...], offset: int, limit: int
                   ) -> tuple[list[PostDTO], int]:
        where = (Post.kind == "post", Post.status.in_(statuses))
        total = await self.session.scalar(select(func.count()).select_from(Post).where(*where))
        rows = await self.session.scalars(
            select(Post).where(*where).order_by(Post.id.desc()).offset(offset).limit(limit)
        )
        return [post_dto(r) for r in rows], int(total or 0)

    # ------------------------------------------------------------------ travel alerts

    async def create_alert(self, author_id: int, country: str, severity: str,
                           texts: dict[str, str], expires_at: datetime, status: str,
                           priority: int) -> AlertDTO:
        row = Post(kind="alert", priority=priority, author_id=author_id, status=status,
                   texts=texts, targets={"alert": True}, country=country, severity=severity,
                   expires_at=expires_at)
        self.session.add(row)
        await self.session.flush()
        return _alert(row)

    async def alert(self, post_id: int) -> AlertDTO | None:
        row = await self.session.get(Post, post_id)
        return _alert(row) if row and row.kind == "alert" else None

    async def approve_alert(self, post_id: int, approver: int, now: datetime) -> bool:
        """Only the first approval of a pending alert wins."""
        result = await self.session.execute(
            update(Post).where(*self._undecided(post_id))
            .values(approved_by=approver, approved_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reject_alert(self, post_id: int, reason: str | None) -> bool:
        result = await self.session.execute(
            update(Post).where(*self._undecided(post_id))
            .values(status="rejected", rejection_reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def _undecided(post_id: int) -> tuple[Any, ...]:
        return (Post.id == post_id, Post.kind == "alert", Post.status == "pending",
                Post.approved_by.is_(None))

    async def active_alerts(self, country: str, now: datetime) -> list[AlertDTO]:
        """Alerts that went out for the country and have not expired, newest first."""
        rows = await self.session.scalars(
            select(Post).where(
                Post.kind == "alert", Post.country == country,
                Post.status.in_(_LIVE), Post.expires_at > now,
            ).order_by(Post.id.desc())
        )
        return [_alert(r) for r in rows]

    async def all_active_alerts(self, now: datetime) -> list[AlertDTO]:
        rows = await self.session.scalars(
            select(Post).where(Post.kind == "alert", Post.status.in_(_LIVE),
                               Post.expires_at > now).order_by(Post.id.desc())
        )
        return [_alert(r) for r in rows]
