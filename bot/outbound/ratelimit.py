"""Telegram's sending limits, kept by construction rather than discovered through 429s.

One :class:`SendLimiter` per bot process paces every message the bot sends:

* **overall**: one send slot every ``(1 + safety) / rate`` seconds, evenly spaced, and never
  more than ``rate`` slots in any ``1 + 2 * safety`` seconds. A slot granted late (a busy
  machine's timers) lets the next come up to half an interval sooner, so late timers cost
  no capacity, while the window keeps any one second of requests within ``rate`` even when
  they reach Telegram up to ``2 * safety`` later than granted (the price: at most
  ``1 / (1 + safety)`` of the limit, 0.98 by default).
* **one private chat**: a burst of ``PRIVATE_BURST`` (3) messages, then one per
  ``1 + max(safety, 0.1)`` seconds (a token bucket; an edit costs half a message), counted
  from the moment each request is answered, so that one held up on its way cannot arrive
  closer to the next than Telegram allows; this costs one person nothing they would notice;
* **one group or channel**: at most 20 messages in any minute (an edit counts half), also
  counted from each answer.

Slots go to waiters by priority, not by arrival: citizens' interactive replies
(:data:`INTERACTIVE`) take the next free slot ahead of a broadcast, and alerts (priority > 0)
ahead of routine posts (0). Interactive replies therefore wait at most one slot interval even
while a large broadcast keeps the limiter saturated, and the broadcast still uses all the
capacity the replies leave. :class:`LimiterMiddleware` puts every API call of the bot
(handlers' replies, dialogue steps, reminders) through the same limiter, per chat and overall,
and retries a call Telegram answers with 429 after ``retry_after`` (a few times, not forever);
the delivery engine paces and retries its own sends and marks them so the middleware lets them
through. Before a call waits, the middleware gives back the database connection the current
update holds (:func:`storage.db.release_held`).

With a :class:`bot.outbound.budget.SharedBudget` (``REDIS_URL``), the overall slots and each
chat's limit are shared by every process of the bot through Redis; the local priority queue
still decides which of this process's waiters takes the slot it won. Without Redis, or while
it is unreachable, the limits are kept here alone (at ``rate / N`` once Redis has been
down for :data:`bot.outbound.budget.OUTAGE` seconds; before that, nothing is sent).

Time is read from ``clock`` and slept with ``sleep`` in *Telegram's* seconds: with
``time_scale`` k (tests and benchmarks against a local server whose clock runs k times
faster) one limiter second is 1/k real seconds, and ``safety`` is at least 5 real ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
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
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.outbound.budget import (
    ALERT_CLASS,
    BACKGROUND_CLASS,
    INTERACTIVE_CLASS,
    ROUTINE_CLASS,
    BudgetUnavailable,
    SharedBudget,
)
from storage.db import release_held

log = logging.getLogger(__name__)

INTERACTIVE = 1000
BACKGROUND = 100  # messages the bot writes first (reminders): after replies, before broadcasts
TELEGRAM_RATE = 30.0
GROUP_PER_MINUTE = 20
PRIVATE_INTERVAL = 1.0
PRIVATE_BURST = 3.0
PRIVATE_MARGIN = 0.1
# Shared by processes, one chat's messages may leave two processes with different delays
# after their slots: a wider margin (a reply 0.15 s later, unnoticeable) absorbs that.
SHARED_PRIVATE_MARGIN = 0.25
EDIT_WEIGHT = 0.5
RETRIES = 3  # a call answered 429 is sent again at most this many times
MAX_RETRY_AFTER = 60.0  # a longer flood wait is not waited out inside one call

_paced: ContextVar[bool] = ContextVar("paced", default=False)
_priority: ContextVar[int | None] = ContextVar("send_priority", default=None)


@contextlib.contextmanager
def already_paced() -> Iterator[None]:
    """Sends inside this block were paced by the caller; the middleware lets them through."""
    token = _paced.set(True)
    try:
        yield
    finally:
        _paced.reset(token)


@contextlib.contextmanager
def sending_at(priority: int) -> Iterator[None]:
    """Calls inside this block take limiter slots at ``priority`` instead of the default."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def priority_class(priority: int) -> int:
    """The shared budget's class of a limiter priority (see :mod:`bot.outbound.budget`)."""
    if priority >= INTERACTIVE:
        return INTERACTIVE_CLASS
    if priority >= BACKGROUND:
        return BACKGROUND_CLASS
    return ALERT_CLASS if priority > 0 else ROUTINE_CLASS


