"""``make run`` without a token: the local Bot API server, the real bot and a terminal chat.

Nothing leaves the machine: the bot long-polls the project's own server over HTTP
exactly as it would poll Telegram. The person at the terminal is a citizen, an
administrator of the bot (``ADMIN_IDS`` is set to them) and an administrator of a
simulated operators' forum group (``OPERATORS_CHAT_ID``), whose side they take with
``/as operator``. Each run starts from a fresh SQLite database in ``data/sandbox/``
(migrated, content imported), so that a simulated id never gains a role in the real
database; files the bot sends are saved in ``data/sandbox/files/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import TextIO

from bot.answers.content import ContentErrors
from bot.answers.store import import_content
from bot.config import Settings
from bot.factory import App, create_bot
from localapi import LocalBotAPI
from localapi.terminal import run_terminal_chat
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade

log = logging.getLogger(__name__)
SANDBOX = Path("data/sandbox")

BANNER = """\
Digital Embassy Assistant: local sandbox (no BOT_TOKEN set, nothing is sent to Telegram).
You are a citizen chatting with the bot, and also its administrator (/editors, /stats,
/newpost) and an officer in its operators' group. Try /start, /officer, or ask
"I lost my passport in Turkey" / "Германияға виза керек пе?". Set BOT_TOKEN to run for real.
"""


def _empty_database(folder: Path) -> str:
    """A new, migrated SQLite database in ``folder``; the previous run's is removed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "embassy.db"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


async def _fresh_database(folder: Path, content: Path) -> str:
    """:func:`_empty_database` filled from ``content``."""
    url = await asyncio.to_thread(_empty_database, folder)
    engine = create_engine(url)
    try:
        await import_content(create_session_factory(engine), content)
    finally:
        await engine.dispose()
    return url


async def run_sandbox(
    settings: Settings,
    language_code: str | None = None,
    *,
    folder: Path = SANDBOX,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        url = await _fresh_database(folder, settings.content_dir)
    except ContentErrors as exc:
        print(f"content in {settings.content_dir} is not valid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        root.setLevel(level)
        return 1
    server = LocalBotAPI()
    await server.start()
    token = server.register_bot(username="embassy_sandbox_bot", first_name="Digital Embassy")
    person = server.add_user(first_name="Sandbox", last_name="User",
                             language_code=language_code or settings.default_language)
    operators = server.add_group("Consular desk (sandbox)", admins=[person], forum=True,
                                 bot_admin=True)
    sandbox_settings = settings.model_copy(
        update={
            "bot": settings.bot.model_copy(update={"api_url": server.base_url}),
            "db": settings.db.model_copy(update={"url": url}),
            "admin_ids": (person.id,),
            "operators_chat_id": operators.id,
            "redis_url": None,
        }
    )
    app = await App.create(sandbox_settings)
    bot = create_bot(sandbox_settings, token=token)
    dp = app.dispatcher()
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    stdout.write(BANNER)
    stdout.flush()
    try:
        await run_terminal_chat(server, person, stdin=stdin, stdout=stdout,
                                operators=operators, files=folder / "files")
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(polling, 10)
        await bot.session.close()
        await app.close()
        await server.stop()
        root.setLevel(level)
    return 0
