"""Repositories for editors' work: roles, the audit log, posts, news subscriptions, chats.

They never commit: the unit of work (or the service that owns a transaction) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, ChatRow, NewsSubscription, Post, Role, utcnow
from storage.publishing.runs import PostDTO, post_dto

ADMIN = "admin"
EDITOR = "editor"


@dataclass(frozen=True)
class RoleDTO:
    user_id: int
    role: str
    name: str | None
    granted_by: int | None
    granted_at: datetime


@dataclass(frozen=True)
class AuditDTO:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    target: str | None
    allowed: bool
    details: dict[str, Any] | None


@dataclass(frozen=True)
class ChatDTO:
    chat_id: int
    kind: str
    title: str | None
    languages: tuple[str, ...]
    news: bool
    active: bool


def _role(row: Role) -> RoleDTO:
    return RoleDTO(row.user_id, row.role, row.name, row.granted_by, row.granted_at)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored one is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _chat(row: ChatRow) -> ChatDTO:
    langs = tuple(x for x in (row.languages or "").split(",") if x)
    return ChatDTO(row.chat_id, row.kind, row.title, langs, row.news, row.active)


class RoleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> RoleDTO | None:
        row = await self.session.get(Role, user_id, populate_existing=True)
        return _role(row) if row else None

    async def all(self) -> list[RoleDTO]:
        rows = await self.session.scalars(select(Role).order_by(Role.role, Role.granted_at))
        return [_role(r) for r in rows]

    async def grant(self, user_id: int, role: str, *, name: str | None = None,
                    granted_by: int | None = None) -> RoleDTO:
        row = await self.session.get(Role, user_id)
        if row is None:
            row = Role(user_id=user_id, role=role, name=name, granted_by=granted_by)
            self.session.add(row)
        else:
            row.role = role
            row.name = name or row.name
            row.granted_by = granted_by
            row.granted_at = utcnow()
        await self.session.flush()
        return _role(row)

    async def revoke(self, user_id: int) -> bool:
        result = await self.session.execute(delete(Role).where(Role.user_id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reviewers(self, except_user: int) -> list[RoleDTO]:
        rows = await self.session.scalars(select(Role).where(Role.user_id != except_user))
        return [_role(r) for r in rows]


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


class PostRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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


class SubscriptionRepo:
    """Citizens' news subscriptions and the groups and channels that receive posts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subscription(self, user_id: int) -> NewsSubscription | None:
        return await self.session.get(NewsSubscription, user_id, populate_existing=True)

    async def subscribe(self, user_id: int, language: str) -> None:
        row = await self.session.get(NewsSubscription, user_id)
        if row is None:
            self.session.add(NewsSubscription(user_id=user_id, language=language))
        else:
            row.language, row.active, row.inactive_reason = language, True, None
        await self.session.flush()

    async def unsubscribe(self, user_id: int) -> bool:
        result = await self.session.execute(
            delete(NewsSubscription).where(NewsSubscription.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def citizen_counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(NewsSubscription.language, func.count())
            .where(NewsSubscription.active.is_(True)).group_by(NewsSubscription.language)
        )
        return {lang: int(n) for lang, n in rows.all()}

    async def chat(self, chat_id: int) -> ChatDTO | None:
        row = await self.session.get(ChatRow, chat_id, populate_existing=True)
        return _chat(row) if row else None

    async def put_chat(self, chat_id: int, kind: str, title: str | None,
                       languages: tuple[str, ...], *, news: bool, added_by: int | None) -> None:
        row = await self.session.get(ChatRow, chat_id)
        if row is None:
            row = ChatRow(chat_id=chat_id, kind=kind)
            self.session.add(row)
        row.kind, row.title = kind, (title or "")[:255] or None
        row.languages = ",".join(languages)
        row.news, row.active, row.inactive_reason = news, True, None
        row.added_by = added_by
        await self.session.flush()

    async def set_news(self, chat_id: int, news: bool) -> bool:
        row = await self.session.get(ChatRow, chat_id)
        if row is None or row.news == news:
            return False
        row.news = news
        await self.session.flush()
        return True

    async def chats(self, kind: str) -> list[ChatDTO]:
        kinds = ("group", "supergroup") if kind == "group" else (kind,)
        rows = await self.session.scalars(
            select(ChatRow).where(ChatRow.kind.in_(kinds), ChatRow.news.is_(True))
            .order_by(ChatRow.title)
        )
        return [_chat(r) for r in rows]

