"""The delivery engine: works a run's ledger down to final states, within Telegram's limits.

Each worker repeats: claim one pending delivery (it becomes ``sending``, committed), wait for
its chat's limit and an overall slot (:mod:`bot.services.ratelimit`), send, write the outcome
(committed). A crash therefore leaves at most the deliveries then in flight in ``sending``;
resuming puts them back to ``pending``, so the only message that can arrive twice is one whose
request had reached Telegram when the process died. Several workers keep requests in flight
at once, so Telegram's 50-150 ms latency does not cap the rate.

Outcomes: 429 → wait ``retry_after`` (all workers hold) and retry, the retry's outcome is
recorded; 5xx, network errors and timeouts → bounded exponential backoff, then ``failed``;
blocked or deactivated user → ``blocked`` and the subscription made inactive; group migrated
to a supergroup → the chat row and the delivery follow it to the new id and it is sent there;
chat not found, bot kicked or not a member → ``failed`` and the chat made inactive.

Processes are told apart by ``worker_id``. On PostgreSQL each engine holds an advisory lock
named after its id for as long as it lives, so another process can tell a dead claimant's
``sending`` rows (requeue them) from a live one's (leave them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.services.ratelimit import SendLimiter, already_paced
from storage.repo_publishing import DeliveryDTO, PostDTO, PublishingRepo

log = logging.getLogger(__name__)

GONE_USER = ("blocked by the user", "user is deactivated", "can't initiate conversation")
GONE_CHAT = ("chat not found", "kicked", "not a member", "need administrator rights",
             "have no rights", "not enough rights")


def new_worker_id() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lock_key(worker_id: str) -> int:
    return int.from_bytes(hashlib.sha256(worker_id.encode()).digest()[:8], "big", signed=True)


def keyboard(buttons: dict[str, Any] | None, lang: str) -> InlineKeyboardMarkup | None:
    """URL buttons of a post, labelled in ``lang`` (or any language the editor gave)."""
    rows = []
    for row in (buttons or {}).get("rows") or []:
        labels = row.get("labels") or {}
        label = labels.get(lang) or next((v for v in labels.values() if v), None)
        if row.get("url") and label:
            rows.append([InlineKeyboardButton(text=label, url=row["url"])])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


@dataclass(frozen=True)
class Outcome:
    state: str  # sent | failed | blocked
    message_id: int | None = None
    error: str | None = None
    gone: bool = False  # the subscriber or chat no longer takes messages


@dataclass
class EngineOptions:
    workers: int = 8
    request_timeout: float = 30.0  # real seconds per request
    max_errors: int = 5  # 5xx / network / timeout attempts before giving up
    max_floods: int = 30  # 429 answers for one delivery before giving up
    backoff: float = 1.0  # Telegram seconds before the first retry; doubles each time
    paid_broadcast: bool = False


class DeliveryEngine:
    """Sends the deliveries of runs; one per process, shared by all its runs."""

    def __init__(
        self,
        bot: Bot,
        factory: async_sessionmaker[AsyncSession],
        limiter: SendLimiter,
        options: EngineOptions | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.bot, self.factory, self.limiter = bot, factory, limiter
        self.options = options or EngineOptions()
        self.worker_id = worker_id or new_worker_id()
        bind = factory.kw.get("bind")
        self.postgres = bind is not None and bind.dialect.name == "postgresql"
        self._claim_lock = asyncio.Lock()
        self._liveness: AsyncConnection | None = None

    # ------------------------------------------------------------------ liveness

    async def start(self) -> None:
        """On PostgreSQL, hold the advisory lock that says this worker is alive."""
        if self.postgres and self._liveness is None:
            self._liveness = await self.factory.kw["bind"].connect()
            await self._liveness.execute(
                text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(self.worker_id)}
            )
            await self._liveness.commit()

    async def stop(self) -> None:
        if self._liveness is not None:
            with contextlib.suppress(Exception):
                await self._liveness.close()
            self._liveness = None

    async def _is_dead(self, claimant: str | None) -> bool:
        if claimant == self.worker_id:
            return False
        if not self.postgres or claimant is None or self._liveness is None:
            return True
        key = _lock_key(claimant)
        got = await self._liveness.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
        if got:
            await self._liveness.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        await self._liveness.commit()
        return bool(got)

    async def recover(self, run_id: int) -> int:
        """Put deliveries left ``sending`` by dead processes back to ``pending``."""
        async with self.factory() as session, session.begin():
            rows = await PublishingRepo(session).in_flight(run_id)
        dead_ids = [i for i, claimant in rows if await self._is_dead(claimant)]
        if dead_ids:
            async with self.factory() as session, session.begin():
                await PublishingRepo(session).requeue(dead_ids)
            log.warning("run %s: %d deliveries were in flight in a dead process; resending",
                        run_id, len(dead_ids))
        return len(dead_ids)

    # ------------------------------------------------------------------ the run

    async def run(self, run_id: int, post: PostDTO, priority: int,
                  stop: asyncio.Event | None = None) -> None:
        """Work the ledger until nothing is pending (or ``stop`` is set)."""
        stop = stop or asyncio.Event()
        while True:
            workers = [asyncio.create_task(self._worker(run_id, post, priority, stop))
                       for _ in range(self.options.workers)]
            try:
                async with self.limiter.run(priority):
                    await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
            if stop.is_set() or not await self.recover(run_id):
                return

    async def _worker(self, run_id: int, post: PostDTO, priority: int,
                      stop: asyncio.Event) -> None:
        while not stop.is_set():
            delivery = await self._claim(run_id)
            if delivery is None:
                return
            outcome = await self._deliver(post, delivery, priority)
            await self._record(delivery, outcome)

    async def _claim(self, run_id: int) -> DeliveryDTO | None:
        if self.postgres:
            async with self.factory() as session, session.begin():
                return await PublishingRepo(session).claim(run_id, self.worker_id)
        async with self._claim_lock, self.factory() as session, session.begin():
            return await PublishingRepo(session).claim(run_id, self.worker_id)

    async def _record(self, delivery: DeliveryDTO, outcome: Outcome) -> None:
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            await repo.settle(delivery.id, outcome.state, message_id=outcome.message_id,
                              error=outcome.error)
            if outcome.gone and delivery.chat_kind == "private":
                await repo.deactivate_subscriber(delivery.chat_id, outcome.error or "")
            elif outcome.gone:
                await repo.deactivate_chat(delivery.chat_id, outcome.error or "")

    async def _migrated(self, delivery: DeliveryDTO, new_id: int) -> DeliveryDTO:
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            await repo.migrate_chat(delivery.chat_id, new_id)
            await repo.move_delivery(delivery.id, new_id, "supergroup")
        log.info("chat %s migrated to %s", delivery.chat_id, new_id)
        return DeliveryDTO(delivery.id, new_id, "supergroup", delivery.lang, delivery.attempts)

    # ------------------------------------------------------------------ one delivery

    async def _deliver(self, post: PostDTO, delivery: DeliveryDTO, priority: int) -> Outcome:
        chosen = post.text_for(delivery.lang)
        if chosen is None:
            return Outcome("failed", error="no text in this language")
        lang, body = chosen
        errors = floods = migrations = 0
        while True:
            try:
                message = await self.send_once(post, delivery, lang, body, priority)
                return Outcome("sent", message_id=message.message_id)
            except TelegramRetryAfter as exc:
                floods += 1
                self.limiter.flooded(exc.retry_after)
                if floods > self.options.max_floods:
                    return Outcome("failed", error=f"flood control: {exc.message}")
                await self.limiter.sleep(exc.retry_after)
            except TelegramMigrateToChat as exc:
                migrations += 1
                if migrations > 2:
                    return Outcome("failed", error=exc.message)
                delivery = await self._migrated(delivery, exc.migrate_to_chat_id)
            except TelegramForbiddenError as exc:
                return self._refused(delivery, exc.message)
            except (TelegramBadRequest, TelegramNotFound) as exc:
                gone = any(marker in exc.message.lower() for marker in GONE_CHAT)
                return Outcome("failed", error=exc.message, gone=gone)
            except (TimeoutError, TelegramServerError, TelegramNetworkError) as exc:
                errors += 1
                reason = getattr(exc, "message", None) or type(exc).__name__
                if errors >= self.options.max_errors:
                    return Outcome("failed", error=f"gave up after {errors} tries: {reason}")
                await self.limiter.sleep(self.options.backoff * 2 ** (errors - 1))
            except TelegramAPIError as exc:
                return Outcome("failed", error=exc.message)

    def _refused(self, delivery: DeliveryDTO, message: str) -> Outcome:
        lowered = message.lower()
        if delivery.chat_kind == "private":
            gone = any(marker in lowered for marker in GONE_USER)
            return Outcome("blocked" if gone else "failed", error=message, gone=gone)
        return Outcome("failed", error=message, gone=True)

    async def send_once(self, post: PostDTO, delivery: DeliveryDTO, lang: str, body: str,
                        priority: int) -> Message:
        """One request, after the chat's limit and an overall slot allow it."""
        async with self.limiter.chat(delivery.chat_id, private=delivery.chat_kind == "private",
                                     priority=priority):
            with already_paced():
                return await self._request(post, delivery.chat_id, lang, body)

    def _request(self, post: PostDTO, chat_id: int, lang: str,
                 body: str) -> Awaitable[Message]:
        extra: dict[str, Any] = {"reply_markup": keyboard(post.buttons, lang),
                                 "request_timeout": int(max(1, self.options.request_timeout))}
        if self.options.paid_broadcast:
            extra["allow_paid_broadcast"] = True
        media = post.media or {}
        send: Callable[..., Awaitable[Message]]
        if media.get("type") == "photo":
            return self.bot.send_photo(chat_id, media["file_id"], caption=body, **extra)
        if media.get("type") == "document":
            return self.bot.send_document(chat_id, media["file_id"], caption=body, **extra)
        send = self.bot.send_message
        return send(chat_id, body, **extra)

    # ------------------------------------------------------------------ edits

    async def edit(self, post: PostDTO, chat_id: int, kind: str, lang: str,
                   message_id: int) -> bool:
        """Bring one sent message in line with the post's current text; False if refused."""
        chosen = post.text_for(lang)
        if chosen is None:
            return False
        text_lang, body = chosen
        markup = keyboard(post.buttons, text_lang)
        for _ in range(self.options.max_errors):
            try:
                async with self.limiter.chat(chat_id, private=kind == "private", counts=False):
                    with already_paced():
                        if post.media:
                            await self.bot.edit_message_caption(
                                chat_id=chat_id, message_id=message_id, caption=body,
                                reply_markup=markup)
                        else:
                            await self.bot.edit_message_text(
                                chat_id=chat_id, message_id=message_id, text=body,
                                reply_markup=markup)
                return True
            except TelegramRetryAfter as exc:
                await self.limiter.sleep(exc.retry_after)
            except TelegramBadRequest as exc:
                return "not modified" in exc.message.lower()
            except (TelegramServerError, TelegramNetworkError):
                await self.limiter.sleep(self.options.backoff)
            except TelegramAPIError:
                return False
        return False
