"""The delivery engine: works a run's ledger down to final states, within Telegram's limits.

Each worker repeats: take the next claimed delivery, wait for its chat's limit and an overall
slot (:mod:`bot.outbound.ratelimit`), send, hand the outcome to the run's settler. Claims come
in batches (:attr:`EngineOptions.claim_batch` rows per transaction, committed as ``sending``
under a lease) when the run's local queue runs dry. The settler writes outcomes by group
commit: whatever finished while the previous transaction ran goes into the next one, so under
load one transaction settles many rows and when idle a row is settled at once. A row is
never marked sent before Telegram said so; a crash leaves the deliveries then claimed in
``sending``, and only those whose request had reached Telegram (in flight, or sent and not
yet settled) can arrive twice. Several workers keep requests in flight at once, so
Telegram's 50-150 ms latency does not cap the rate.

Leases: while a run is worked, a heartbeat renews the lease of this process's rows every
``lease / 4`` seconds and returns the rows of others whose lease lapsed to ``pending``, so a
dead process's rows go back within ``lease + lease / 4`` seconds (25 s by default) while the
run goes on. A process whose own queue is empty waits for the rows other live processes
hold, so a run ends only when its ledger is final.

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
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from aiogram.types import Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.outbound.ratelimit import SendLimiter, already_paced
from bot.publishing import render
from bot.publishing.render import Rendered
from storage.models import utcnow
from storage.publishing.posts import PostDTO
from storage.publishing.runs import DeliveryDTO, PublishingRepo, Settled

log = logging.getLogger(__name__)

GONE_USER = ("blocked by the user", "user is deactivated", "can't initiate conversation")
GONE_CHAT = ("chat not found", "kicked", "not a member", "need administrator rights",
             "have no rights", "not enough rights")


def new_worker_id() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lock_key(worker_id: str) -> int:
    return int.from_bytes(hashlib.sha256(worker_id.encode()).digest()[:8], "big", signed=True)


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
    claim_batch: int = 0  # rows per claim; 0: two per worker
    lease: float = 20.0  # real seconds a claim is held without renewal
    settle_batch: int = 500  # most outcomes written in one transaction

    @property
    def batch(self) -> int:
        return self.claim_batch or 2 * self.workers


@dataclass
class _RunWork:
    """One run's local state in this process: claimed rows not yet taken, outcomes."""

    run_id: int
    queue: list[DeliveryDTO] = field(default_factory=list)
    fill: asyncio.Lock = field(default_factory=asyncio.Lock)
    drained: bool = False  # the last claim found nothing pending
    outcomes: list[tuple[DeliveryDTO, Outcome]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False


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
        """Work the ledger until it is final (or ``stop`` is set)."""
        stop = stop or asyncio.Event()
        while True:
            work = _RunWork(run_id)
            settler = asyncio.create_task(self._settler(work), name=f"settle-{run_id}")
            heartbeat = asyncio.create_task(self._heartbeat(run_id), name=f"lease-{run_id}")
            workers = [asyncio.create_task(self._worker(work, post, priority, stop))
                       for _ in range(self.options.workers)]
            try:
                async with self.limiter.run(priority):
                    await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                work.closing = True
                work.wake.set()
                await settler
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                if work.queue:
                    await self._release(work)
            if stop.is_set():
                await self._skip_if_cancelled(run_id)
                return
            if await self.recover(run_id):
                continue
            if not await self._await_others(run_id, stop):
                return

    async def _skip_if_cancelled(self, run_id: int) -> None:
        """A run cancelled while this process held claims: what it gave back is skipped."""
        with contextlib.suppress(Exception):
            async with self.factory() as session, session.begin():
                repo = PublishingRepo(session)
                run = await repo.run(run_id)
                if run is not None and run.status == "cancelled":
                    await repo.skip_pending(run_id, "cancelled")

    async def _await_others(self, run_id: int, stop: asyncio.Event) -> bool:
        """Rows other processes hold: wait until they are settled or their lease lapses.
        True when rows came back to ``pending`` (work on), False when the ledger is final."""
        while not stop.is_set():
            if await self.recover(run_id):
                return True
            async with self.factory() as session, session.begin():
                repo = PublishingRepo(session)
                returned = await repo.expire_leases(run_id)
                ends = await repo.lease_ends(run_id)
                pending = (await repo.counts(run_id)).get("pending", 0)
            if returned:
                log.warning("run %s: %d deliveries of a process whose lease lapsed are "
                            "pending again", run_id, returned)
            if pending:
                return True
            if ends is None:
                return False
            wait = (ends - utcnow()).total_seconds()
            await asyncio.sleep(min(max(wait, 0.05), self.options.lease / 4))
        return False

    async def _heartbeat(self, run_id: int) -> None:
        """Renew this process's leases; return lapsed ones of others to ``pending``."""
        while True:
            await asyncio.sleep(self.options.lease / 4)
            try:
                async with self.factory() as session, session.begin():
                    repo = PublishingRepo(session)
                    await repo.renew_leases(run_id, self.worker_id, self._lease_end())
                    returned = await repo.expire_leases(run_id)
            except Exception:
                log.exception("run %s: could not renew the leases", run_id)
                continue
            if returned:
                log.warning("run %s: %d deliveries of a process whose lease lapsed are "
                            "pending again", run_id, returned)

    def _lease_end(self) -> datetime:
        return utcnow() + timedelta(seconds=self.options.lease)

    async def _worker(self, work: _RunWork, post: PostDTO, priority: int,
                      stop: asyncio.Event) -> None:
        while not stop.is_set():
            delivery = await self._next(work)
            if delivery is None:
                return
            outcome = await self._deliver(post, delivery, priority)
            work.outcomes.append((delivery, outcome))
            work.wake.set()

    async def _next(self, work: _RunWork) -> DeliveryDTO | None:
        """The next claimed delivery; claims a batch when the local queue is empty."""
        if not work.queue and not work.drained:
            async with work.fill:
                if not work.queue and not work.drained:
                    async with self.factory() as session, session.begin():
                        claimed = await PublishingRepo(session).claim_batch(
                            work.run_id, self.worker_id, self.options.batch,
                            timedelta(seconds=self.options.lease))
                    work.queue.extend(reversed(claimed))
                    work.drained = not claimed
        return work.queue.pop() if work.queue else None

    async def _release(self, work: _RunWork) -> None:
        """Rows claimed but not sent (the run was stopped) go back to ``pending``."""
        ids = [d.id for d in work.queue]
        work.queue.clear()
        with contextlib.suppress(Exception):
            async with self.factory() as session, session.begin():
                await PublishingRepo(session).release(ids, self.worker_id)

    async def _settler(self, work: _RunWork) -> None:
        """Group commit: each transaction writes every outcome that finished meanwhile."""
        failures = 0
        while True:
            await work.wake.wait()
            work.wake.clear()
            while work.outcomes:
                batch = work.outcomes[:self.options.settle_batch]
                try:
                    await self._record(batch)
                except Exception:
                    failures += 1
                    if failures > self.options.max_errors:
                        log.exception("run %s: outcomes could not be written; the rows stay "
                                      "'sending' and are resent after a restart", work.run_id)
                        work.outcomes.clear()
                        break
                    log.warning("run %s: writing outcomes failed; retrying", work.run_id,
                                exc_info=True)
                    await asyncio.sleep(0.1 * 2 ** failures)
                    continue
                failures = 0
                del work.outcomes[:len(batch)]
            if work.closing and not work.outcomes:
                return

    async def _record(self, batch: list[tuple[DeliveryDTO, Outcome]]) -> None:
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            await repo.settle_many([Settled(d.id, o.state, o.message_id, o.error)
                                    for d, o in batch])
            for delivery, outcome in batch:
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
        rendered = render.of_post(post, delivery.lang)
        if rendered is None:
            return Outcome("failed", error="no text in this language")
        errors = floods = migrations = 0
        while True:
            try:
                message = await self.send_once(rendered, delivery, priority)
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

    async def send_once(self, rendered: Rendered, delivery: DeliveryDTO,
                        priority: int) -> Message:
        """One request, after the chat's limit and an overall slot allow it."""
        async with self.limiter.chat(delivery.chat_id, private=delivery.chat_kind == "private",
                                     priority=priority):
            with already_paced():
                return await self._request(rendered, delivery.chat_id)

    def _request(self, rendered: Rendered, chat_id: int) -> Awaitable[Message]:
        extra: dict[str, Any] = {"request_timeout": int(max(1, self.options.request_timeout))}
        if self.options.paid_broadcast:
            extra["allow_paid_broadcast"] = True
        return rendered.send(self.bot, chat_id, **extra)

    # ------------------------------------------------------------------ edits

    async def edit(self, post: PostDTO, chat_id: int, kind: str, lang: str,
                   message_id: int) -> bool:
        """Bring one sent message in line with the post's current text; False if refused."""
        rendered = render.of_post(post, lang)
        if rendered is None:
            return False
        for _ in range(self.options.max_errors):
            try:
                async with self.limiter.chat(chat_id, private=kind == "private", counts=False):
                    with already_paced():
                        await rendered.edit(self.bot, chat_id, message_id)
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
