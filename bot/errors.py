"""Errors that stop start-up with one clear line instead of a traceback.

:func:`check_database` and :func:`check_bot_api` try ``DATABASE_URL`` and ``BOT_API_URL``
before anything else starts, and turn the failure into a :class:`StartupError` naming the
setting; a database that was never migrated is one too. The URL is shown without its
password; the bot token is never shown.
"""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Any

CHECK_SECONDS = 15.0


class StartupError(Exception):
    """Something outside the code is not ready (catalogs, database); the message says what."""


def _reason(exc: BaseException, *secrets: str) -> str:
    """The cause in a few words, on one line, with every secret taken out."""
    root: BaseException = exc
    for _ in range(10):  # the driver's own error, under SQLAlchemy's and aiogram's wrappers
        inner = getattr(root, "orig", None) or root.__cause__
        if not isinstance(inner, BaseException) or inner is root:
            break
        root = inner
    if isinstance(root, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(root, socket.gaierror):
        text = "unknown host"
    elif isinstance(root, TimeoutError | asyncio.TimeoutError):
        text = "no answer"
    else:
        text = str(root).strip().splitlines()[0] if str(root).strip() else type(root).__name__
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    text = re.sub(r"/bot[^/\s]+", "/bot…", text)
    return text[:300]


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown as it was given
        return url


async def check_database(url: str, *, migrated: bool = True) -> None:
    """Connect once to ``DATABASE_URL`` and, with ``migrated``, look that every table is
    there; :class:`StartupError` if either cannot be done."""
    from sqlalchemy import inspect, text

    from storage.db import create_engine

    engine = None
    try:
        engine = create_engine(url)
        async with asyncio.timeout(CHECK_SECONDS):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    except Exception as exc:  # noqa: BLE001 - every failure here means the same to a person
        raise StartupError(
            f"Cannot use DATABASE_URL {_shown_url(url)}: {_reason(exc)}") from None
    finally:
        if engine is not None:
            await engine.dispose()
    if migrated:
        _check_tables(url, tables)


def _check_tables(url: str, tables: set[str]) -> None:
    from storage.models import Base

    missing = sorted(set(Base.metadata.tables) - tables)
    if not missing:
        return
    what = ("has none of the bot's tables" if len(missing) == len(Base.metadata.tables)
            else f"lacks the table {missing[0]}"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    raise StartupError(f"The database at DATABASE_URL {_shown_url(url)} {what}: "
                       "run `python bot.py migrate`")


async def check_bot_api(bot: Any, api_url: str, token: str) -> None:
    """Ask ``BOT_API_URL`` who the bot is; :class:`StartupError` if it cannot answer."""
    from aiogram.exceptions import TelegramUnauthorizedError

    try:
        await bot.get_me(request_timeout=int(CHECK_SECONDS))
    except TelegramUnauthorizedError:
        raise StartupError(
            f"BOT_TOKEN was refused by BOT_API_URL {api_url}: Unauthorized") from None
    except Exception as exc:  # noqa: BLE001 - every failure here means the same to a person
        raise StartupError(
            f"Cannot reach BOT_API_URL {api_url}: {_reason(exc, token)}") from None
