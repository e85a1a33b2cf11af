"""The real bot long polling the local Bot API server over HTTP, and the people talking to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.config import Settings
from bot.shared.middlewares import FloodMiddleware
from localapi import LocalBotAPI
from localapi.records import Chat, User
from storage.models.base import utcnow
from tests.kit.env import make_settings, seed_content
from tests.kit.rows import Rows
from tests.kit.waiting import until


def make_bot(server: LocalBotAPI, token: str) -> Bot:
    """An aiogram bot talking HTML to ``server`` over HTTP (no dispatcher behind it)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


@dataclass
class Clock:
    """The time the bot sees (``dp["travel_clock"]``): the test moves it, never sleeps."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Conversation:
    """One person talking to the running bot through the local Bot API server."""

    server: LocalBotAPI
    user: User

    async def say(self, text: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        self.server.mark(self.user)
        await self.server.send_message(self.user, text)
        return await self.server.wait_for_messages(self.user, count=count, timeout=timeout)

    async def press(self, label: str, message: dict[str, Any] | None = None,
                    timeout: float = 10.0) -> dict[str, Any]:
        """Press the button whose text contains ``label`` on ``message`` (default: latest)."""
        message = message or self.server.last_bot_message(self.user)
        assert message is not None, "no bot message to press a button on"
        for row in self.server.buttons(message):
            for text, data in row:
                if label in text:
                    self.server.mark(self.user)
                    await self.server.press_button(self.user, message, data)
                    got = await self.server.wait_for_messages(self.user, timeout=timeout)
                    return got[-1]
        labels = [t for row in self.server.buttons(message) for t, _ in row]
        raise AssertionError(f"no button with {label!r}; buttons: {labels}")

    def buttons(self, message: dict[str, Any]) -> list[str]:
        return [t for row in self.server.buttons(message) for t, _ in row]


@dataclass
class Started:
    """What :func:`start_bot` started: stop order and clean-up are its business."""

    server: LocalBotAPI
    settings: Settings
    app: Any
    dp: Any
    bot: Any


@asynccontextmanager
async def start_bot(
    db_url: str,
    server: LocalBotAPI,
    *,
    dispatcher: dict[str, Any] | None = None,
    setup: Callable[[Any], Any] | None = None,
    **extra: Any,
) -> AsyncIterator[Started]:
    """The real bot long-polling ``server`` (already started) over HTTP, until the block ends.

    ``extra`` are settings, ``dispatcher`` keyword arguments for the dispatcher factory,
    ``setup(dp)`` runs before polling starts (to put test doubles into the dispatcher).
    """
    from bot.factory import App, create_bot

    await seed_content(db_url)
    token = server.register_bot(username="embassy_bot", first_name="Embassy")
    settings = make_settings(db_url, api_url=server.base_url, **extra)
    app = await App.create(settings)
    bot = create_bot(settings, token=token)
    dp = app.dispatcher(**(dispatcher or {}))
    if setup is not None:
        setup(dp)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        await server.wait_for_calls("getUpdates", timeout=10)
        yield Started(server, settings, app, dp, bot)
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
        await bot.session.close()
        await app.close()


class RunningBot(Rows):
    """The started bot, its server, the people on it and the rows it wrote.

    With a consular desk (``desk=True`` in :func:`running`) ``group`` is the operators' forum
    group and ``officer`` its admin; with a ``clock`` the bot reads the time from it.
    """

    def __init__(self, started: Started, *, group: Chat | None = None,
                 officer: User | None = None, clock: Clock | None = None) -> None:
        super().__init__(started.app.session_factory)
        self.started = started
        self.server, self.settings, self.app = started.server, started.settings, started.app
        self.dp, self.bot = started.dp, started.bot
        self.group, self.officer, self.clock = group, officer, clock

    def person(self, first_name: str, language_code: str | None = "en") -> Conversation:
        user = self.server.add_user(first_name=first_name, language_code=language_code)
        return Conversation(self.server, user)

    def failed_calls(self, *ignored: str) -> list[str]:
        """Every API call the bot made that the server refused, as "method: description"."""
        skip = {"getUpdates", *ignored}
        return [f"{c.method}: {c.response.get('description')}" for c in self.server.calls
                if not c.ok and c.method not in skip]

    async def in_group(self, text: str, count: int = 1, timeout: float = 10.0,
                       who: User | None = None) -> list[dict[str, Any]]:
        """``who`` (default: the officer) writes in the desk group; the bot's next messages."""
        assert self.group is not None and self.officer is not None, "no desk group"
        self.server.mark(self.group)
        await self.server.send_message(who or self.officer, text, self.group)
        return await self.server.wait_for_messages(self.group, count=count, timeout=timeout)

    async def answer_to(self, query: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """The bot's answer to the callback query ``query``, once it gave one."""
        found = await until(lambda: self.server.callback_answers().get(query["id"]), timeout)
        if found is None:
            raise AssertionError("the callback query was never answered")
        return found


B = TypeVar("B", bound=RunningBot)


@asynccontextmanager
async def running(
    db_url: str,
    kind: type[B] = RunningBot,  # type: ignore[assignment]
    *,
    desk: bool = False,
    clock: Clock | None = None,
    long_scripts: bool = False,
    dispatcher: dict[str, Any] | None = None,
    setup: Callable[[Any], Any] | None = None,
    server: LocalBotAPI | None = None,
    **extra: Any,
) -> AsyncIterator[B]:
    """A local server with the real bot on it, as ``kind``, until the block ends.

    ``desk`` adds the officer Dana and the operators' forum group (read in English);
    ``clock`` becomes the bot's clock; ``long_scripts`` lifts the flood limit for scripted
    conversations; other keywords are settings (a callable gets the officer).
    """
    async with _server(server) as srv:
        group = officer = None
        if desk:
            officer = srv.add_user(first_name="Dana", last_name="Officer", language_code="en",
                                   started=True)
            group = srv.add_group("Consular desk", admins=[officer], forum=True, bot_admin=True)
            extra = {"operators_chat_id": group.id, "default_language": "en", **extra}
        extra = {key: value(officer) if callable(value) else value
                 for key, value in extra.items()}
        wiring = dict(dispatcher or {})
        if long_scripts:
            wiring.setdefault("flood", FloodMiddleware(limit=1000))

        def prepare(dp: Any) -> None:
            if clock is not None:
                dp["travel_clock"] = clock
            if setup is not None:
                setup(dp)

        async with start_bot(db_url, srv, dispatcher=wiring, setup=prepare, **extra) as s:
            yield kind(s, group=group, officer=officer, clock=clock)


@asynccontextmanager
async def _server(given: LocalBotAPI | None) -> AsyncIterator[LocalBotAPI]:
    if given is not None:
        yield given
        return
    async with LocalBotAPI() as server:
        yield server