def is_edit(method_name: str) -> bool:
    """Methods Telegram counts toward one chat's limit only (at ``EDIT_WEIGHT``)."""
    return method_name.lower().startswith("editmessage")


def is_send(method_name: str) -> bool:
    """Methods Telegram counts toward the overall message rate."""
    name = method_name.lower()
    return (name.startswith("send") and name != "sendchataction") or name in (
        "copymessage", "forwardmessage", "copymessages", "forwardmessages",
    )


_Chat = tuple[int, bool, float]  # chat id, private, weight
_Waiter = tuple[int, int, "asyncio.Future[None]", "_Chat | None"]


class SendLimiter:
    """Priority-ordered pacing of sends, overall and per chat (see the module docstring)."""

    def __init__(
        self, rate: float = TELEGRAM_RATE, *, time_scale: float = 1.0, safety: float = 0.02,
        shared: SharedBudget | None = None,
    ) -> None:
        if rate <= 0 or time_scale <= 0:
            raise ValueError("rate and time_scale must be positive")
        # On an accelerated clock a few real milliseconds of scheduling jitter become many
        # Telegram milliseconds: tolerate at least 5 ms of real lateness.
        safety = max(safety, 0.005 * time_scale)
        self.rate, self.time_scale, self.safety = rate, time_scale, safety
        self.interval = (1.0 + safety) / rate
        self.private_interval = PRIVATE_INTERVAL + max(
            safety, PRIVATE_MARGIN if shared is None else SHARED_PRIVATE_MARGIN)
        self.catch_up = min(self.interval / 2, safety / 8)  # the shared budget's
        self.span = 1.0 + 2 * safety  # no more than ``rate`` grants in any such span
        self._window: deque[float] = deque()
        self._recent_429: deque[float] = deque(maxlen=3)
        self._next = 0.0
        self._hold_until = 0.0
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._private_tokens: dict[int, tuple[float, float]] = {}
        self._group_sends: dict[int, deque[tuple[float, float]]] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._t0 = time.monotonic()
        self.granted = 0
        self._runs: Counter[int] = Counter()
        self._runs_changed = asyncio.Condition()
        self.shared = shared

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

    async def slot(self, priority: int = 0, chat: _Chat | None = None) -> None:
        """Wait for the next overall send slot; higher priority is served first.

        A broadcast slot also waits while a broadcast of higher priority is running (an alert
        preempts a routine post outright instead of sharing the slots its workers leave).
        With the shared budget, ``chat`` (id, private, weight) is counted in the same
        Redis step as the slot, so both hold at the moment of sending.
        """
        if priority < INTERACTIVE:
            async with self._runs_changed:
                await self._runs_changed.wait_for(
                    lambda: not any(n and p > priority for p, n in self._runs.items()))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (-priority, next(self._seq), future, chat))
        self._wake_pump()
        await future

    def _wake_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._grant(), name="send-limiter")

    def _requeue(self, waiter: _Waiter) -> None:
        if not waiter[2].done():
            heapq.heappush(self._waiters, waiter)
            self._wake_pump()

    async def _shared_slot(self) -> _Waiter | bool | None:
        """Win the next slot of the shared budget for the most urgent waiter (that waiter),
        or find Redis unreachable (False: pace locally at this process's share)."""
        assert self.shared is not None
        while self._waiters:
            waiter = self._waiters[0]
            if waiter[2].done():
                heapq.heappop(self._waiters)
                continue
            try:
                outcome, wait = await self.shared.slot(
                    priority_class(-waiter[0]), self.interval / self.time_scale,
                    self.catch_up / self.time_scale, self.time_scale, waiter[3],
                    private_interval=self.private_interval, safety=self.safety)
            except BudgetUnavailable:
                return False
            if outcome == 2:  # its chat is busy (another process wrote to it): set aside
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                    heapq.heapify(self._waiters)
                asyncio.get_running_loop().call_later(wait, self._requeue, waiter)
                continue
            due = time.monotonic() + wait
            await asyncio.sleep(wait)
            if not outcome:
                continue
            # Woken late, this process's send would land among another's on-time ones:
            # give the slot up rather than crowd the window (one process alone is only
            # ever late behind its own sends, which shifts them all).
            late = time.monotonic() - due
            if self.shared.processes > 1 and late > self.safety / self.time_scale / 2:
                continue
            return waiter
        return None

    async def _grant(self) -> None:
        while self._waiters:
            if self.shared is not None and not self.shared.active and not self.shared.lost:
                # Redis missed an answer: the other processes still spend the whole budget
                # through it, so nothing is sent here until it answers (or is lost).
                await asyncio.sleep(self.shared.retry_in)
                continue
            now = self.clock()
            shared = self.shared is not None and self.shared.active
            ready_at = self._hold_until if shared else max(self._next, self._hold_until)
            if ready_at > now:
                await self.sleep(ready_at - now)
                continue
            if shared:
                won = await self._shared_slot()
                if won is False:
                    continue
                if isinstance(won, tuple) and not won[2].done():
                    won[2].set_result(None)
                    self.granted += 1
                continue
            share = 1
            if self.shared is not None and not self.shared.up:
                share = self.shared.processes  # this process's share while Redis is down
            cap = max(1, int(self.rate / share))
            while len(self._window) > cap:
                self._window.popleft()
            if len(self._window) == cap and (free := self._window[0] + self.span) > now:
                await self.sleep(free - now)
                continue
            _, _, future, _ = heapq.heappop(self._waiters)
            if future.done():
                continue
            future.set_result(None)
            self.granted += 1
            self._window.append(now)
            # A late wake-up may catch up half an interval, so a busy machine's late timers
            # cost no capacity; the window above keeps any 1 + 2 * safety seconds at
            # ``rate`` grants, so requests up to that much late still fit Telegram's 1 s.
            interval = self.interval * share
            self._next = max(self._next + interval, now + interval - interval / 2)

    # ---------------------------------------------------------------- one chat

    def _tokens(self, chat_id: int, now: float) -> float:
        tokens, stamp = self._private_tokens.get(chat_id, (PRIVATE_BURST, now))
        return min(PRIVATE_BURST, tokens + (now - stamp) / self.private_interval)

    def _chat_wait(self, chat_id: int, private: bool, weight: float) -> float:
        now = self.clock()
        if private:
            missing = weight - self._tokens(chat_id, now)
            return max(0.0, missing * self.private_interval)
        window = self._group_sends.get(chat_id)
        if not window:
            return 0.0
        while window and window[0][0] <= now - 60.0:
            window.popleft()
        excess = sum(w for _, w in window) + weight - GROUP_PER_MINUTE
        for stamp, w in window:
            if excess <= 0:
                break
            excess -= w
            if excess <= 0:
                return stamp + 60.0 + self.safety - now
        return 0.0

    def _note_chat(self, chat_id: int, private: bool, weight: float) -> float:
        now = self.clock()
        if private:
            self._private_tokens[chat_id] = (self._tokens(chat_id, now) - weight, now)
            if len(self._private_tokens) > 100_000:
                self._private_tokens = {k: v for k, v in self._private_tokens.items()
                                        if self._tokens(k, now) < PRIVATE_BURST}
        else:
            self._group_sends.setdefault(chat_id, deque()).append((now, weight))
        return now

    def _note_answered(self, chat_id: int, private: bool, admitted: float) -> None:
        """The request is answered, so it reached Telegram at some moment up to now: the
        chat's spacing counts from now. A request held up on its way (a busy machine, a slow
        network) therefore never arrives closer to the next one than Telegram allows."""
        now = self.clock()
        if private:
            entry = self._private_tokens.get(chat_id)
            if entry is not None and entry[1] == admitted:
                self._private_tokens[chat_id] = (entry[0], now)
        else:
            window = self._group_sends.get(chat_id)
            if window and window[-1][0] == admitted:
                window[-1] = (now, window[-1][1])

    @contextlib.asynccontextmanager
    async def chat(
        self, chat_id: int, *, private: bool, priority: int = 0, counts: bool = True
    ) -> Any:
        """Hold the right to send to ``chat_id`` now: its own limit, then an overall slot.

        ``counts=False`` is for edits, which Telegram counts at half a message toward the
        chat's limit and not toward the overall rate.
        Sends to the same chat are serialized so their spacing holds.
        """
        weight = 1.0 if counts else EDIT_WEIGHT
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            while (wait := self._chat_wait(chat_id, private, weight)) > 0:
                await self.sleep(wait)
            if counts:
                await self.slot(priority, (chat_id, private, weight))
            else:
                await self._shared_chat_wait(chat_id, private, weight)
            admitted = self._note_chat(chat_id, private, weight)
            try:
                yield
            finally:
                self._note_answered(chat_id, private, admitted)
        if not lock.locked() and len(self._chat_locks) > 10_000:
            self._chat_locks.pop(chat_id, None)


    async def _shared_chat_wait(self, chat_id: int, private: bool, weight: float) -> None:
        """An edit: counted in the shared budget of its chat once the chat is free."""
        while True:
            wait = await self._shared_chat(chat_id, private, weight, True)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _shared_chat(self, chat_id: int, private: bool, weight: float,
                           take: bool) -> float:
        """Real seconds the shared budget wants ``chat_id`` to wait (0: go; counted if
        ``take``). 0 without a reachable shared budget: the local limits decide alone."""
        if self.shared is None or not self.shared.active:
            return 0.0
        try:
            return await self.shared.chat(
                chat_id, private=private, weight=weight, scale=self.time_scale, take=take,
                private_interval=self.private_interval, safety=self.safety)
        except BudgetUnavailable:
            return 0.0


