"""Flood limits of the local Bot API server and its counters.

Telegram does not publish exact numbers; this module models the documented
guidance, measured on the server's (possibly accelerated) clock:

* **per bot overall**: at most ``global_rate`` (30) messages in any 1-second window
  (``paid_rate``, 1000, for sends with ``allow_paid_broadcast``);
* **private chat**: token bucket of ``private_burst`` (3) tokens refilled at
  ``private_rate`` (1) per second, so a short burst of 3 passes, then 1 msg/s;
* **group, supergroup or channel**: at most ``group_per_minute`` (20) messages
  in any 60-second window.

Sending methods (``send*``, ``copyMessage``, ``forwardMessage``) cost 1.
Edits (``editMessage*``) cost ``edit_weight`` (0.5) toward the per-chat limit
only and never toward the overall limit. A refused request consumes nothing.
Over a limit the caller gets ``retry_after`` whole seconds (at least 1): the
time after which the same request would pass.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass
class FloodConfig:
    """Tunable numbers of the flood model (see the module docstring)."""

    global_rate: int = 30
    paid_rate: int = 1000
    private_burst: float = 3.0
    private_rate: float = 1.0
    group_per_minute: int = 20
    edit_weight: float = 0.5


@dataclass
class Stats:
    """Counters a test or benchmark can read from ``server.stats``."""

    sent_per_chat: Counter[int] = field(default_factory=Counter)
    edits_per_chat: Counter[int] = field(default_factory=Counter)
    too_many_requests: int = 0
    retry_after_per_chat: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    calls_per_method: Counter[str] = field(default_factory=Counter)

    @property
    def total_sent(self) -> int:
        return sum(self.sent_per_chat.values())


class FloodControl:
    """Decides whether a send may pass now; keeps its own state per bot and chat."""

    def __init__(self, config: FloodConfig | None = None) -> None:
        self.config = config or FloodConfig()
        self._global: dict[int, deque[float]] = {}
        self._buckets: dict[tuple[int, int], tuple[float, float]] = {}
        self._windows: dict[tuple[int, int], deque[tuple[float, float]]] = {}

    def check(
        self, bot_id: int, chat_id: int, private: bool, now: float, edit: bool, paid: bool = False
    ) -> int:
        """Return 0 and record the send if allowed, else the retry_after seconds.

        ``paid`` (``allow_paid_broadcast``) raises the overall limit to ``paid_rate``.
        """
        cfg = self.config
        weight = cfg.edit_weight if edit else 1.0
        waits: list[float] = []

        sent = self._global.setdefault(bot_id, deque())
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        limit = cfg.paid_rate if paid else cfg.global_rate
        if not edit and len(sent) >= limit:
            waits.append(sent[len(sent) - limit] + 1.0 - now)

        key = (bot_id, chat_id)
        if private:
            tokens, stamp = self._buckets.get(key, (cfg.private_burst, now))
            tokens = min(cfg.private_burst, tokens + (now - stamp) * cfg.private_rate)
            if tokens < weight:
                waits.append((weight - tokens) / cfg.private_rate)
        else:
            window = self._windows.setdefault(key, deque())
            while window and window[0][0] <= now - 60.0:
                window.popleft()
            used = sum(w for _, w in window)
            if used + weight > cfg.group_per_minute:
                excess = used + weight - cfg.group_per_minute
                for stamp_at, w in window:
                    excess -= w
                    if excess <= 0:
                        waits.append(stamp_at + 60.0 - now)
                        break

        if waits:
            return max(1, math.ceil(max(waits) - 1e-9))

        if not edit:
            sent.append(now)
        if private:
            self._buckets[key] = (tokens - weight, now)
        else:
            self._windows[key].append((now, weight))
        return 0
