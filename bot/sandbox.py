"""``make run`` without a token: the local Bot API server, the real bot and a terminal chat.

Nothing leaves the machine: the bot long-polls the project's own server over HTTP
exactly as it would poll Telegram, and the person at the terminal is a citizen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from bot.config import Settings
from bot.factory import App, create_bot
from bot.localapi import LocalBotAPI
from bot.localapi.terminal import run_terminal_chat

log = logging.getLogger(__name__)

BANNER = """\
Digital Embassy Assistant: local sandbox (no BOT_TOKEN set, nothing is sent to Telegram).
You are a citizen chatting with the bot. Try /start, press buttons by number, or ask
"I lost my passport in Turkey" / "Германияға виза керек пе?". Set BOT_TOKEN to run for real.
"""


async def run_sandbox(settings: Settings, language_code: str | None = None) -> int:
    server = LocalBotAPI()
    await server.start()
    token = server.register_bot(username="embassy_sandbox_bot", first_name="Digital Embassy")
    sandbox_settings = settings.model_copy(
        update={"bot": settings.bot.model_copy(update={"api_url": server.base_url})}
    )
    app = await App.create(sandbox_settings)
    bot = create_bot(sandbox_settings, token=token)
    dp = app.dispatcher()
    logging.getLogger().setLevel(logging.WARNING)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    citizen = server.add_user(first_name="Citizen",
                              language_code=language_code or settings.default_language)
    print(BANNER, file=sys.stdout, flush=True)
    try:
        await run_terminal_chat(server, citizen)
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(polling, 10)
        await bot.session.close()
        await app.close()
        await server.stop()
    return 0