class LimiterMiddleware(BaseRequestMiddleware):
    """Every API call of the bot, paced and retried once in one place.

    Sends take their chat's limit and an overall slot (handlers' replies at
    :data:`INTERACTIVE`, or the priority of :func:`sending_at`), edits their chat's limit.
    A call Telegram answers with 429 waits ``retry_after`` and is sent again, at most
    ``retries`` times; a longer wait than ``max_wait`` is not waited out (the error goes to
    the caller). Calls the delivery engine paced itself pass straight through.
    """

    def __init__(self, limiter: SendLimiter, priority: int = INTERACTIVE, *,
                 retries: int = RETRIES, max_wait: float = MAX_RETRY_AFTER) -> None:
        self.limiter, self.priority = limiter, priority
        self.retries, self.max_wait = retries, max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if _paced.get():
            return await make_request(bot, method)
        await release_held()
        floods = 0
        while True:
            try:
                async with self._pace(method):
                    return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                floods += 1
                self.limiter.flooded(exc.retry_after)
                if floods > self.retries or exc.retry_after > self.max_wait:
                    raise
                log.info("%s answered 429; sending again in %s s",
                         method.__api_method__, exc.retry_after)
                await self.limiter.sleep(exc.retry_after)

    def _pace(self, method: TelegramMethod[Any]) -> contextlib.AbstractAsyncContextManager[Any]:
        name = method.__api_method__
        send, edit = is_send(name), is_edit(name)
        chat_id = getattr(method, "chat_id", None)
        priority = _priority.get()
        priority = self.priority if priority is None else priority
        if (send or edit) and isinstance(chat_id, int):
            # Telegram's private chats have the person's (positive) id; groups are negative.
            return self.limiter.chat(chat_id, private=chat_id > 0, priority=priority,
                                     counts=send)
        if send:
            return _slot(self.limiter, priority)
        return contextlib.nullcontext()


@contextlib.asynccontextmanager
async def _slot(limiter: SendLimiter, priority: int) -> AsyncIterator[None]:
    await limiter.slot(priority)
    yield
