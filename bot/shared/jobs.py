"""One mechanism for all scheduled and periodic work, in every mode: the ``jobs`` table.

Every process runs a :class:`JobRunner`. It polls the table (every :data:`POLL` seconds,
and at once when this process schedules something due), claims due jobs of the kinds it
has handlers for with a lease (``owner``, ``lease_until``; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), runs each in a task and renews the leases of the jobs it runs every
``lease / 3`` seconds. When a process dies, its leases lapse and any live process claims
those jobs within ``lease + POLL`` seconds. A process that stops gives its leases back at
once.

A handler gets the job and returns when it is due again: ``None`` for a one-off job (the
row goes), a time (the row is rescheduled). A periodic job (``every`` seconds) returning
``None`` is due again ``every`` seconds later. A handler that raises is retried with
exponential backoff, :data:`MAX_ATTEMPTS` times, each failure one log line; then a one-off
job gives up (its row stays, ``due_at`` empty, with the last error) and a periodic one
waits for its next interval.

Keys are idempotent: scheduling ``post:12`` twice leaves one row, due at the later call's
time. :meth:`JobRunner.hold` takes a job at once in this process (a broadcast run that this
process starts), under the same lease and heartbeat as a polled one.

Jobs never hold a database connection while they run: the runner's own statements (claim,
renew, reschedule) are short transactions of their own, and handlers open their sessions
as they need them. Times are the injected ``clock`` (tests move it); leases are measured
on the real clock, as they are between processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbound.delivery import new_worker_id
from storage.jobs import JobDTO, JobRepo
from storage.models.base import utcnow

log = logging.getLogger(__name__)

POLL = 0.5  # seconds between polls of the table
LEASE = 10.0  # seconds a claim lasts without a heartbeat (renewed every LEASE / 3)
MAX_ATTEMPTS = 5
BACKOFF = 2.0  # seconds before the first retry; doubles, at most MAX_BACKOFF
MAX_BACKOFF = 300.0
CAPACITY = 32  # jobs one process runs at once
STOP_WAIT = 5.0  # seconds the loops and jobs get to end on their own at stop

Handler = Callable[[JobDTO], Awaitable[datetime | None]]
Work = Callable[[], Awaitable[datetime | None]]
T = TypeVar("T")


class Background(Protocol):
    """A feature's background work in this process: the factory builds each one, starts them
    in one order when the bot starts and stops them in the reverse order."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class PeriodicJob(Generic[T]):
    """``sweep`` as the periodic job ``key`` (every ``every``, in whichever process claims it).

    :meth:`stop` makes this process stop taking the job (a sweep under way finishes; tests
    stop it and call :meth:`sweep` themselves after moving the clock); :meth:`wake` makes it
    due now. Built by :meth:`JobRunner.every`.
    """

    def __init__(self, jobs: JobRunner, key: str, every: timedelta,
                 sweep: Callable[[], Awaitable[T]]) -> None:
        self.jobs, self.key, self.every, self._sweep = jobs, key, every, sweep
        self._pending: set[asyncio.Task[None]] = set()

    async def sweep(self) -> T:
        return await self._sweep()

    async def _job(self, job: JobDTO) -> None:
        await self._sweep()

    def wake(self) -> None:
        """Make the job due now (whichever process claims it does the work)."""
        task = asyncio.get_running_loop().create_task(self.jobs.run_now(self.key))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def start(self) -> None:
        self.jobs.periodic(self.key, self.every, self._job)

    async def stop(self) -> None:
        self.jobs.unregister(self.key)
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task


