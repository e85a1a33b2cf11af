"""Telegram's sending limits, kept by construction rather than discovered through 429s.

One :class:`SendLimiter` per bot process paces every message the bot sends:

* **overall**: one send slot every ``(1 + safety) / rate`` seconds. Slots are evenly spaced, so
  any one-second window holds at most ``rate`` sends even when a request reaches Telegram a
  little later than its slot was granted (about ``safety`` seconds of lateness tolerated;
  the price is a rate of ``1 / (1 + safety)`` of the limit, 0.96 by default).
* **one private chat**: at most one message per ``1 + safety`` seconds;
* **one group or channel**: at most 20 messages in any minute.

Slots go to waiters by priority, not by arrival: citizens' interactive replies
(:data:`INTERACTIVE`) take the next free slot ahead of a broadcast, and alerts (priority > 0)
ahead of routine posts (0). Interactive replies therefore wait at most one slot interval even
while a large broadcast keeps the limiter saturated, and the broadcast still uses all the
capacity the replies leave. :class:`LimiterMiddleware` puts every send of the bot (handlers'
replies included) through the same limiter; the delivery engine paces its own sends with the
per-chat rules and marks them so the middleware lets them through.

Time is read from ``clock`` and slept with ``sleep`` in *Telegram's* seconds: with
``time_scale`` k (tests and benchmarks against a local server whose clock runs k times
faster) one limiter second is 1/k real seconds, and ``safety`` is at least 5 real ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

INTERACTIVE = 1000
TELEGRAM_RATE = 30.0
GROUP_PER_MINUTE = 20
PRIVATE_INTERVAL = 1.0

_paced: ContextVar[bool] = ContextVar("paced", default=False)


@contextlib.contextmanager
def already_paced() -> Iterator[None]:
    """Sends inside this block were paced by the caller; the middleware lets them through."""
    token = _paced.set(True)
    try:
        yield
    finally:
        _paced.reset(token)


def is_send(method_name: str) -> bool:
    """Methods Telegram counts toward the overall message rate."""
    name = method_name.lower()
    return (name.startswith("send") and name != "sendchataction") or name in (
        "copymessage", "forwardmessage", "copymessages", "forwardmessages",
    )


class SendLimiter:
    """Priority-ordered pacing of sends, overall and per chat (see the module docstring)."""

    def __init__(
        self, rate: float = TELEGRAM_RATE, *, time_scale: float = 1.0, safety: float = 0.02
    ) -> None:
        if rate <= 0 or time_scale <= 0:
            raise ValueError("rate and time_scale must be positive")
        # On an accelerated clock a few real milliseconds of scheduling jitter become many
        # Telegram milliseconds: tolerate at least 5 ms of real lateness.
        safety = max(safety, 0.005 * time_scale)
        self.rate, self.time_scale, self.safety = rate, time_scale, safety
        self.interval = (1.0 + safety) / rate
        self.catch_up = min(self.interval / 2, safety / 8)
        self._recent_429: deque[float] = deque(maxlen=3)
        self._next = 0.0
        self._hold_until = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._private_last: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._t0 = time.monotonic()
        self.granted = 0
        self._runs: Counter[int] = Counter()
        self._runs_changed = asyncio.Condition()

    # ---------------------------------------------------------------- time

    def clock(self) -> float:
        """Telegram seconds since the limiter was created."""
        return (time.monotonic() - self._t0) * self.time_scale

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds / self.time_scale)

    def flooded(self, seconds: float) -> None:
        """Telegram answered 429 with ``retry_after=seconds``.

        The request itself waits and retries. A lone 429 is one request reaching Telegram
        late at a window's edge; a second within a second means Telegram is refusing the
        bot as a whole, and then no slot is granted until ``seconds`` have passed.
        """
        now = self.clock()
        self._recent_429.append(now)
        if len(self._recent_429) >= 2 and now - self._recent_429[-2] < 1.0:
            self._hold_until = max(self._hold_until, now + seconds)

    def hold(self, seconds: float) -> None:
        """Grant no slot for ``seconds`` (e.g. after a restart, while the sends of the
        process that died may still fill Telegram's current window)."""
        self._hold_until = max(self._hold_until, self.clock() + seconds)

    # ---------------------------------------------------------------- overall slots

    @contextlib.asynccontextmanager
    async def run(self, priority: int) -> AsyncIterator[None]:
        """A broadcast of ``priority`` is going out: lower-priority broadcasts wait for it."""
        async with self._runs_changed:
            self._runs[priority] += 1
        try:
            yield
        finally:
            async with self._runs_changed:
                self._runs[priority] -= 1
                self._runs_changed.notify_all()

    async def slot(self, priority: int = 0) -> None:
        """Wait for the next overall send slot; higher priority is served first.

        A broadcast slot also waits while a broadcast of higher priority is running (an alert
        preempts a routine post outright instead of sharing the slots its workers leave).
        """
        if priority < INTERACTIVE:
            async with self._runs_changed:
                await self._runs_changed.wait_for(
                    lambda: not any(n and p > priority for p, n in self._runs.items()))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (-priority, next(self._seq), future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._grant(), name="send-limiter")
        await future

    async def _grant(self) -> None:
        while self._waiters:
            now = self.clock()
            ready_at = max(self._next, self._hold_until)
            if ready_at > now:
                await self.sleep(ready_at - now)
                continue
            _, _, future = heapq.heappop(self._waiters)
            if future.done():
                continue
            future.set_result(None)
            self.granted += 1
            # A late wake-up may catch up only ``catch_up``: any ``rate`` slots still span
            # 1 + safety - catch_up seconds, the lateness of a request the window tolerates.
            self._next = max(self._next + self.interval, now + self.interval - self.catch_up)

    # ---------------------------------------------------------------- one chat

    def _chat_wait(self, chat_id: int, private: bool) -> float:
        now = self.clock()
        if private:
            last = self._private_last.get(chat_id)
            return 0.0 if last is None else last + PRIVATE_INTERVAL + self.safety - now
        window = self._group_sends.get(chat_id)
        if not window:
            return 0.0
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) < GROUP_PER_MINUTE:
            return 0.0
        return window[0] + 60.0 + self.safety - now

    def _note_chat(self, chat_id: int, private: bool) -> None:
        now = self.clock()
        if private:
            self._private_last[chat_id] = now
        else:
            self._group_sends.setdefault(chat_id, deque()).append(now)

    @contextlib.asynccontextmanager
    async def chat(
        self, chat_id: int, *, private: bool, priority: int = 0, counts: bool = True
    ) -> Any:
        """Hold the right to send to ``chat_id`` now: its own limit, then an overall slot.

        ``counts=False`` is for edits, which Telegram does not count toward the overall rate.
        Sends to the same chat are serialized so their spacing holds.
        """
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            while (wait := self._chat_wait(chat_id, private)) > 0:
                await self.sleep(wait)
            if counts:
                await self.slot(priority)
            self._note_chat(chat_id, private)
            yield
        if not lock.locked() and len(self._chat_locks) > 10_000:
            self._chat_locks.pop(chat_id, None)


class LimiterMiddleware(BaseRequestMiddleware):
    """Every send of the bot takes an overall slot; handlers' replies with top priority."""

    def __init__(self, limiter: SendLimiter, priority: int = INTERACTIVE) -> None:
        self.limiter, self.priority = limiter, priority

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not _paced.get() and is_send(method.__api_method__):
            await self.limiter.slot(self.priority)
        return await make_request(bot, method)
