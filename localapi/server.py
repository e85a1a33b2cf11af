"""A local Telegram Bot API server that speaks real HTTP, for tests and the sandbox.

Start it, register a bot, point aiogram at it::

    server = LocalBotAPI(flood_limits=False, time_scale=1.0)
    await server.start()                        # port 0 picks a free port
    token = server.register_bot(username="embassy_bot", first_name="Embassy")
    bot = Bot(token, session=AiohttpSession(
        api=TelegramAPIServer.from_base(server.base_url)))

Routes: ``/bot{token}/{method}`` (GET or POST; JSON body, urlencoded or
multipart form, query string) and ``/file/bot{token}/{file_path}``.

The simulated world
-------------------
``add_user(first_name, language_code=None, username=None, last_name=None,
started=False) -> User`` (private chat id == user id; a bot may write to a
user only after the user wrote to it or with ``started=True``),
``add_group(title, members=(), admins=(), supergroup=False, forum=False,
bot_member=True, bot_admin=False, username=None) -> Chat``,
``add_channel(title, admins=(), bot_admin=True, username=None) -> Chat``.
Wherever a chat or user is expected you may pass the record or its id.

What people do (async; each returns the object it created, as Telegram JSON)
---------------------------------------------------------------------------
``send_message(user, text, chat=None, *, entities=None, reply_to=None,
thread_id=None)`` (``/commands``, ``@mentions`` and URLs get their entities
as Telegram adds them), ``send_photo(user, caption=None, chat=None)``,
``send_document(user, filename="file.txt", data=b"...", caption=None)``,
``send_sticker``, ``send_voice``, ``send_location(user, lat, lon)``,
``send_contact(user, phone_number, first_name=None)``,
``press_button(user, message, callback_data=None, *, text=None)`` (the
message, a view of it or its id must carry that button),
``press_callback(user, message_id, data, chat=None)`` (forged: no check),
``press_inline_callback(user, inline_message_id, data)`` (a button on an inline message),
``inline_query(user, query, offset="")``.
Synchronous: ``add_bot_to_group(group, by=user, as_admin=False)``,
``remove_bot_from_group(group, by=None)`` (both emit ``my_chat_member``),
``set_admin(group, user, admin=True)`` (promote or demote a member or a bot),
``advance(seconds)`` (the clock jumps: messages grow older, e.g. past
deleteMessage's 48 hours; deleteForumTopic removes a topic whatever its age).

Group privacy: like Telegram, a bot that is not an admin and was registered
with ``can_read_all_group_messages=False`` (the default) receives in groups
only commands, replies to its messages and messages that mention it.

What tests read
---------------
``messages(chat)`` current messages of a chat, both sides, oldest first, as
*views*: the Telegram Message dict plus ``html`` (text/caption rendered back
to Telegram HTML), ``edited`` and ``outgoing`` (sent by the bot).
``last_bot_message(chat)``, ``buttons(message) -> [[(text, data_or_url)]]``,
``reply_keyboard(chat)`` (rows of button texts or ``None``).
``await wait_for_messages(chat, count=1, timeout=5.0)`` waits (real seconds)
until the bot has sent or edited ``count`` messages in that chat since the
previous wait or ``mark(chat)``, and returns their views (``edited`` views for
edits). Raises ``TimeoutError`` listing what did arrive.
``calls`` (list of :class:`ApiCall`), ``calls_for(method)``, ``stats``
(:class:`~localapi.limits.Stats`), ``commands(scope=None,
language_code="")``, ``menu_for(user)`` (the menu a person sees, resolved by scope and
language as Telegram does), ``menu_button(chat=None)``, ``callback_answers`` (query id
-> params), ``inline_answers`` (query id -> params), ``chat_actions`` (list of
(chat_id, action)), ``webhook_info()``, ``subscribe()``/``unsubscribe(q)`` for
a queue of :class:`OutEvent`.

Faults and limits
-----------------
``flood_limits=True`` enables the model in :mod:`localapi.limits`.
``faults`` (:class:`Faults`): 5xx and hanging responses at a seeded rate.
``block(user)``/``unblock(user)``, ``deactivate(user)``, ``kick_bot(group)``,
``migrate_group(group) -> new supergroup id``, ``remove_chat(chat)``,
``storm_429(seconds, after=0)`` (every send answers 429 for that long, starting once
``after`` more sends have passed),
``lose_webhook_answers(count)`` (the update was delivered, the answer lost: sent again).

Several webhook processes
-------------------------
``webhook_balance="round_robin"`` or ``"by_chat"`` puts the server in front of N bot
processes as Telegram plus a load balancer would be: each ``setWebhook`` call adds its URL
to the bot's pool (a process that starts adds itself; ``deleteWebhook`` empties the pool;
``webhook_info()["urls"]`` lists it). Updates of one chat are posted one at a time and in
order, those of different chats in parallel up to ``max_connections``; round robin sends
each update to the next process, ``by_chat`` keeps a chat on one process. A failed post is
retried with Telegram's growing delay, to the next process of the pool. Without the option
(the default) a ``setWebhook`` replaces the URL and updates go one by one, as before.

``latency=(low, high)`` holds every HTTP answer for a uniform random ``low``-``high``
seconds of server time, as Telegram's 50-150 ms round trip does (``None``: no delay).
A send with ``allow_paid_broadcast`` counts toward ``paid_rate`` instead of the overall
30 messages/s.

Time: ``clock()`` is the server's clock in seconds since creation, running
``time_scale`` times faster than real time. Flood windows, ``retry_after``,
the long-polling ``timeout``, callback query expiry (15 s) and webhook retry
delays are measured on it; ``wait_for_messages`` timeouts and
``faults.hang_seconds`` are real seconds.

Several bots may be registered; helpers take ``bot=<token>`` and default to
the first one registered.
"""


