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

Exactly once, by construction: another process may take a row only once its lease lapsed,
so this process never starts a request it could not finish within the row's lease. It keeps
the lease it knows each row holds (from the claim, moved on by each renewal that the
database confirms for that row); before every request it checks that at least
``request_timeout + lease / 8`` seconds are left (else it asks the heartbeat to renew at once
and, failing that, gives the row back unsent). The lease covers the outcome until it is
written: rows sent and not yet settled are renewed like the others, and the settler does not
give up on a live run. Outcomes are fenced by their claim (claimant and ``attempts``), so a
late write cannot overwrite a claim that took the row since. What is left: a request whose
answer never came (a timeout or a broken connection after it reached Telegram) is retried
and may arrive twice, as Telegram has no idempotency key; and a process that dies (SIGKILL,
power) after a request reached Telegram and before its outcome was written leaves that row
``sending``: it is sent again once its lease lapses. Both are counted: the rows are
``sending`` at that moment, with ``attempts`` > 1 afterwards.

Stopping (``stop`` set, e.g. on SIGTERM): no new request starts; a worker waiting for its
chat or a slot gives its row back at once; requests already made get up to
:attr:`EngineOptions.drain` seconds to answer, and their outcomes are written before
:meth:`DeliveryEngine.run` returns. Claimed rows not sent go back to ``pending`` for the
other processes.

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
import time
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
from storage.models.base import utcnow
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
    request_timeout: float = 10.0  # real seconds per request (well inside the lease)
    max_errors: int = 5  # 5xx / network / timeout attempts before giving up
    max_floods: int = 30  # 429 answers for one delivery before giving up
    backoff: float = 1.0  # Telegram seconds before the first retry; doubles each time
    paid_broadcast: bool = False
    claim_batch: int = 0  # rows per claim; 0: two per worker
    lease: float = 20.0  # real seconds a claim is held without renewal
    settle_batch: int = 500  # most outcomes written in one transaction
    drain: float = 8.0  # real seconds in-flight requests and their outcomes get at a stop

    @property
    def lease_margin(self) -> float:
        """Real seconds of lease a row must have left when its request starts."""
        return self.request_timeout + self.lease / 8

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
    # Delivery id → monotonic time its lease is known to hold until (rows claimed here and
    # not yet settled); ``requesting``: ids whose request is under way right now.
    leases: dict[int, float] = field(default_factory=dict)
    requesting: set[int] = field(default_factory=set)
    renew: asyncio.Event = field(default_factory=asyncio.Event)
    settle_by: float = float("inf")  # monotonic: at a stop, when the settler gives up


