"""Tests of the local Bot API server; ``serve`` gives a started server and an aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot

from localapi import LocalBotAPI
from tests.kit import make_bot

__all__ = ["make_bot", "serve"]


@asynccontextmanager
async def serve(**options: object) -> AsyncIterator[tuple[LocalBotAPI, Bot]]:
    server = LocalBotAPI(**options)  # type: ignore[arg-type]
    await server.start()
    token = server.register_bot(username="embassy_bot", first_name="Embassy")
    bot = make_bot(server, token)
    try:
        yield server, bot
    finally:
        await bot.session.close()
        await server.stop()
