"""News subscriptions: citizens' own, groups' (by a group administrator) and the channels
the editors register. In the update's session; each change is audited with who made it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.shared import audit
from bot.shared.audit import Action
from storage.publishing.subscriptions import ChatDTO as ChatDTO  # re-exported for the handlers
from storage.publishing.subscriptions import SubscriptionRepo


def _chat(chat_id: int) -> str:
    return f"chat:{chat_id}"


async def news_language(session: AsyncSession, user_id: int) -> str | None:
    """The language the person receives the news in, or None if they don't."""
    row = await SubscriptionRepo(session).subscription(user_id)
    return row.language if row is not None and row.active else None


async def subscribe(session: AsyncSession, user_id: int, lang: str) -> None:
    await SubscriptionRepo(session).subscribe(user_id, lang)


async def unsubscribe(session: AsyncSession, user_id: int) -> bool:
    """False if the person was not subscribed."""
    return await SubscriptionRepo(session).unsubscribe(user_id)


async def refused(session: AsyncSession, actor: int | None, chat_id: int, action: Action,
                  reason: str) -> None:
    """Someone who may not change the chat's subscription tried to."""
    await audit.record(session, actor, action, _chat(chat_id), allowed=False, reason=reason)


async def subscribe_chat(session: AsyncSession, actor: int | None, chat_id: int, kind: str,
                         title: str | None, languages: tuple[str, ...]) -> None:
    """A group or channel receives posts in ``languages`` from now on."""
    await SubscriptionRepo(session).put_chat(chat_id, kind, title, languages, news=True,
                                             added_by=actor)
    action = Action.CHANNEL_ADD if kind == "channel" else Action.GROUP_SUBSCRIBE
    await audit.record(session, actor, action, _chat(chat_id), languages=list(languages))


async def unsubscribe_group(session: AsyncSession, actor: int | None, chat_id: int) -> bool:
    """False if the group was not subscribed."""
    changed = await SubscriptionRepo(session).set_news(chat_id, False)
    if changed:
        await audit.record(session, actor, Action.GROUP_UNSUBSCRIBE, _chat(chat_id))
    return changed


async def channels(session: AsyncSession) -> list[ChatDTO]:
    return await SubscriptionRepo(session).chats("channel")


async def remove_channel(session: AsyncSession, actor: int, chat_id: int) -> ChatDTO | None:
    """The channel that no longer receives posts, or None if it was not registered."""
    repo = SubscriptionRepo(session)
    found = await repo.chat(chat_id)
    if found is None or found.kind != "channel" or not await repo.set_news(found.chat_id, False):
        return None
    await audit.record(session, actor, Action.CHANNEL_REMOVE, _chat(found.chat_id))
    return found
