"""One send budget for every process of the bot, kept in Redis (``REDIS_URL``).

:class:`SharedBudget` is what :class:`bot.outbound.ratelimit.SendLimiter` asks before it
grants a send when several processes share one bot. Each question is one Lua script, run
atomically in one round trip, and times are Redis's own (``TIME``), so the processes' clocks
do not matter:

* **overall** (:data:`GLOBAL_SCRIPT`): a GCRA without burst. The key holds the theoretical
  arrival time (TAT) of the next send; a caller reserves the slot at ``max(TAT, now -
  catch_up)`` and the TAT moves one interval on, so slots stay evenly spaced across all
  processes exactly as within one. Each process's limiter asks for one slot at a time, for
  its most urgent waiter.
* **priorities**: a class may reserve a slot only up to its *horizon* ahead (citizens'
  replies 5 s, reminders 1 s, alerts 0.2 s, routine posts 0.1 s, in Telegram seconds), so
  broadcasts take only slots nobody nearer the front wants and a reply is never queued
  behind another process's broadcast. A broadcast class is also refused outright while a
  higher broadcast class (an alert) was granted a slot within the last second, anywhere: an
  alert preempts a routine post in every process, as it does within one.
* **one chat**: a GCRA with burst. A private chat takes a burst of 3, then one per
  1 + 0.25 s; a group or channel a burst of 5, then one per 4 s, which keeps any 60 s
  window at 20 or fewer (``1 + (60 + 16) / 4``). A send's chat is checked and counted in
  the same script as its overall slot, at the slot's moment: if the chat is not free by
  then, nothing is taken and the waiter is set aside until it is. Edits, which take no
  overall slot, ask :data:`CHAT_SCRIPT` alone.

Keys (prefix ``embassy:send:<bot id>:<hash of the token>``) expire by themselves: a chat's
once its bucket is full again, the overall ones a minute after the last send. The scripts
also keep a list of the processes that asked within the last 5 s. When Redis does not
answer, a process first sends nothing and asks again every :data:`RETRY_SOON` seconds: a
question that timed out on a busy machine is not an outage, and the other processes are still
spending the whole budget through Redis, so a send paced locally then would go over it (that
was where a few 429s per run came from). Only once Redis has not answered for
:data:`OUTAGE` seconds, which every process sees alike when it is really down, does a process
fall back to its local limiter at ``rate / N`` (N the processes it saw last), log one line,
and try Redis again every few seconds.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from typing import Any

log = logging.getLogger(__name__)

INTERACTIVE_CLASS, BACKGROUND_CLASS, ALERT_CLASS, ROUTINE_CLASS = 3, 2, 1, 0
HORIZON = {INTERACTIVE_CLASS: 5.0, BACKGROUND_CLASS: 1.0, ALERT_CLASS: 0.2, ROUTINE_CLASS: 0.1}
PREEMPT_WINDOW = 1.0  # Telegram seconds an alert's grant keeps routine broadcasts out
PROCESS_TTL = 5.0  # real seconds a process counts as sharing the budget after it asked
RETRY_EVERY = 5.0  # real seconds between tries to reach Redis again, once it is lost
RETRY_SOON = 0.1  # real seconds between tries while it may be a hiccup
OUTAGE = 3.0  # real seconds without an answer before a process paces alone
GROUP_INTERVAL = 4.0  # Telegram seconds per message in a group, with a burst of ...
GROUP_BURST = 5.0  # ... so that 1 + (60 + (5 - 1) * 4) / 4 = 20 in any minute

GLOBAL_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, catch_up, horizon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cls, window, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZADD', KEYS[3], now, ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[8]))
redis.call('PEXPIRE', KEYS[3], ttl)
local procs = redis.call('ZCARD', KEYS[3])
if cls < 2 then
  for h = cls + 1, 1 do
    local last = tonumber(redis.call('HGET', KEYS[2], tostring(h)) or '0')
    if now - last < window then
      return {0, window - (now - last), procs}
    end
  end
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now - catch_up)
if start - now > horizon then
  return {0, start - now - horizon, procs}
end
if KEYS[4] then
  local inc, cap = tonumber(ARGV[9]), tonumber(ARGV[10])
  local ctat = tonumber(redis.call('GET', KEYS[4]) or '0')
  local earliest = ctat + inc - cap
  if earliest > start then
    return {2, earliest - now, procs}
  end
  local new = math.max(ctat, start) + inc
  redis.call('SET', KEYS[4], string.format('%d', new), 'PX', math.floor((new - now) / 1000) + 1000)
end
redis.call('SET', KEYS[1], string.format('%d', start + interval), 'PX', ttl)
if cls < 2 then
  redis.call('HSET', KEYS[2], tostring(cls), string.format('%d', now))
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, start - now, procs}
"""

CHAT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local inc, cap, take = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local earliest = tat + inc - cap
if earliest > now then
  return earliest - now
end
if take then
  local new = math.max(tat, now) + inc
  redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.floor((new - now) / 1000) + 1000)
