"""Helpers for the publishing tests, the kill test's runner and the broadcast benchmark:
a local server world (subscribers, groups, channels) mirrored in the database, and posts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from localapi import LocalBotAPI
from storage.models.people import User
from storage.models.publishing import ChatRow, Delivery, NewsSubscription, Post, PostRun
from tests.kit import database, db_factory, make_bot

TEXTS = {"kk": "<b>Жаңалық</b> kk", "ru": "<b>Новость</b> ru", "en": "<b>News</b> en"}
BUTTONS = {"rows": [{"url": "https://mfa.gov.kz",
                     "labels": {"kk": "Толығырақ", "ru": "Подробнее", "en": "Read more"}}]}


@dataclass
class World:
    """Who should receive a post, on the server and in the database."""

    server: LocalBotAPI
    author: int = 0
    citizens: dict[int, str] = field(default_factory=dict)  # user id -> language
    groups: dict[int, str] = field(default_factory=dict)  # chat id -> language
    channels: dict[int, str] = field(default_factory=dict)  # chat id -> "kk,ru"

    def outgoing(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.server.messages(chat_id) if m["outgoing"]]

    def received(self) -> Counter[int]:
        """Messages the bot sent per recipient chat (the author's chat excluded)."""
        return Counter({cid: self.server.stats.sent_per_chat[cid]
                        for cid in [*self.citizens, *self.groups, *self.channels]})


async def build_world(
    server: LocalBotAPI, factory: async_sessionmaker[AsyncSession], *,
    citizens: dict[str, int], groups: int = 0, channels: tuple[str, ...] = (),
    author_language: str | None = "en",
) -> World:
    """``citizens`` {lang: how many}; ``channels`` one language list per channel."""
    author = server.add_user("Editor", language_code="en", started=True)
    world = World(server, author=author.id)
    subs, chats = [], []
    for lang, count in citizens.items():
        for i in range(count):
            user = server.add_user(f"Citizen {lang}{i}", language_code=lang, started=True)
            world.citizens[user.id] = lang
            subs.append({"user_id": user.id, "language": lang, "active": True})
    for i in range(groups):
        lang = ("kk", "ru", "en")[i % 3]
        chat = server.add_group(f"Group {i}", members=[author], admins=[author])
        world.groups[chat.id] = lang
        chats.append({"chat_id": chat.id, "kind": "group", "title": chat.title,
                      "languages": lang, "news": True, "active": True})
    for i, langs in enumerate(channels):
        chat = server.add_channel(f"Channel {i}", admins=[author])
        world.channels[chat.id] = langs
        chats.append({"chat_id": chat.id, "kind": "channel", "title": chat.title,
                      "languages": langs, "news": True, "active": True})
    async with factory() as session, session.begin():
        if author_language:
            session.add(User(id=author.id, language=author_language))
        if subs:
            await session.execute(insert(NewsSubscription), subs)
        if chats:
            await session.execute(insert(ChatRow), chats)
    return world


async def add_post(
    factory: async_sessionmaker[AsyncSession], author_id: int, *,
    texts: dict[str, str] | None = None, citizens: list[str] | None = None,
    channels: bool = True, groups: bool = True, status: str = "scheduled",
    fallbacks: dict[str, str] | None = None, buttons: dict[str, Any] | None = BUTTONS,
    send_at: datetime | None = None, repeat: dict[str, Any] | None = None,
) -> int:
    post = Post(
        author_id=author_id, status=status, texts=texts if texts is not None else dict(TEXTS),
        targets={"channels": channels, "groups": groups,
                 "citizens": citizens if citizens is not None else ["kk", "ru", "en"]},
        fallbacks=fallbacks, buttons=buttons, send_at=send_at, repeat=repeat,
    )
    async with factory() as session, session.begin():
        session.add(post)
        await session.flush()
        return post.id


async def ledger(factory: async_sessionmaker[AsyncSession], post_id: int) -> list[Delivery]:
    async with factory() as session:
        rows = await session.scalars(
            select(Delivery).join(PostRun, PostRun.id == Delivery.run_id)
            .where(PostRun.post_id == post_id).order_by(Delivery.id)
        )
        return list(rows)


async def post_row(factory: async_sessionmaker[AsyncSession], post_id: int) -> Post:
    async with factory() as session:
        post = await session.get(Post, post_id)
        assert post is not None
        return post


async def runs(factory: async_sessionmaker[AsyncSession], post_id: int) -> list[PostRun]:
    async with factory() as session:
        return list(await session.scalars(
            select(PostRun).where(PostRun.post_id == post_id).order_by(PostRun.id)))


# The benchmarks take these from here too.
__all__ = ["BUTTONS", "TEXTS", "World", "add_post", "build_world", "database", "db_factory",
           "ledger", "make_bot", "post_row", "runs"]