class _LeaseShort(Exception):
    """The row's lease may lapse before its request could finish: it is not sent."""


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
            heartbeat = asyncio.create_task(self._heartbeat(work), name=f"lease-{run_id}")
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
                if stop.is_set():  # else the settler goes on until the outcomes are written
                    work.settle_by = time.monotonic() + self.options.drain
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

    async def _heartbeat(self, work: _RunWork) -> None:
        """Renew this process's leases (every ``lease / 4`` s, or at once when a worker
        finds a lease short); return lapsed ones of others to ``pending``."""
        run_id = work.run_id
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(work.renew.wait(), self.options.lease / 4)
            work.renew.clear()
            started = time.monotonic()
            covered = set(work.leases)
            try:
                async with self.factory() as session, session.begin():
                    repo = PublishingRepo(session)
                    held = await repo.renew_leases(run_id, self.worker_id, self._lease_end())
                    returned = await repo.expire_leases(run_id)
            except Exception:
                log.exception("run %s: could not renew the leases", run_id)
                await asyncio.sleep(min(1.0, self.options.lease / 8))
                continue
            until = started + self.options.lease
            for delivery_id in covered & held:
                if delivery_id in work.leases:
                    work.leases[delivery_id] = max(work.leases[delivery_id], until)
            if returned:
                log.warning("run %s: %d deliveries of a process whose lease lapsed are "
                            "pending again", run_id, returned)

    async def _lease_holds(self, work: _RunWork, delivery_id: int) -> bool:
        """Enough of the row's lease is left for a request to finish inside it (asking
        the heartbeat to renew at once when it is short)."""
        margin = self.options.lease_margin
        waited = 0.0
        while work.leases.get(delivery_id, 0.0) - time.monotonic() < margin:
            if waited >= self.options.lease / 8:
                return False
            work.renew.set()
            await asyncio.sleep(0.05)
            waited += 0.05
        return True

    def _lease_end(self) -> datetime:
        return utcnow() + timedelta(seconds=self.options.lease)

    async def _worker(self, work: _RunWork, post: PostDTO, priority: int,
                      stop: asyncio.Event) -> None:
        while not stop.is_set():
            delivery = await self._next(work)
            if delivery is None:
                return
            outcome = await self._until_stopped(
                work, delivery, self._deliver(work, post, delivery, priority), stop)
            if outcome is None:
                return
            work.outcomes.append((delivery, outcome))
            work.wake.set()

    async def _until_stopped(self, work: _RunWork, delivery: DeliveryDTO,
                             sending: Awaitable[Outcome], stop: asyncio.Event
                             ) -> Outcome | None:
        """The delivery's outcome; on a stop, one whose request has not started is given
        back unsent, one under way gets ``drain`` seconds to answer. None: it did not, and
        its row stays ``sending`` (the request may have reached Telegram)."""
        task = asyncio.ensure_future(sending)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done() and delivery.id in work.requesting:
                await asyncio.wait({task}, timeout=self.options.drain)
        except BaseException:
            task.cancel()  # the worker itself was cancelled: so is its send
            raise
        finally:
            stopped.cancel()
        if task.done():
            return task.result()
        in_request = delivery.id in work.requesting
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if in_request:
            work.leases.pop(delivery.id, None)
            log.warning("run %s: delivery %s had no answer within the drain; it stays "
                        "'sending' until its lease lapses", work.run_id, delivery.id)
            return None
        return Outcome("pending", error="stopped before sending")

    async def _next(self, work: _RunWork) -> DeliveryDTO | None:
        """The next claimed delivery; claims a batch when the local queue is empty."""
        if not work.queue and not work.drained:
            async with work.fill:
                if not work.queue and not work.drained:
                    started = time.monotonic()
                    async with self.factory() as session, session.begin():
                        claimed = await PublishingRepo(session).claim_batch(
                            work.run_id, self.worker_id, self.options.batch,
                            timedelta(seconds=self.options.lease))
                    for delivery in claimed:
                        work.leases[delivery.id] = started + self.options.lease
                    work.queue.extend(reversed(claimed))
                    work.drained = not claimed
        return work.queue.pop() if work.queue else None

    async def _release(self, work: _RunWork) -> None:
        """Rows claimed but not sent (the run was stopped) go back to ``pending``."""
        ids = [d.id for d in work.queue]
        work.queue.clear()
        for delivery_id in ids:
            work.leases.pop(delivery_id, None)
        with contextlib.suppress(Exception):
            async with self.factory() as session, session.begin():
                await PublishingRepo(session).release(ids, self.worker_id)

    async def _settler(self, work: _RunWork) -> None:
        """Group commit: each transaction writes every outcome that finished meanwhile.
        A failed write is retried (the heartbeat keeps the rows' leases meanwhile); only at
        a stop, past ``settle_by``, are outcomes given up (those rows stay ``sending``)."""
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
                    if work.closing and time.monotonic() >= work.settle_by:
                        log.exception("run %s: %d outcomes could not be written before the "
                                      "stop; their rows stay 'sending' until their lease "
                                      "lapses", work.run_id, len(work.outcomes))
                        work.outcomes.clear()
                        break
                    log.warning("run %s: writing outcomes failed; retrying", work.run_id,
                                exc_info=failures == 1)
                    await asyncio.sleep(min(2.0, 0.1 * 2 ** failures))
                    continue
                failures = 0
                del work.outcomes[:len(batch)]
                for delivery, _ in batch:
                    work.leases.pop(delivery.id, None)
            if work.closing and not work.outcomes:
                return

    async def _record(self, batch: list[tuple[DeliveryDTO, Outcome]]) -> None:
        unsent = [d.id for d, o in batch if o.state == "pending"]
        done = [(d, o) for d, o in batch if o.state != "pending"]
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            await repo.settle_many([Settled(d.id, o.state, o.message_id, o.error,
                                            self.worker_id, d.attempts) for d, o in done])
            if unsent:
                await repo.release(unsent, self.worker_id)
            for delivery, outcome in done:
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

    async def _deliver(self, work: _RunWork, post: PostDTO, delivery: DeliveryDTO,
                       priority: int) -> Outcome:
        rendered = render.of_post(post, delivery.lang)
        if rendered is None:
            return Outcome("failed", error="no text in this language")
        errors = floods = migrations = 0
        while True:
            try:
                message = await self.send_once(rendered, delivery, priority, work)
                return Outcome("sent", message_id=message.message_id)
            except _LeaseShort:
                log.warning("run %s: delivery %s not sent: its lease could not be renewed",
                            work.run_id, delivery.id)
                return Outcome("pending", error="lease too short to send")
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

    async def send_once(self, rendered: Rendered, delivery: DeliveryDTO, priority: int,
                        work: _RunWork | None = None) -> Message:
        """One request, after the chat's limit and an overall slot allow it (and, for a row
        of ``work``, only while its lease outlasts the request)."""
        async with self.limiter.chat(delivery.chat_id, private=delivery.chat_kind == "private",
                                     priority=priority):
            if work is not None:
                if not await self._lease_holds(work, delivery.id):
                    raise _LeaseShort
                work.requesting.add(delivery.id)
            try:
                with already_paced():
                    return await self._request(rendered, delivery.chat_id)
            finally:
                if work is not None:
                    work.requesting.discard(delivery.id)

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