class JobRunner:
    """Claims, runs, reschedules; one per process, shared by every feature's jobs."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        *,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        poll: float = POLL,
        lease: float = LEASE,
        capacity: int = CAPACITY,
        stop_wait: float = STOP_WAIT,
    ) -> None:
        self.factory, self.clock, self.stop_wait = factory, clock, stop_wait
        self.owner = owner or new_worker_id()
        self.poll, self.lease, self.capacity = poll, lease, capacity
        self._handlers: dict[str, Handler] = {}
        self._periodic: dict[str, tuple[str, float, dict[str, Any]]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._running = False
        self._stopping = asyncio.Event()

    # ------------------------------------------------------------------ registration

    def register(self, kind: str, handler: Handler) -> None:
        """This process runs jobs of ``kind``; it claims no kind it has no handler for."""
        self._handlers[kind] = handler

    def unregister(self, kind: str) -> None:
        """Stop claiming ``kind`` here (jobs already running finish)."""
        self._handlers.pop(kind, None)

    def periodic(self, key: str, every: timedelta, handler: Handler,
                 payload: dict[str, Any] | None = None) -> None:
        """A job due every ``every``; its row is created at :meth:`start` if absent."""
        self.register(key, handler)
        self._periodic[key] = (key, every.total_seconds(), payload or {})
        if self._running:
            task = asyncio.get_running_loop().create_task(self._ensure(key))
            task.add_done_callback(lambda _: self.wake())

    def every(self, key: str, every: timedelta,
                 sweep: Callable[[], Awaitable[T]]) -> PeriodicJob[T]:
        """A feature's periodic job, registered here when it starts (:class:`PeriodicJob`)."""
        return PeriodicJob(self, key, every, sweep)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    # ------------------------------------------------------------------ scheduling

    async def schedule(self, key: str, kind: str, due: datetime,
                       payload: dict[str, Any] | None = None) -> None:
        """Create job ``key`` or move it to ``due`` (one row per key)."""
        async with self.factory() as session, session.begin():
            await JobRepo(session).put(key, kind, due, payload or {})
        if due <= self.clock() + timedelta(seconds=self.poll):
            self.wake()

    async def cancel(self, key: str) -> bool:
        async with self.factory() as session, session.begin():
            return await JobRepo(session).remove(key)

    async def get(self, key: str) -> JobDTO | None:
        async with self.factory() as session:
            return await JobRepo(session).get(key)

    async def run_now(self, key: str) -> None:
        """Make periodic job ``key`` due now."""
        kind, every, payload = self._periodic[key]
        async with self.factory() as session, session.begin():
            await JobRepo(session).put(key, kind, self.clock(), payload, every)
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Create the periodic rows, take what is due now, then poll and heartbeat."""
        if self._running:
            return
        self._running = True
        self._stopping = asyncio.Event()
        bind = self.factory.kw.get("bind")
        if bind is not None and bind.dialect.name == "sqlite":
            # SQLite serves one process: a lease another owner holds is a dead process's.
            async with self.factory() as session, session.begin():
                await JobRepo(session).release_others(self.owner)
        for key in self._periodic:
            await self._ensure(key)
        await self.poll_once()
        loop = asyncio.get_running_loop()
        self._loops = [loop.create_task(self._poll_loop(), name="jobs-poll"),
                       loop.create_task(self._heartbeat(), name="jobs-heartbeat")]

    async def stop(self) -> None:
        """Cancel what still runs and give every lease back, for another process now.

        The poll and heartbeat loops are asked to end between two statements rather than
        cancelled inside one (a statement cancelled half-way may leave SQLite's write lock
        with a connection nobody uses any more).
        """
        self._running = False
        self._stopping.set()
        self.wake()
        if self._loops:
            _, late = await asyncio.wait(self._loops, timeout=self.stop_wait)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        tasks = list(self._tasks.values())
        if tasks:  # a sweep under way may finish; what still runs then is cancelled
            _, late = await asyncio.wait(tasks, timeout=self.stop_wait)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with self.factory() as session, session.begin():
                await JobRepo(session).release_all(self.owner)

    async def wait_idle(self) -> None:
        """Until no job runs in this process (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    def running(self) -> list[str]:
        return sorted(self._tasks)

    # ------------------------------------------------------------------ polling

    async def _ensure(self, key: str) -> None:
        kind, every, payload = self._periodic[key]
        async with self.factory() as session, session.begin():
            await JobRepo(session).ensure(key, kind, self.clock(), payload, every)

    async def poll_once(self) -> int:
        """Claim and start due jobs; the number started."""
        room = self.capacity - len(self._tasks)
        kinds = self.kinds
        if room <= 0 or not kinds:
            return 0
        now, real = self.clock(), utcnow()
        async with self.factory() as session:
            due = await JobRepo(session).next_due(kinds, real)
        if due is None or due > now:
            return 0
        async with self.factory() as session, session.begin():
            claimed = await JobRepo(session).claim_due(
                self.owner, kinds, now, real, real + timedelta(seconds=self.lease), room)
        for job in claimed:
            handler = self._handlers.get(job.kind)
            if handler is None or job.key in self._tasks:
                continue
            self._spawn(job, lambda job=job, handler=handler: handler(job))  # type: ignore[misc]
        return len(claimed)

    async def _poll_loop(self) -> None:
        while self._running:
            try:
                await self.poll_once()
            except Exception as exc:  # noqa: BLE001 - the database may be away a moment
                log.warning("jobs: poll failed (%s: %s); trying again", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()

    async def _heartbeat(self) -> None:
        while self._running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.lease / 3)
            keys = list(self._tasks)
            if not self._running:
                return
            if not keys:
                continue
            try:
                async with self.factory() as session, session.begin():
                    held = await JobRepo(session).renew(
                        self.owner, keys, utcnow() + timedelta(seconds=self.lease))
            except Exception as exc:  # noqa: BLE001
                log.warning("jobs: lease renewal failed (%s); trying again", type(exc).__name__)
                continue
            for key in set(keys) - held:
                task = self._tasks.get(key)
                if task is not None and not task.done():
                    log.warning("jobs: %s lost its lease to another process; stopping it", key)
                    task.cancel()

    # ------------------------------------------------------------------ running

    async def hold(self, key: str, kind: str, payload: dict[str, Any],
                   work: Work) -> asyncio.Task[None] | None:
        """Run ``work`` as job ``key`` in this process now, unless another process holds it.

        The row is created if needed; ``work`` returns as a handler does. Returns the task
        running it, or None if a live lease elsewhere holds the job (that process does it).
        """
        if key in self._tasks:
            return None
        now = utcnow()
        async with self.factory() as session, session.begin():
            taken = await JobRepo(session).hold(key, kind, payload, self.owner, now,
                                                now + timedelta(seconds=self.lease))
        if not taken or key in self._tasks:  # or this process's poll took it meanwhile
            return None
        return self._spawn(JobDTO(key, kind, payload), work)

    def _spawn(self, job: JobDTO, work: Work) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._run(job, work), name=job.key)
        self._tasks[job.key] = task

        def forget(finished: asyncio.Task[None]) -> None:
            if self._tasks.get(job.key) is finished:
                del self._tasks[job.key]

        task.add_done_callback(forget)
        return task

    async def _run(self, job: JobDTO, work: Work) -> None:
        try:
            again = await work()
        except asyncio.CancelledError:
            raise  # stopping or the lease was lost: the row keeps its due time
        except Exception as exc:  # noqa: BLE001 - one log line, then a bounded retry
            await self._failed(job, exc)
            return
        await self._settle(job.key, again if again is not None else self._next(job))

    def _next(self, job: JobDTO) -> datetime | None:
        every = job.every_seconds or (self._periodic.get(job.key) or (None, None, None))[1]
        return self.clock() + timedelta(seconds=every) if every else None

    async def _settle(self, key: str, due: datetime | None) -> None:
        async with self.factory() as session, session.begin():
            repo = JobRepo(session)
            if due is None:
                await repo.done(key, self.owner)
            else:
                await repo.reschedule(key, self.owner, due)

    async def _failed(self, job: JobDTO, exc: Exception) -> None:
        async with self.factory() as session:
            current = await JobRepo(session).get(job.key)
        attempts = (current.attempts if current else job.attempts) + 1
        error = f"{type(exc).__name__}: {exc}"[:300]
        periodic = self._next(job) is not None
        if attempts < MAX_ATTEMPTS:
            wait = min(BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
            log.warning("jobs: %s failed (attempt %d of %d, %s); retrying in %.0f s",
                        job.key, attempts, MAX_ATTEMPTS, error, wait)
            due: datetime | None = self.clock() + timedelta(seconds=wait)
        elif periodic:
            log.error("jobs: %s failed %d times (%s); next at its usual interval",
                      job.key, attempts, error)
            due, attempts = self._next(job), 0
        else:
            log.error("jobs: %s failed %d times (%s); given up", job.key, attempts, error)
            due = None
        async with self.factory() as session, session.begin():
            await JobRepo(session).reschedule(job.key, self.owner, due, attempts=attempts,
                                              error=error)
