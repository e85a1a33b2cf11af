"""News subscriptions and the chats the bot is in (posts: :mod:`storage.publishing.posts`).

They never commit: the unit of work (or the service that owns a transaction) does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.publishing import ChatRow, NewsSubscription


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

