"""Posts as editors write them, news subscriptions and the chats the bot is in.

They never commit: the unit of work (or the service that owns a transaction) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatRow, NewsSubscription, Post, utcnow
from storage.publishing.runs import PostDTO, post_dto


@dataclass(frozen=True)
class ChatDTO:
    chat_id: int
    kind: str
    title: str | None
    languages: tuple[str, ...]
    news: bool
    active: bool


def _chat(row: ChatRow) -> ChatDTO:
    langs = tuple(x for x in (row.languages or "").split(",") if x)
    return ChatDTO(row.chat_id, row.kind, row.title, langs, row.news, row.active)


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

