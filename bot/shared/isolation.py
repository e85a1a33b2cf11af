"""One person's updates handled one at a time and in the order they came, also across processes.

This is aiogram's own mechanism, ``Dispatcher(events_isolation=...)``: its FSM middleware takes
the isolation lock of the update's FSM key (the person in a chat), reads the person's state
only once it holds it, and holds it around the whole handling of the update (database, reply,
new state). So ``/trip`` followed at once by the country is taken as the trip's country.

:class:`PersonIsolation` is a FIFO lock per key in this process (what aiogram's
``SimpleEventIsolation`` is, plus forgetting a key nobody waits for). With ``REDIS_URL`` it
also takes aiogram's ``RedisEventIsolation`` lock (on the FSM storage's Redis), after the local
one, so that processes sharing Redis exclude each other and one process's waiters still go in
arrival order. A Redis lock expires after :data:`LOCK_TIMEOUT` seconds, so a process that dies
holding it blocks that person for at most that long.

A webhook process answers an update only once its lock is taken (see
:data:`LOCK_TAKEN` and :mod:`bot.webhook`): Telegram sends the person's next update after that
answer, possibly to another process, which then waits for the lock instead of overtaking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey

log = logging.getLogger(__name__)

CONVERSATION_TTL = 24 * 3600  # seconds a conversation's state and data live in Redis
LOCK_TIMEOUT = 60  # seconds one update may hold a person's Redis lock

# Set by the webhook listener around the task that handles an update: set once the
# update's lock is held, so the listener can answer Telegram then.
LOCK_TAKEN: ContextVar[asyncio.Event | None] = ContextVar("lock_taken", default=None)


def _taken() -> None:
    event = LOCK_TAKEN.get()
    if event is not None:
        event.set()


class PersonIsolation(BaseEventIsolation):
    """A FIFO lock per FSM key in this process, then the ``shared`` (Redis) lock if any."""

    def __init__(self, shared: BaseEventIsolation | None = None) -> None:
        self.shared = shared
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @property
    def is_shared(self) -> bool:
        return self.shared is not None

    def waiting(self) -> int:
        """Keys with an update being handled or waiting in this process."""
        return len(self._locks)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self.shared is None:
                    _taken()
                    yield
                else:
                    async with self._shared_lock(self.shared, key):
                        yield
        finally:
            held = self._locks.get(key)  # gone if close() ran meanwhile (shutting down)
            if held is not None and held[0] is lock:
                if held[1] <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, held[1] - 1)

    @staticmethod
    @asynccontextmanager
    async def _shared_lock(shared: BaseEventIsolation,
                           key: StorageKey) -> AsyncGenerator[None, None]:
        from redis.exceptions import LockNotOwnedError

        failure: BaseException | None = None
        try:
            async with shared.lock(key):
                _taken()
                try:
                    yield
                except BaseException as exc:
                    failure = exc
                    raise
        except LockNotOwnedError:
            # Handling took longer than LOCK_TIMEOUT: the lock had expired (another update
            # of this person may have run meanwhile). The update itself is done.
            log.warning("an update held its person's lock longer than %s s", LOCK_TIMEOUT)
            if failure is not None:
                raise failure from None

    async def close(self) -> None:
        self._locks.clear()
        if self.shared is not None:
            await self.shared.close()


def create_events_isolation(storage: BaseStorage) -> PersonIsolation:
    """In process; with a Redis FSM storage, also across every process sharing that Redis."""
    from aiogram.fsm.storage.redis import RedisStorage

    if isinstance(storage, RedisStorage):
        lock_kwargs: dict[str, Any] = {"timeout": LOCK_TIMEOUT}
        return PersonIsolation(storage.create_isolation(lock_kwargs=lock_kwargs))
    return PersonIsolation()