end
return 0
"""


class BudgetUnavailable(Exception):
    """Redis did not answer; the caller paces locally."""


class SharedBudget:
    """The Redis side of the send budget (see the module docstring).

    ``redis`` is a ``redis.asyncio.Redis`` client (give it short socket timeouts: a
    question that hangs holds up sending). Times passed in and returned are *real* seconds;
    the limiter converts its Telegram seconds with its ``time_scale``.
    """

    def __init__(self, redis: Any, prefix: str = "embassy:send") -> None:
        self.redis = redis
        self.prefix = prefix
        self.process = uuid.uuid4().hex[:12]
        self.processes = 1  # how many processes shared the budget at the last answer
        self.up = True
        self._retry_at = 0.0
        self._down_since: float | None = None
        self._global = redis.register_script(GLOBAL_SCRIPT)
        self._chat = redis.register_script(CHAT_SCRIPT)

    def bind(self, bot_id: int, token: str) -> None:
        """Keys of one bot: two bots on one Redis keep separate budgets (the token's hash
        tells apart bots that share an id, such as test servers' bots; never the token)."""
        tag = f":{bot_id}:{hashlib.sha256(token.encode()).hexdigest()[:12]}"
        if not self.prefix.endswith(tag):
            self.prefix += tag

    @property
    def active(self) -> bool:
        """Ask Redis now? False while it is down, until the next retry is due."""
        return self.up or time.monotonic() >= self._retry_at

    @property
    def lost(self) -> bool:
        """Redis has not answered for :data:`OUTAGE` seconds: pace alone at a share."""
        return (not self.up and self._down_since is not None
                and time.monotonic() - self._down_since >= OUTAGE)

    @property
    def retry_in(self) -> float:
        """Real seconds until Redis is asked again."""
        return max(0.0, self._retry_at - time.monotonic())

    def _down(self, exc: BaseException) -> BudgetUnavailable:
        now = time.monotonic()
        if self.up:
            log.warning("the shared send budget (Redis) is unreachable (%s); sends wait for "
                        "it up to %.0f s, then each process sends at 1/%d of the rate until "
                        "it is back", type(exc).__name__, OUTAGE, self.processes)
            self._down_since = now
        self.up = False
        self._retry_at = now + (RETRY_EVERY if self.lost else RETRY_SOON)
        return BudgetUnavailable(str(exc))

    def _back(self) -> None:
        if not self.up:
            log.warning("the shared send budget (Redis) is reachable again")
            self.up = True
        self._down_since = None

    def _chat_args(self, chat_id: int, private: bool, weight: float, scale: float,
                   private_interval: float, safety: float) -> tuple[str, int, int]:
        if private:
            step, burst = private_interval, 3.0
        else:
            step, burst = GROUP_INTERVAL + safety, GROUP_BURST
        us = 1_000_000 / scale
        return f"{self.prefix}:chat:{chat_id}", int(weight * step * us), int(burst * step * us)

    async def slot(self, cls: int, interval: float, catch_up: float, scale: float,
                   chat: tuple[int, bool, float] | None = None, *,
                   private_interval: float = 1.1, safety: float = 0.02) -> tuple[int, float]:
        """Reserve the next overall slot for class ``cls`` and, with ``chat`` (id, private,
        weight), that chat's next message at the same moment: (outcome, real seconds).
        Outcome 1: granted, send after the wait; 0: refused, ask again after the wait;
        2: the chat is not free by then, ask for it again after the wait."""
        us = 1_000_000
        keys = [f"{self.prefix}:tat", f"{self.prefix}:classes", f"{self.prefix}:procs"]
        args: list[Any] = [
            int(interval * us), int(catch_up * us), int(HORIZON[cls] / scale * us), cls,
            int(PREEMPT_WINDOW / scale * us), 60_000, self.process, int(PROCESS_TTL * us)]
        if chat is not None:
            key, inc, cap = self._chat_args(*chat, scale, private_interval, safety)
            keys.append(key)
            args += [inc, cap]
        try:
            outcome, wait, procs = await self._global(keys=keys, args=args)
        except Exception as exc:
            raise self._down(exc) from exc
        self._back()
        self.processes = max(1, int(procs))
        return int(outcome), int(wait) / us

    async def chat(self, chat_id: int, *, private: bool, weight: float, scale: float,
                   take: bool, private_interval: float, safety: float) -> float:
        """Real seconds until ``chat_id`` may get a message; 0 (and, with ``take``, the
        message counted) if it may now."""
        key, inc, cap = self._chat_args(chat_id, private, weight, scale, private_interval,
                                        safety)
        try:
            wait = await self._chat(keys=[key], args=[inc, cap, "1" if take else "0"])
        except Exception as exc:
            raise self._down(exc) from exc
        self._back()
        return int(wait) / 1_000_000

    async def close(self) -> None:
        close = getattr(self.redis, "aclose", None) or self.redis.close
        await close()


def budget_client(redis_url: str) -> Any:
    """A Redis client for the budget: short timeouts, and a bounded pool that makes a
    burst of sends wait for a connection instead of failing."""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(redis_url, max_connections=32, timeout=1.0,
                                           socket_timeout=1.0, socket_connect_timeout=1.0)
    return Redis(connection_pool=pool)


def create_send_budget(redis_url: str | None) -> SharedBudget | None:
    """The shared budget when ``REDIS_URL`` is set; None: each process paces alone."""
    return SharedBudget(budget_client(redis_url)) if redis_url else None


async def close_send_budget(send_budget: SharedBudget | None = None) -> None:
    """Dispatcher shutdown hook: the shared budget's Redis connection goes."""
    if send_budget is not None:
        await send_budget.close()
