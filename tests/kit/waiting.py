"""Waiting for something to happen: a condition with a deadline, never a fixed sleep.

The bot answers first and commits right after, and the local server records calls as they
arrive, so a test waits for the state it expects and returns as soon as it holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")
POLL = 0.02


async def until(check: Callable[[], T], timeout: float = 5.0) -> T:
    """``check()`` once it is truthy, or its last value when ``timeout`` runs out."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(POLL)


async def until_async(fetch: Callable[[], Awaitable[T]], done: Callable[[T], Any] = bool,
                      timeout: float = 5.0) -> T:
    """``await fetch()`` once ``done`` holds for it, or its last value after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fetch()
        if done(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(POLL)
