"""The webhook listener's request handler: bad bodies refused in one log line, updates that
Telegram re-sends (it does when our answer does not reach it in time) handled once.

An update is claimed by its ``update_id`` before it is handled: with ``REDIS_URL`` set by
``SET NX EX`` in Redis, so that every webhook process sharing it handles the update once;
without it in a bounded set in this process. Claims expire after :data:`SEEN_FOR`, as long as
Telegram keeps an update it could not deliver.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Protocol

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.shared.isolation import LOCK_TAKEN, PersonIsolation

log = logging.getLogger(__name__)

SEEN_FOR = 24 * 3600  # seconds: Telegram keeps an undelivered update for 24 hours
SEEN_MAX = 100_000  # update ids remembered by one process without Redis
ORDER_WAIT = 5.0  # seconds an answer to Telegram waits for the update's person lock


class SeenUpdates(Protocol):
    async def claim(self, bot_id: int, update_id: int) -> bool:
        """True the first time ``update_id`` of this bot is seen (within the expiry)."""

    async def close(self) -> None: ...


class MemorySeenUpdates:
    """One process's claims: at most ``limit`` ids, each forgotten after ``ttl`` seconds."""

    def __init__(self, ttl: float = SEEN_FOR, limit: int = SEEN_MAX) -> None:
        self.ttl, self.limit = ttl, limit
        self._expiry: OrderedDict[tuple[int, int], float] = OrderedDict()

    async def claim(self, bot_id: int, update_id: int) -> bool:
        now = time.monotonic()
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        key = (bot_id, update_id)
        if key in self._expiry:
            return False
        self._expiry[key] = now + self.ttl
        while len(self._expiry) > self.limit:
            self._expiry.popitem(last=False)
        return True

    async def close(self) -> None:
        self._expiry.clear()


class RedisSeenUpdates:
    """Claims shared by every process on one Redis: ``SET key NX EX ttl``."""

    PREFIX = "webhook:update"

    def __init__(self, url: str, ttl: int = SEEN_FOR) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.ttl = ttl

    @classmethod
    def key(cls, bot_id: int, update_id: int) -> str:
        return f"{cls.PREFIX}:{bot_id}:{update_id}"

    async def claim(self, bot_id: int, update_id: int) -> bool:
        return bool(await self.redis.set(self.key(bot_id, update_id), 1, nx=True, ex=self.ttl))

    async def close(self) -> None:
        await self.redis.aclose()


def create_seen_updates(redis_url: str | None) -> SeenUpdates:
    return RedisSeenUpdates(redis_url) if redis_url else MemorySeenUpdates()


async def _first(task: asyncio.Task[None], taken: asyncio.Event, timeout: float) -> None:
    """Until the update holds its person's lock (or is done, or ``timeout`` passed)."""
    waiter = asyncio.create_task(taken.wait())
    try:
        await asyncio.wait({task, waiter}, timeout=timeout,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


class UpdateRequestHandler(SimpleRequestHandler):
    """Answers at once and handles the update in the background, like aiogram's own, but:

    - a body that is not JSON, or JSON that is not an Update, gets 400 and one log line
      (a 500 makes Telegram retry it for hours);
    - an update already claimed (here or, through Redis, by another process) gets 200 and
      is not handled again;
    - with the person's lock shared through Redis (:mod:`bot.shared.isolation`), the answer waits
      until the update holds it (at most :data:`ORDER_WAIT` seconds), so the person's next
      update, which Telegram sends after this answer perhaps to another process, comes
      after it.
    """

    def __init__(self, dispatcher: Dispatcher, bot: Bot, seen: SeenUpdates,
                 secret_token: str | None = None, **data: Any) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, handle_in_background=True,
                         secret_token=secret_token, **data)
        self.seen = seen

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            log.warning("webhook: refused a request with a wrong secret from %s", request.remote)
            return web.Response(body="Unauthorized", status=401)
        body = await request.read()
        try:
            raw = bot.session.json_loads(body)
        except ValueError as exc:
            log.warning("webhook: refused a body that is not JSON (%d bytes, %s)",
                        len(body), type(exc).__name__)
            return web.json_response({"ok": False, "description": "not JSON"}, status=400)
        try:
            update = Update.model_validate(raw, context={"bot": bot})
        except ValidationError as exc:
            log.warning("webhook: refused JSON that is not an Update (%d bytes, %d errors)",
                        len(body), exc.error_count())
            return web.json_response({"ok": False, "description": "not an Update"}, status=400)
        if not await self.seen.claim(bot.id, update.update_id):
            log.info("webhook: update %s was already handled; answered again", update.update_id)
            return web.json_response({})
        taken = asyncio.Event()
        token = LOCK_TAKEN.set(taken)
        try:
            task = asyncio.create_task(self._feed(bot, update))
        finally:
            LOCK_TAKEN.reset(token)
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        isolation = self.dispatcher.fsm.events_isolation
        if isinstance(isolation, PersonIsolation) and isolation.is_shared:
            await _first(task, taken, ORDER_WAIT)
        return web.json_response({})

    async def _feed(self, bot: Bot, update: Update) -> None:
        try:
            update.event_type  # noqa: B018 - raises for an update of no kind aiogram knows
        except Exception:  # noqa: BLE001 - aiogram's lookup error has no public type
            log.info("webhook: update %s has no kind this bot handles", update.update_id)
            return
        try:
            result = await self.dispatcher.feed_update(bot, update, **self.data)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=bot, result=result)
        except Exception:
            log.exception("webhook: update %s failed", update.update_id)