from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import Any

import aiohttp
from aiohttp import web

from .control import WorldControl
from .limits import FloodConfig, FloodControl, Stats
from .methods.chats import Chats
from .methods.interaction import Interaction
from .methods.messages import Messages
from .methods.updates import Updates
from .people import PeopleAct
from .readings import Readings
from .records import (
    JSON,
    ApiCall,
    ApiError,
    Chat,
    Faults,
    StoredFile,
    Upload,
    User,
    bad_request,
)
from .state import BotState, Handler, Params
from .world import World

__all__ = ["LocalBotAPI"]

_JSON_PARAMS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
    "allowed_updates",
    "commands",
    "scope",
    "results",
    "menu_button",
    "media",
    "button",
    "message_ids",
}
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


class LocalBotAPI(WorldControl, PeopleAct, Readings):
    """The local Bot API server; see the module docstring for the whole surface.

    The state lives in one :class:`~localapi.world.World`; the Bot API methods live by area
    in :mod:`localapi.methods`, the control surface in :mod:`localapi.control` (building the
    world, faults), :mod:`localapi.people` (what people do) and :mod:`localapi.readings` (what
    tests read). This class serves HTTP and dispatches a method name to its handler.
    """

    def __init__(
        self,
        flood_limits: bool = False,
        time_scale: float = 1.0,
        faults: Faults | None = None,
        flood_config: FloodConfig | None = None,
        webhook_retry_delay: float = 1.0,
        latency: tuple[float, float] | None = None,
        webhook_balance: str | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if webhook_balance not in (None, "round_robin", "by_chat"):
            raise ValueError("webhook_balance is None, 'round_robin' or 'by_chat'")
        self.world = World(
            flood_limits=flood_limits,
            time_scale=time_scale,
            faults=faults or Faults(),
            flood_config=flood_config,
        )
        self.latency = latency
        self._latency_rng = random.Random(0)
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._updates = Updates(
            self.world, balance=webhook_balance, retry_delay=webhook_retry_delay, run=self.call
        )
        table: dict[str, Handler] = {}
        for area in (
            self._updates,
            Messages(self.world),
            Chats(self.world),
            Interaction(self.world),
        ):
            table.update(area.table())
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in table.items()
        }

    # ------------------------------------------------------------------ the world's state

    @property
    def flood_limits(self) -> bool:
        return self.world.flood_limits

    @flood_limits.setter
    def flood_limits(self, value: bool) -> None:
        self.world.flood_limits = value

    @property
    def time_scale(self) -> float:
        return self.world.time_scale

    @property
    def faults(self) -> Faults:
        return self.world.faults

    @property
    def flood(self) -> FloodControl:
        return self.world.flood

    @property
    def stats(self) -> Stats:
        return self.world.stats

    @property
    def calls(self) -> list[ApiCall]:
        return self.world.calls

    @property
    def users(self) -> dict[int, User]:
        return self.world.users

    @property
    def chats(self) -> dict[int, Chat]:
        return self.world.chats

    @property
    def files(self) -> dict[str, StoredFile]:
        return self.world.files

    @property
    def webhook_balance(self) -> str | None:
        return self._updates.balance

    @property
    def webhook_retry_delay(self) -> float:
        return self._updates.retry_delay

    def clock(self) -> float:
        """Server time in seconds since creation, ``time_scale`` times faster than real."""
        return self.world.clock()

    def now(self) -> int:
        """Unix time on the server clock, as used in ``date`` fields."""
        return self.world.now()

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of server time."""
        await self.world.sleep(seconds)

    def webhook_info(self, bot: str | None = None) -> JSON:
        return self._updates.webhook_info(self.world.bot(bot))

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving HTTP; returns and sets ``base_url``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        actual_port = sockets[0].getsockname()[1] if sockets else port
        self.base_url = f"http://{host}:{actual_port}"
        self._updates.http = aiohttp.ClientSession()
        self.world.closing = False
        return self.base_url

    async def stop(self) -> None:
        """Stop webhooks and the HTTP server; pending long polls return at once."""
        self.world.closing = True
        for bot in self.world.bots.values():
            bot.wake()
            await self._updates.stop_webhook(bot)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._updates.http is not None:
            await self._updates.http.close()
            self._updates.http = None

    async def __aenter__(self) -> LocalBotAPI:
        if not self.base_url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except ApiError as error:
            return web.json_response(error.payload(), status=error.code)
        state = self.world.bots.get(token)
        if state is None:
            return web.json_response(_UNAUTHORIZED, status=401)
        status, body = await self.call(state.token, method, params)
        if self.latency:
            await self.sleep(self._latency_rng.uniform(*self.latency))
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self.world.bots:
            return web.json_response(_UNAUTHORIZED, status=401)
        path = request.match_info["path"]
        for stored in self.world.files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    @staticmethod
    async def _read_params(request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON body") from None
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                files: dict[str, Upload] = {}
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = Upload(value.filename, value.file.read(), value.content_type)
                    else:
                        params[key] = value
                for key, value in list(params.items()):
                    if isinstance(value, str) and value.startswith("attach://"):
                        name = value[len("attach://") :]
                        if name in files:
                            params[key] = files.pop(name)
                for key, upload in files.items():
                    params.setdefault(key, upload)
        for key in _JSON_PARAMS & params.keys():
            value = params[key]
            if isinstance(value, str) and value[:1] in ("{", "["):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    # ------------------------------------------------------------------ dispatch

    async def call(self, token: str, method: str, params: JSON) -> tuple[int, JSON]:
        """Run one Bot API method as if it arrived over HTTP; returns (status, body)."""
        world = self.world
        state = world.bots[token]
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        world.stats.calls_per_method[name] += 1
        if entry is None:
            return self._record(state, name, params, ApiError(404, "Not Found: method not found"))
        handler = entry[1]
        fault = world.faults.draw(name)
        if fault and not world.faults.act_before_fault:
            return await self._fault(state, name, params, fault)
        try:
            if name == "getUpdates":
                result = await self._updates.get_updates(state, Params(params))
            else:
                async with world.lock:
                    result = handler(state, Params(params))
                    if asyncio.iscoroutine(result):
                        result = await result
        except ApiError as error:
            return self._record(state, name, params, error)
        if fault:
            return await self._fault(state, name, params, fault)
        return self._record(state, name, params, result)

    async def _fault(
        self, state: BotState, name: str, params: JSON, fault: str
    ) -> tuple[int, JSON]:
        if fault == "timeout":
            await asyncio.sleep(self.world.faults.hang_seconds)
            return self._record(state, name, params, ApiError(504, "Gateway Timeout"))
        if self.world.faults.rng.random() < 0.5:
            return self._record(state, name, params, ApiError(500, "Internal Server Error"))
        return self._record(state, name, params, ApiError(502, "Bad Gateway"))

    def _record(
        self, state: BotState, method: str, params: JSON, outcome: Any
    ) -> tuple[int, JSON]:
        world = self.world
        if isinstance(outcome, ApiError):
            status, body = outcome.code, outcome.payload()
            world.stats.errors[outcome.description] += 1
        else:
            status, body = 200, {"ok": True, "result": outcome}
        world.calls.append(ApiCall(method, params, body, status, world.clock(), state.user.id))
        return status, body
