"""Tests of the local Bot API server; ``serve`` gives a started server and an aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from localapi import LocalBotAPI


def make_bot(server: LocalBotAPI, token: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


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
