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
import builtins
import contextlib
import hashlib
import itertools
import json
import math
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .html import (
    EntityParseError,
    detect_entities,
    entities_to_html,
    parse_html,
    parse_markdown_v2,
    strip_text,
    utf16_len,
)
from .limits import FloodConfig, FloodControl, Stats
from .records import (
    JSON,
    ApiCall,
    ApiError,
    Chat,
    Faults,
    OutEvent,
    StoredFile,
    Topic,
    Upload,
    User,
    bad_request,
    forbidden,
)

__all__ = ["LocalBotAPI"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
CALLBACK_TTL = 15.0
NO_TEXT_BUTTONS = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
DEFAULT_UPDATES = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
]
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
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_MEDIA_KINDS = ("photo", "document", "sticker", "voice", "audio", "video", "animation")
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_post_messages",
    "can_edit_messages",
    "can_pin_messages",
    "can_manage_topics",
)


@dataclass
class _Stored:
    message: JSON
    outgoing: bool
    edited: bool = False


@dataclass
class _ChatLog:
    messages: dict[int, _Stored] = field(default_factory=dict)
    next_id: int = 1
    reply_keyboard: JSON | None = None


@dataclass
class _Bot:
    user: User
    token: str
    can_read_all_group_messages: bool = False
    supports_inline_queries: bool = True
    updates: list[JSON] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: list[str] = field(default_factory=lambda: list(DEFAULT_UPDATES))
    signal: asyncio.Event = field(default_factory=asyncio.Event)
    poll_generation: int = 0
    webhook: JSON | None = None
    webhook_task: asyncio.Task[None] | None = None
    webhook_error: tuple[int, str] | None = None
    webhook_urls: list[str] = field(default_factory=list)  # balanced mode: the pool
    webhook_turn: int = 0  # balanced mode: the round robin's position
    logs: dict[int, _ChatLog] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    commands: dict[tuple[Any, ...], list[JSON]] = field(default_factory=dict)
    menu_buttons: dict[int | None, JSON] = field(default_factory=dict)
    queries: dict[str, float] = field(default_factory=dict)
    callback_answers: dict[str, JSON] = field(default_factory=dict)
    inline_answers: dict[str, JSON] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)
    outbox: list[OutEvent] = field(default_factory=list)
    out_signal: asyncio.Event = field(default_factory=asyncio.Event)
    cursors: dict[int, int] = field(default_factory=dict)
    subscribers: list[asyncio.Queue[OutEvent]] = field(default_factory=list)

    def log(self, chat_id: int) -> _ChatLog:
        return self.logs.setdefault(chat_id, _ChatLog())

    def wake(self) -> None:
        self.signal.set()
        self.signal = asyncio.Event()


class _Params:
    """Request parameters with Telegram's lenient typing (form fields are strings)."""

    def __init__(self, raw: JSON) -> None:
        self.raw = raw

    def has(self, key: str) -> bool:
        return self.raw.get(key) not in (None, "")

    def str(self, key: str, default: str | None = None) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return default
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, (dict, list))
            else str(value)
        )

    # The methods below are named after builtins, which they shadow in the class body: their
    # annotations name the builtins explicitly.
    def int(self, key: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        value = self.raw.get(key)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def float(self, key: builtins.str) -> float:
        value = self.raw.get(key)
        if value is None:
            raise bad_request(f"{key} is empty")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"{key} is empty") from None

    def bool(self, key: builtins.str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, key: builtins.str) -> Any:
        value = self.raw.get(key)
        if isinstance(value, str) and value:
            try:
                return json.loads(value)
            except ValueError:
                if key == "reply_markup":
                    raise bad_request("can't parse reply keyboard markup JSON object") from None
                raise bad_request(f"can't parse {key} JSON object") from None
        return value if value != "" else None

    def chat_id(self, key: builtins.str = "chat_id") -> builtins.int | builtins.str:
        value = self.raw.get(key)
        if value in (None, ""):
            raise bad_request(f"{key} is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None


_Handler = Callable[[_Bot, _Params], Any]


class LocalBotAPI:
    """The local Bot API server; see the module docstring for the whole surface."""

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
        self.webhook_balance = webhook_balance
        self.latency = latency
        self._latency_rng = random.Random(0)
        self.flood_limits = flood_limits
        self.time_scale = time_scale
        self.faults = faults or Faults()
        self.flood = FloodControl(flood_config)
        self.stats = Stats()
        self.calls: list[ApiCall] = []
        self.webhook_retry_delay = webhook_retry_delay
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.base_url = ""
        self._bots: dict[str, _Bot] = {}
        self._bots_by_id: dict[int, _Bot] = {}
        self._default_token: str | None = None
        self._t0 = time.monotonic()
        self._epoch0 = time.time()
        self._storm_until = -1.0
        self._lost_answers = 0
        self._storm_after: tuple[int, float] | None = None
        self._started_everywhere: set[int] = set()
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._closing = False
        self._methods: dict[str, tuple[str, _Handler]] = {}
        self._register_methods()

    # ------------------------------------------------------------------ lifecycle

    def clock(self) -> float:
        """Server time in seconds since creation, ``time_scale`` times faster than real."""
        return (time.monotonic() - self._t0) * self.time_scale

    def now(self) -> int:
        """Unix time on the server clock, as used in ``date`` fields."""
        return int(self._epoch0 + self.clock())

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of server time."""
        await asyncio.sleep(max(seconds, 0) / self.time_scale)

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
        self._http = aiohttp.ClientSession()
        self._closing = False
        return self.base_url

    async def stop(self) -> None:
        """Stop webhooks and the HTTP server; pending long polls return at once."""
        self._closing = True
        for bot in self._bots.values():
            bot.wake()
            await self._stop_webhook(bot)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> LocalBotAPI:
        if not self.base_url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ world

    def register_bot(
        self,
        username: str = "test_bot",
        first_name: str = "Test Bot",
        *,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = True,
    ) -> str:
        """Create a bot and return its token ``"<id>:<secret>"``."""
        bot_id = 7_000_000_000 + next(self._ids)
        token = f"{bot_id}:{secrets.token_urlsafe(26)[:35]}"
        user = User(id=bot_id, first_name=first_name, username=username, is_bot=True)
        state = _Bot(
            user=user,
            token=token,
            can_read_all_group_messages=can_read_all_group_messages,
            supports_inline_queries=supports_inline_queries,
        )
        self._bots[token] = state
        self._bots_by_id[bot_id] = state
        for chat in self.chats.values():
            chat.bot_status.setdefault(bot_id, chat.new_bot_status)
        self.users[bot_id] = user
        self._default_token = self._default_token or token
        return token

    def bot_user(self, bot: str | None = None) -> User:
        return self._bot(bot).user

    def add_user(
        self,
        first_name: str = "Test",
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
        *,
        started: bool = False,
        is_premium: bool | None = None,
    ) -> User:
        """Create a person. ``started=True``: they pressed Start for every bot, even later ones."""
        user = User(
            id=200_000_000 + next(self._ids),
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        self.users[user.id] = user
        if started:
            self._started_everywhere.add(user.id)
        return user

    def add_group(
        self,
        title: str = "Test group",
        members: Iterable[User | int] = (),
        admins: Iterable[User | int] = (),
        supergroup: bool = False,
        forum: bool = False,
        *,
        bot_member: bool = True,
        bot_admin: bool = False,
        username: str | None = None,
    ) -> Chat:
        """Create a group (or supergroup/forum); the bots are in it unless ``bot_member=False``."""
        admin_ids = [self._user_id(a) for a in admins]
        member_ids = list(dict.fromkeys(admin_ids + [self._user_id(m) for m in members]))
        is_super = supergroup or forum
        number = next(self._ids)
        chat = Chat(
            id=-1_002_000_000_000 - number if is_super else -4_000_000_000 - number,
            type="supergroup" if is_super else "group",
            title=title,
            username=username,
            is_forum=forum,
            members=member_ids,
            admins=admin_ids,
        )
        chat.new_bot_status = "administrator" if bot_admin else "member" if bot_member else "left"
        for bot_id in self._bots_by_id:
            chat.bot_status[bot_id] = chat.new_bot_status
        self.chats[chat.id] = chat
        return chat

    def add_channel(
        self,
        title: str = "Test channel",
        admins: Iterable[User | int] = (),
        *,
        bot_admin: bool = True,
        username: str | None = None,
    ) -> Chat:
        """Create a channel; the bots are its administrators unless ``bot_admin=False``."""
        admin_ids = [self._user_id(a) for a in admins]
        chat = Chat(
            id=-1_002_000_000_000 - next(self._ids),
            type="channel",
            title=title,
            username=username,
            members=list(admin_ids),
            admins=admin_ids,
        )
        chat.new_bot_status = "administrator" if bot_admin else "left"
        for bot_id in self._bots_by_id:
            chat.bot_status[bot_id] = chat.new_bot_status
        self.chats[chat.id] = chat
        return chat

    def block(self, user: User | int, bot: str | None = None) -> None:
        """The user blocks the bot (emits ``my_chat_member`` with status kicked)."""
        state, person = self._bot(bot), self._user(user)
        if person.id not in state.blocked_by:
            state.blocked_by.add(person.id)
            self._private_member_update(state, person, "member", "kicked")

    def unblock(self, user: User | int, bot: str | None = None) -> None:
        state, person = self._bot(bot), self._user(user)
        if person.id in state.blocked_by:
            state.blocked_by.discard(person.id)
            self._private_member_update(state, person, "kicked", "member")

    def deactivate(self, user: User | int) -> None:
        """The account is deleted: sends to it answer ``user is deactivated``."""
        self._user(user).deactivated = True

    def kick_bot(self, group: Chat | int, bot: str | None = None) -> JSON:
        """An admin removes the bot from the group (``my_chat_member``)."""
        chat = self._chat(group)
        return self.remove_bot_from_group(
            chat, by=chat.admins[0] if chat.admins else None, bot=bot
        )

    def add_bot_to_group(
        self,
        group: Chat | int,
        by: User | int | None = None,
        *,
        as_admin: bool = False,
        bot: str | None = None,
    ) -> JSON:
        """A member adds the bot; returns the ``my_chat_member`` payload."""
        state, chat = self._bot(bot), self._chat(group)
        actor = self._user(by) if by is not None else self._first_admin(chat)
        old = chat.bot_status.get(state.user.id, "left")
        new = "administrator" if as_admin else "member"
        chat.bot_status[state.user.id] = new
        if actor.id not in chat.members:
            chat.members.append(actor.id)
        update = self._chat_member_update(state, chat.to_dict(), actor, old, new)
        if chat.type != "channel":
            self._store_incoming(
                state, chat, actor, {"new_chat_members": [state.user.to_dict()]}, deliver=True
            )
        return update

    def remove_bot_from_group(
        self, group: Chat | int, by: User | int | None = None, *, bot: str | None = None
    ) -> JSON:
        """The bot is removed (``kicked``; ``left`` in basic groups)."""
        state, chat = self._bot(bot), self._chat(group)
        actor = self._user(by) if by is not None else self._first_admin(chat)
        old = chat.bot_status.get(state.user.id, "member")
        new = "left" if chat.type == "group" else "kicked"
        chat.bot_status[state.user.id] = "kicked"
        return self._chat_member_update(state, chat.to_dict(), actor, old, new)

    def migrate_group(self, group: Chat | int) -> int:
        """Upgrade a basic group to a supergroup; returns the new chat id."""
        old = self._chat(group)
        number = next(self._ids)
        new = Chat(
            id=-1_002_000_000_000 - number,
            type="supergroup",
            title=old.title,
            members=list(old.members),
            admins=list(old.admins),
            bot_status=dict(old.bot_status),
        )
        self.chats[new.id] = new
        old.migrated_to = new.id
        actor = self._first_admin(old)
        for state in self._bots.values():
            if old.bot_status.get(state.user.id) in ("member", "administrator"):
                self._store_incoming(state, old, actor, {"migrate_to_chat_id": new.id}, True)
                self._store_incoming(state, new, actor, {"migrate_from_chat_id": old.id}, True)
        return new.id

    def remove_chat(self, chat: Chat | int) -> None:
        """The chat disappears: every method answers ``chat not found``."""
        chat_id = chat.id if isinstance(chat, (Chat, User)) else chat
        if chat_id in self.chats:
            self.chats[chat_id].removed = True
        elif chat_id in self.users:
            self.users[chat_id].deactivated = True

    def lose_webhook_answers(self, count: int = 1) -> None:
        """The bot's answers to the next ``count`` webhook deliveries never arrive: the update
        was delivered, but, as Telegram does when no answer comes in time, it is sent again."""
        self._lost_answers += count

    def storm_429(self, seconds: float, *, after: int = 0) -> None:
        """Every sending method answers 429 for ``seconds`` of server time, from now or
        from the moment ``after`` more sends have passed."""
        if after > 0:
            self._storm_after = (after, seconds)
            return
        self._storm_until = self.clock() + seconds

    def advance(self, seconds: float) -> None:
        """Time passes at once: the server clock, and so every message's age, jumps ahead."""
        self._t0 -= seconds / self.time_scale

    def set_admin(self, group: Chat | int, user: User | int, admin: bool = True) -> None:
        """The creator promotes a member (or a bot) to administrator, or demotes them."""
        chat, user_id = self._chat(group), self._user_id(user)
        if user_id in self._bots_by_id:
            chat.bot_status[user_id] = "administrator" if admin else "member"
            return
        if chat.admins and chat.admins[0] == user_id:
            raise ValueError("the creator cannot be demoted")
        if user_id not in chat.members:
            chat.members.append(user_id)
        if admin and user_id not in chat.admins:
            chat.admins.append(user_id)
        elif not admin and user_id in chat.admins:
            chat.admins.remove(user_id)

    # ------------------------------------------------------------------ people act

    async def send_message(
        self,
        user: User | int,
        text: str,
        chat: Chat | int | None = None,
        *,
        entities: list[JSON] | None = None,
        reply_to: JSON | int | None = None,
        thread_id: int | None = None,
        bot: str | None = None,
    ) -> JSON:
        """The user writes ``text`` to the bot (private) or into ``chat``."""
        content: JSON = {"text": text}
        found = entities if entities is not None else detect_entities(text)
        if found:
            content["entities"] = found
        return await self._user_sends(user, chat, content, reply_to, thread_id, bot)

    async def send_photo(
        self,
        user: User | int,
        caption: str | None = None,
        chat: Chat | int | None = None,
        *,
        data: bytes = b"\xff\xd8\xff fake jpeg",
        bot: str | None = None,
    ) -> JSON:
        content: JSON = {
            "photo": self._photo_sizes(self._store_file(data, "photo.jpg", "image/jpeg"))
        }
        if caption:
            content["caption"] = caption
        return await self._user_sends(user, chat, content, None, None, bot)

    async def send_document(
        self,
        user: User | int,
        filename: str = "file.txt",
        data: bytes = b"hello",
        caption: str | None = None,
        chat: Chat | int | None = None,
        *,
        mime_type: str = "text/plain",
        bot: str | None = None,
    ) -> JSON:
        stored = self._store_file(data, filename, mime_type)
        content: JSON = {"document": self._file_object(stored, "document")}
        if caption:
            content["caption"] = caption
        return await self._user_sends(user, chat, content, None, None, bot)

    async def send_sticker(
        self,
        user: User | int,
        emoji: str = "👍",
        chat: Chat | int | None = None,
        *,
        bot: str | None = None,
    ) -> JSON:
        stored = self._store_file(b"RIFF fake webp", "sticker.webp", "image/webp")
        sticker = {**self._file_object(stored, "sticker"), "emoji": emoji}
        return await self._user_sends(user, chat, {"sticker": sticker}, None, None, bot)

    async def send_voice(
        self,
        user: User | int,
        duration: int = 3,
        chat: Chat | int | None = None,
        *,
        bot: str | None = None,
    ) -> JSON:
        stored = self._store_file(b"OggS fake voice", "voice.ogg", "audio/ogg")
        voice = {**self._file_object(stored, "voice"), "duration": duration}
        return await self._user_sends(user, chat, {"voice": voice}, None, None, bot)

    async def send_location(
        self,
        user: User | int,
        latitude: float,
        longitude: float,
        chat: Chat | int | None = None,
        *,
        bot: str | None = None,
    ) -> JSON:
        location = {"latitude": latitude, "longitude": longitude}
        return await self._user_sends(user, chat, {"location": location}, None, None, bot)

    async def send_contact(
        self,
        user: User | int,
        phone_number: str,
        first_name: str | None = None,
        *,
        user_id: int | None = None,
        chat: Chat | int | None = None,
        bot: str | None = None,
    ) -> JSON:
        """Share a contact; by default the user's own (as the request-contact button does)."""
        person = self._user(user)
        contact: JSON = {
            "phone_number": phone_number,
            "first_name": first_name or person.first_name,
            "user_id": user_id if user_id is not None else person.id,
        }
        return await self._user_sends(user, chat, {"contact": contact}, None, None, bot)

    async def press_button(
        self,
        user: User | int,
        message: JSON | int,
        callback_data: str | None = None,
        *,
        text: str | None = None,
        chat: Chat | int | None = None,
        bot: str | None = None,
    ) -> JSON:
        """Press an inline button (by data or text) on a bot message; returns the CallbackQuery."""
        state, person = self._bot(bot), self._user(user)
        chat_id = self._message_chat_id(message, chat, person)
        message_id = message if isinstance(message, int) else int(message["message_id"])
        stored = state.log(chat_id).messages.get(message_id)
        if stored is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        for row in stored.message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if "callback_data" not in button:
                    continue
                if (callback_data is not None and button["callback_data"] == callback_data) or (
                    callback_data is None and text is not None and button["text"] == text
                ):
                    return await self.press_callback(
                        person, message_id, button["callback_data"], chat=chat_id, bot=bot
                    )
        wanted = callback_data if callback_data is not None else text
        raise LookupError(f"message {message_id} has no callback button {wanted!r}")

    async def press_callback(
        self,
        user: User | int,
        message_id: int,
        data: str,
        chat: Chat | int | None = None,
        *,
        bot: str | None = None,
    ) -> JSON:
        """Send a callback query with any ``data`` for ``message_id``, without checking buttons."""
        async with self._lock:
            state, person = self._bot(bot), self._user(user)
            chat_id = self._chat_ref(chat) if chat is not None else person.id
            stored = state.log(chat_id).messages.get(message_id)
            chat_dict = self._chat_dict(chat_id)
            message: JSON = (
                stored.message
                if stored
                else {"message_id": message_id, "date": 0, "chat": chat_dict}
            )
            query_id = str(secrets.randbits(63))
            state.queries[query_id] = self.clock()
            query: JSON = {
                "id": query_id,
                "from": person.to_dict(),
                "message": message,
                "chat_instance": self._chat_instance(state, chat_id),
                "data": data,
            }
            self._enqueue(state, "callback_query", query)
            return query

    async def press_inline_callback(
        self, user: User | int, inline_message_id: str, data: str, *, bot: str | None = None
    ) -> JSON:
        """A button on a message sent via inline mode: the query has ``inline_message_id``
        and no ``message``, as Telegram sends it."""
        async with self._lock:
            state, person = self._bot(bot), self._user(user)
            query_id = str(secrets.randbits(63))
            state.queries[query_id] = self.clock()
            query: JSON = {
                "id": query_id,
                "from": person.to_dict(),
                "inline_message_id": inline_message_id,
                "chat_instance": str(secrets.randbits(63)),
                "data": data,
            }
            self._enqueue(state, "callback_query", query)
            return query

    async def inline_query(
        self, user: User | int, query: str, offset: str = "", *, bot: str | None = None
    ) -> JSON:
        """The user types ``@bot query``; returns the InlineQuery (see ``inline_answers``)."""
        async with self._lock:
            state, person = self._bot(bot), self._user(user)
            query_id = str(secrets.randbits(63))
            state.queries[query_id] = self.clock()
            payload: JSON = {
                "id": query_id,
                "from": person.to_dict(),
                "query": query,
                "offset": offset,
                "chat_type": "sender",
            }
            self._enqueue(state, "inline_query", payload)
            return payload

    # ------------------------------------------------------------------ tests read

    def messages(self, chat: Chat | User | int, *, bot: str | None = None) -> list[JSON]:
        """Current messages of the chat (both sides), oldest first, as views."""
        log = self._bot(bot).log(self._chat_ref(chat))
        return [self._view(stored) for stored in log.messages.values()]

    def last_bot_message(self, chat: Chat | User | int, *, bot: str | None = None) -> JSON | None:
        log = self._bot(bot).log(self._chat_ref(chat))
        for stored in reversed(list(log.messages.values())):
            if stored.outgoing:
                return self._view(stored)
        return None

    @staticmethod
    def buttons(message: JSON | None) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows as ``(text, callback_data or url or None)``."""
        if not message:
            return []
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return [
            [
                (
                    button["text"],
                    button.get("callback_data", button.get("url")),
                )
                for button in row
            ]
            for row in rows
        ]

    def reply_keyboard(
        self, chat: Chat | User | int, *, bot: str | None = None
    ) -> list[list[str]] | None:
        """Texts of the reply keyboard currently shown in the chat, or ``None``."""
        markup = self._bot(bot).log(self._chat_ref(chat)).reply_keyboard
        if not markup:
            return None
        return [
            [b if isinstance(b, str) else b.get("text", "") for b in row]
            for row in markup.get("keyboard", [])
        ]

    def mark(self, chat: Chat | User | int | None = None, *, bot: str | None = None) -> None:
        """Forget earlier bot output: the next wait counts only what comes after now."""
        state = self._bot(bot)
        if chat is None:
            for chat_id in list(state.cursors) + list(state.logs):
                state.cursors[chat_id] = len(state.outbox)
        else:
            state.cursors[self._chat_ref(chat)] = len(state.outbox)

    async def wait_for_messages(
        self,
        chat: Chat | User | int,
        count: int = 1,
        timeout: float = 5.0,
        *,
        bot: str | None = None,
    ) -> list[JSON]:
        """Wait until the bot sent or edited ``count`` more messages in the chat; return them."""
        state, chat_id = self._bot(bot), self._chat_ref(chat)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            cursor = state.cursors.get(chat_id, 0)
            found: list[tuple[int, OutEvent]] = [
                (index, event)
                for index, event in enumerate(state.outbox[cursor:], start=cursor)
                if event.chat_id == chat_id and event.kind in ("sent", "edited")
            ]
            if len(found) >= count:
                chosen = found[:count]
                state.cursors[chat_id] = chosen[-1][0] + 1
                return [event.message for _, event in chosen]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                got = [e.message.get("text") or e.message.get("caption") for _, e in found]
                raise TimeoutError(
                    f"expected {count} bot message(s) in chat {chat_id} "
                    f"within {timeout}s, got {got!r}"
                )
            signal = state.out_signal
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[ApiCall]:
        """Wait (real seconds) until ``method`` was called at least ``count`` times in total."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls_for(method)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(
                    f"{method} called {len(self.calls_for(method))} times, wanted {count}"
                )
            await asyncio.sleep(0.01)
        return self.calls_for(method)

    def calls_for(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def commands(
        self,
        scope: JSON | str | None = None,
        language_code: str = "",
        *,
        bot: str | None = None,
    ) -> list[JSON]:
        """Commands stored by setMyCommands for exactly this scope and language."""
        if isinstance(scope, str):
            scope = {"type": scope}
        return list(self._bot(bot).commands.get(self._scope_key(scope, language_code), []))

    def menu_for(self, user: User, *, bot: str | None = None) -> list[JSON]:
        """The command menu ``user`` sees in their private chat, resolved as Telegram does:
        chat scope, all private chats, default; each in the user's app language first."""
        state = self._bot(bot)
        lang = (user.language_code or "").split("-")[0].lower()
        for scope in ({"type": "chat", "chat_id": user.id}, {"type": "all_private_chats"},
                      {"type": "default"}):
            for code in ((lang, "") if lang else ("",)):
                found = state.commands.get(self._scope_key(scope, code))
                if found:
                    return list(found)
        return []

    def menu_button(
        self, chat: Chat | User | int | None = None, *, bot: str | None = None
    ) -> JSON:
        key = None if chat is None else self._chat_ref(chat)
        return self._bot(bot).menu_buttons.get(key, {"type": "default"})

    def callback_answers(self, bot: str | None = None) -> dict[str, JSON]:
        return self._bot(bot).callback_answers

    def inline_answers(self, bot: str | None = None) -> dict[str, JSON]:
        return self._bot(bot).inline_answers

    def chat_actions(self, bot: str | None = None) -> list[tuple[int, str]]:
        return self._bot(bot).chat_actions

    def pending_updates(self, bot: str | None = None) -> list[JSON]:
        return list(self._bot(bot).updates)

    def webhook_info(self, bot: str | None = None) -> JSON:
        return self._webhook_info(self._bot(bot))

    def subscribe(self, bot: str | None = None) -> asyncio.Queue[OutEvent]:
        """A queue receiving every later :class:`OutEvent` of the bot."""
        queue: asyncio.Queue[OutEvent] = asyncio.Queue()
        self._bot(bot).subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[OutEvent], bot: str | None = None) -> None:
        with contextlib.suppress(ValueError):
            self._bot(bot).subscribers.remove(queue)

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except ApiError as error:
            return web.json_response(error.payload(), status=error.code)
        state = self._bots.get(token)
        if state is None:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        status, body = await self.call(state.token, method, params)
        if self.latency:
            await self.sleep(self._latency_rng.uniform(*self.latency))
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self._bots:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _read_params(self, request: web.Request) -> JSON:
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

    async def call(self, token: str, method: str, params: JSON) -> tuple[int, JSON]:
        """Run one Bot API method as if it arrived over HTTP; returns (status, body)."""
        state = self._bots[token]
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        self.stats.calls_per_method[name] += 1
        if entry is None:
            return self._record(state, name, params, ApiError(404, "Not Found: method not found"))
        handler = entry[1]
        fault = self.faults.draw(name)
        if fault and not self.faults.act_before_fault:
            return await self._fault(state, name, params, fault)
        try:
            if name == "getUpdates":
                result = await self._get_updates(state, _Params(params))
            else:
                async with self._lock:
                    result = handler(state, _Params(params))
                    if asyncio.iscoroutine(result):
                        result = await result
        except ApiError as error:
            return self._record(state, name, params, error)
        if fault:
            return await self._fault(state, name, params, fault)
        return self._record(state, name, params, result)

    async def _fault(self, state: _Bot, name: str, params: JSON, fault: str) -> tuple[int, JSON]:
        if fault == "timeout":
            await asyncio.sleep(self.faults.hang_seconds)
            return self._record(state, name, params, ApiError(504, "Gateway Timeout"))
        if self.faults.rng.random() < 0.5:
            return self._record(state, name, params, ApiError(500, "Internal Server Error"))
        return self._record(state, name, params, ApiError(502, "Bad Gateway"))

    def _record(self, state: _Bot, method: str, params: JSON, outcome: Any) -> tuple[int, JSON]:
        if isinstance(outcome, ApiError):
            status, body = outcome.code, outcome.payload()
            self.stats.errors[outcome.description] += 1
        else:
            status, body = 200, {"ok": True, "result": outcome}
        self.calls.append(ApiCall(method, params, body, status, self.clock(), state.user.id))
        return status, body

    # ------------------------------------------------------------------ method table

    def _register_methods(self) -> None:
        table: dict[str, _Handler] = {
            "getMe": lambda bot, p: self._me(bot),
            "getUpdates": lambda bot, p: None,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": lambda bot, p: self._webhook_info(bot),
            "sendMessage": self._send_message,
            "editMessageText": self._edit_text,
            "editMessageReplyMarkup": self._edit_markup,
            "editMessageCaption": self._edit_caption,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback,
            "answerInlineQuery": self._answer_inline,
            "setMyCommands": self._set_commands,
            "getMyCommands": self._get_commands,
            "deleteMyCommands": self._delete_commands,
            "setChatMenuButton": self._set_menu_button,
            "getChatMenuButton": self._get_menu_button,
            "sendChatAction": self._send_chat_action,
            "sendLocation": self._send_location,
            "sendContact": self._send_contact,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_admins,
            "getChatMemberCount": self._get_member_count,
            "createForumTopic": self._create_topic,
            "editForumTopic": self._edit_topic,
            "closeForumTopic": lambda bot, p: self._set_topic_closed(bot, p, True),
            "reopenForumTopic": lambda bot, p: self._set_topic_closed(bot, p, False),
            "deleteForumTopic": self._delete_topic,
            "leaveChat": self._leave_chat,
            "getFile": self._get_file,
            "close": lambda bot, p: True,
            "logOut": lambda bot, p: True,
        }
        for kind in _MEDIA_KINDS:
            table["send" + kind.capitalize()] = self._media_sender(kind)
        self._methods = {name.lower(): (name, handler) for name, handler in table.items()}

    # ------------------------------------------------------------------ updates

    def _enqueue(self, state: _Bot, kind: str, payload: JSON) -> JSON:
        update = {"update_id": state.next_update_id, kind: json.loads(json.dumps(payload))}
        state.next_update_id += 1
        state.updates.append(update)
        state.wake()
        return update

    def _allowed(self, state: _Bot, update: JSON) -> bool:
        return any(key in state.allowed_updates for key in update if key != "update_id")

    async def _get_updates(self, state: _Bot, p: _Params) -> list[JSON]:
        if state.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = max(p.int("timeout", 0) or 0, 0)
        allowed = p.json("allowed_updates")
        state.poll_generation += 1
        generation = state.poll_generation
        state.wake()
        if isinstance(allowed, list):
            state.allowed_updates = list(allowed) or list(DEFAULT_UPDATES)
        if offset > 0:
            state.updates = [u for u in state.updates if u["update_id"] >= offset]
        elif offset < 0:
            state.updates = state.updates[offset:]
        deadline = self.clock() + timeout
        while True:
            state.updates = [u for u in state.updates if self._allowed(state, u)]
            if state.updates or self._closing:
                return state.updates[:limit]
            remaining = deadline - self.clock()
            if remaining <= 0:
                return []
            signal = state.signal
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining / self.time_scale)
            if state.poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )

    # ------------------------------------------------------------------ webhook

    def _set_webhook(self, state: _Bot, p: _Params) -> bool:
        url = p.str("url", "") or ""
        if not url:
            return self._delete_webhook(state, p)
        if not url.startswith(("http://", "https://")):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = p.str("secret_token")
        if secret is not None and not all(c.isalnum() or c in "_-" for c in secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.json("allowed_updates")
        if isinstance(allowed, list):
            state.allowed_updates = list(allowed) or list(DEFAULT_UPDATES)
        if p.bool("drop_pending_updates"):
            state.updates.clear()
        if self.webhook_balance is None:
            state.webhook_urls = [url]
        elif url not in state.webhook_urls:
            state.webhook_urls.append(url)  # one more process behind the balancer
        state.webhook = {
            "url": state.webhook_urls[0],
            "secret_token": secret,
            "max_connections": p.int("max_connections", 40),
        }
        state.webhook_error = None
        if state.webhook_task is None or state.webhook_task.done():
            deliver = self._deliver if self.webhook_balance is None else self._deliver_balanced
            state.webhook_task = asyncio.get_running_loop().create_task(deliver(state))
        state.poll_generation += 1
        state.wake()
        return True

    def _delete_webhook(self, state: _Bot, p: _Params) -> bool:
        if p.bool("drop_pending_updates"):
            state.updates.clear()
        state.webhook = None
        state.webhook_urls = []
        state.webhook_error = None
        if state.webhook_task is not None:
            state.webhook_task.cancel()
            state.webhook_task = None
        return True

    async def _stop_webhook(self, state: _Bot) -> None:
        task = state.webhook_task
        state.webhook_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _webhook_info(self, state: _Bot) -> JSON:
        info: JSON = {
            "url": state.webhook["url"] if state.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(state.updates),
        }
        if state.webhook:
            info["max_connections"] = state.webhook["max_connections"]
            if self.webhook_balance is not None:
                info["urls"] = list(state.webhook_urls)  # not Telegram's: the balancer's pool
            info["allowed_updates"] = list(state.allowed_updates)
            info["ip_address"] = "127.0.0.1"
        if state.webhook_error:
            info["last_error_date"], info["last_error_message"] = state.webhook_error
        return info

    async def _deliver(self, state: _Bot) -> None:
        """Post pending updates to the webhook one by one, retrying failures."""
        failures = 0
        while state.webhook and not self._closing:
            state.updates = [u for u in state.updates if self._allowed(state, u)]
            if not state.updates:
                signal = state.signal
                await signal.wait()
                continue
            update = state.updates[0]
            error = await self._post_update(state, state.webhook["url"], update)
            if error is None:
                failures = 0
                continue
            failures += 1
            state.webhook_error = (self.now(), error)
            await self.sleep(min(self.webhook_retry_delay * 2 ** (failures - 1), 60.0))

    async def _post_update(self, state: _Bot, url: str, update: JSON) -> str | None:
        """POST one update; on success drop it from the queue and run the answer's method.
        Returns the error Telegram would record, or None."""
        hook = state.webhook
        assert hook is not None
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        error: str | None = None
        reply: Any = None
        try:
            assert self._http is not None
            async with self._http.post(
                url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=60),
            ) as response:
                body = await response.read()
                if self._lost_answers > 0:
                    self._lost_answers -= 1
                    error = "Read timeout expired"
                elif 200 <= response.status < 300:
                    with contextlib.suppress(ValueError):
                        reply = json.loads(body) if body else None
                else:
                    error = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
        except asyncio.CancelledError:
            raise
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        if error is None:
            state.updates = [u for u in state.updates if u is not update]
            if isinstance(reply, dict) and isinstance(reply.get("method"), str):
                method = reply.pop("method")
                await self.call(state.token, method, reply)
        return error

    # ------------------------------------------------------------------ balanced webhooks

    @staticmethod
    def _update_chat(update: JSON) -> int | str:
        """Whose update this is (its chat, else its sender), for ordering and ``by_chat``."""
        for key, payload in update.items():
            if key == "update_id" or not isinstance(payload, dict):
                continue
            chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
            if isinstance(chat, dict) and "id" in chat:
                return int(chat["id"])
            sender = payload.get("from") or payload.get("user")
            if isinstance(sender, dict) and "id" in sender:
                return int(sender["id"])
        return f"update:{update['update_id']}"

    def _pick_url(self, state: _Bot, update: JSON, failures: int) -> str:
        urls = state.webhook_urls
        if self.webhook_balance == "by_chat":
            chat = self._update_chat(update)
            digest = hashlib.sha256(str(chat).encode()).digest()
            return urls[(int.from_bytes(digest[:4], "big") + failures) % len(urls)]
        state.webhook_turn = (state.webhook_turn + 1) % len(urls)
        return urls[state.webhook_turn]

    async def _deliver_balanced(self, state: _Bot) -> None:
        """Deliver as Telegram does behind a load balancer over several webhook processes.

        Updates of one chat go one at a time, in order: the next is posted once the
        previous one was answered. Updates of different chats go in parallel, at most
        ``max_connections`` at once. Each is posted to the next URL of the pool (round
        robin) or to its chat's URL (``by_chat``); a failed post is retried with Telegram's
        growing delay, to the next URL of the pool (the balancer passes over a process that
        does not answer).
        """
        in_flight: dict[int, asyncio.Task[None]] = {}
        busy: set[int | str] = set()
        try:
            while state.webhook and not self._closing:
                state.updates = [u for u in state.updates if self._allowed(state, u)]
                limit = max(int(state.webhook.get("max_connections") or 40), 1)
                for update in list(state.updates):
                    if len(in_flight) >= limit:
                        break
                    update_id, chat = update["update_id"], self._update_chat(update)
                    if update_id in in_flight or chat in busy:
                        continue
                    busy.add(chat)
                    task = asyncio.get_running_loop().create_task(
                        self._post_balanced(state, update))
                    in_flight[update_id] = task

                    def done(_: asyncio.Task[None], update_id: int = update_id,
                             chat: int | str = chat) -> None:
                        in_flight.pop(update_id, None)
                        busy.discard(chat)
                        state.wake()

                    task.add_done_callback(done)
                signal = state.signal
                await signal.wait()
        finally:
            for task in list(in_flight.values()):
                task.cancel()

    async def _post_balanced(self, state: _Bot, update: JSON) -> None:
        failures = 0
        while state.webhook and state.webhook_urls and not self._closing:
            error = await self._post_update(state, self._pick_url(state, update, failures),
                                            update)
            if error is None:
                return
            failures += 1
            state.webhook_error = (self.now(), error)
            await self.sleep(min(self.webhook_retry_delay * 2 ** (failures - 1), 60.0))

    # ------------------------------------------------------------------ lookups

    def _bot(self, token: str | None) -> _Bot:
        key = token or self._default_token
        if key is None or key not in self._bots:
            raise LookupError("no bot registered")
        return self._bots[key]

    @staticmethod
    def _user_id(user: User | int) -> int:
        return user.id if isinstance(user, User) else int(user)

    def _user(self, user: User | int) -> User:
        return self.users[self._user_id(user)]

    def _chat(self, chat: Chat | int) -> Chat:
        return self.chats[chat.id if isinstance(chat, Chat) else int(chat)]

    @staticmethod
    def _chat_ref(chat: Chat | User | int) -> int:
        return chat.id if isinstance(chat, (Chat, User)) else int(chat)

    def _first_admin(self, chat: Chat) -> User:
        if chat.admins:
            return self.users[chat.admins[0]]
        if chat.members:
            return self.users[chat.members[0]]
        raise LookupError(f"chat {chat.id} has nobody to act")

    def _chat_dict(self, chat_id: int) -> JSON:
        if chat_id in self.chats:
            return self.chats[chat_id].to_dict()
        return self.users[chat_id].private_chat()

    def _chat_instance(self, state: _Bot, chat_id: int) -> str:
        digest = hashlib.sha256(f"{state.user.id}:{chat_id}".encode()).hexdigest()
        return str(int(digest[:15], 16))

    def _message_chat_id(self, message: JSON | int, chat: Chat | int | None, person: User) -> int:
        if chat is not None:
            return self._chat_ref(chat)
        if isinstance(message, dict) and "chat" in message:
            return int(message["chat"]["id"])
        return person.id

    def _find_chat(self, state: _Bot, ref: int | str) -> Chat | User:
        """Resolve chat_id for reading (no membership checks except existence)."""
        if isinstance(ref, str):
            name = ref[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name and not chat.removed:
                    return chat
            raise bad_request("chat not found")
        if ref in self.chats and not self.chats[ref].removed:
            return self.chats[ref]
        if ref in self.users:
            return self.users[ref]
        raise bad_request("chat not found")

    def _writable_chat(self, state: _Bot, ref: int | str) -> Chat | User:
        """Resolve a chat the bot wants to post to, with Telegram's refusals."""
        target = self._find_chat(state, ref)
        if isinstance(target, User):
            if target.id == state.user.id or (target.is_bot and target.id in self._bots_by_id):
                raise forbidden("bot can't send messages to bots")
            if target.deactivated:
                raise forbidden("user is deactivated")
            if target.id in state.blocked_by:
                raise forbidden("bot was blocked by the user")
            if target.id not in state.started and target.id not in self._started_everywhere:
                raise forbidden("bot can't initiate conversation with a user")
            return target
        if target.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": target.migrated_to},
            )
        status = target.bot_status.get(state.user.id, "left")
        if target.type == "channel":
            if status == "left" or status == "kicked":
                raise forbidden("bot is not a member of the channel chat")
            if status != "administrator":
                raise bad_request("need administrator rights in the channel chat")
            return target
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {target.type} chat")
        if status == "left":
            raise forbidden(f"bot is not a member of the {target.type} chat")
        return target

    def _gate(
        self, state: _Bot, target: Chat | User, *, edit: bool = False, paid: bool = False
    ) -> None:
        """Flood control and 429 storms for a send or edit about to happen."""
        now = self.clock()
        retry_after = 0
        if not edit and self._storm_after is not None:
            left, seconds = self._storm_after
            self._storm_after = (left - 1, seconds) if left > 0 else None
            if left <= 0:
                self._storm_until = now + seconds
        if not edit and now < self._storm_until:
            retry_after = max(1, math.ceil(self._storm_until - now))
        elif self.flood_limits:
            retry_after = self.flood.check(
                state.user.id, target.id, isinstance(target, User), now, edit, paid
            )
        if retry_after:
            self.stats.too_many_requests += 1
            self.stats.retry_after_per_chat[target.id] += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        if edit:
            self.stats.edits_per_chat[target.id] += 1
        else:
            self.stats.sent_per_chat[target.id] += 1

    # ------------------------------------------------------------------ formatting

    def _formatted(
        self, p: _Params, text_key: str, entities_key: str, limit: int, *, required: bool
    ) -> tuple[str, list[JSON]]:
        raw = p.str(text_key, "") or ""
        mode = (p.str("parse_mode", "") or "").lower()
        entities: list[JSON] = []
        try:
            if not raw:
                text = ""
            elif mode == "html":
                text, entities = parse_html(raw)
            elif mode == "markdownv2":
                text, entities = parse_markdown_v2(raw)
            elif mode == "markdown":
                text, entities = parse_markdown_v2(raw, legacy=True)
            elif mode:
                raise bad_request("unsupported parse_mode")
            else:
                text = raw
                given = p.json(entities_key)
                if given:
                    entities = self._check_entities(given, raw)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        text, entities = strip_text(text, entities)
        if required and not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise bad_request(
                "message is too long" if limit == MAX_TEXT else "message caption is too long"
            )
        return text, entities

    @staticmethod
    def _check_entities(given: Any, text: str) -> list[JSON]:
        if not isinstance(given, list):
            raise bad_request("can't parse entities JSON object")
        total = utf16_len(text)
        checked: list[JSON] = []
        for entity in given:
            if not isinstance(entity, dict) or "type" not in entity:
                raise bad_request(
                    'can\'t parse MessageEntity: Field "type" must be of type String'
                )
            offset, length = int(entity.get("offset", 0)), int(entity.get("length", 0))
            if length <= 0 or offset < 0 or offset >= total:
                continue
            clean = {k: v for k, v in entity.items() if v is not None}
            clean["offset"], clean["length"] = offset, min(length, total - offset)
            checked.append(clean)
        return checked

    def _markup(self, p: _Params) -> tuple[str, JSON] | None:
        markup = p.json("reply_markup")
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup '
                    "must be an Array of Arrays"
                )
            clean_rows: list[list[JSON]] = []
            for row in rows:
                clean_row: list[JSON] = []
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise bad_request(NO_TEXT_BUTTONS)
                    button = {k: v for k, v in button.items() if v is not None}
                    actions = [k for k in button if k != "text"]
                    if not actions:
                        raise bad_request(NO_TEXT_BUTTONS)
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                        raise bad_request("BUTTON_DATA_INVALID")
                    url = button.get("url")
                    if url is not None and not str(url).startswith(
                        ("http://", "https://", "tg://")
                    ):
                        raise bad_request(
                            f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                        )
                    clean_row.append(button)
                clean_rows.append(clean_row)
            return "inline", {"inline_keyboard": clean_rows}
        if "keyboard" in markup:
            return "reply", markup
        if markup.get("remove_keyboard"):
            return "remove", markup
        if markup.get("force_reply"):
            return "force", markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    # ------------------------------------------------------------------ message store

    def _new_message_id(self, state: _Bot, chat_id: int) -> int:
        log = state.log(chat_id)
        message_id = log.next_id
        log.next_id += 1
        return message_id

    def _view(self, stored: _Stored) -> JSON:
        message: JSON = json.loads(json.dumps(stored.message))
        if "text" in message:
            message["html"] = entities_to_html(message["text"], message.get("entities"))
        elif "caption" in message:
            message["html"] = entities_to_html(message["caption"], message.get("caption_entities"))
        else:
            message["html"] = ""
        message["edited"] = stored.edited
        message["outgoing"] = stored.outgoing
        return message

    def _emit(self, state: _Bot, kind: str, chat_id: int, stored: _Stored) -> None:
        event = OutEvent(kind, chat_id, self._view(stored), self.clock())
        state.outbox.append(event)
        for queue in state.subscribers:
            queue.put_nowait(event)
        state.out_signal.set()
        state.out_signal = asyncio.Event()

    def _thread(self, p: _Params, target: Chat | User) -> int | None:
        thread_id = p.int("message_thread_id")
        if thread_id is None or not isinstance(target, Chat) or not target.is_forum:
            return None
        topic = target.topics.get(thread_id)
        if topic is None and thread_id == 1:
            return None
        if topic is None:
            raise bad_request("message thread not found")
        if topic.closed:
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def _reply_to(self, state: _Bot, p: _Params, chat_id: int) -> JSON | None:
        params = p.json("reply_parameters")
        message_id: int | None
        allow_missing = p.bool("allow_sending_without_reply")
        if isinstance(params, dict):
            message_id = int(params["message_id"]) if params.get("message_id") else None
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
            if params.get("chat_id") not in (None, chat_id):
                ref = params["chat_id"]
                chat_id = self._find_chat(state, ref if isinstance(ref, str) else int(ref)).id
        else:
            message_id = p.int("reply_to_message_id")
        if message_id is None:
            return None
        stored = state.log(chat_id).messages.get(message_id)
        if stored is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in stored.message.items() if k != "reply_to_message"}

    def _post(
        self,
        state: _Bot,
        target: Chat | User,
        p: _Params,
        content: JSON,
        *,
        markup: tuple[str, JSON] | None = None,
    ) -> JSON:
        """Create a bot message in ``target`` after the flood gate; returns the Message."""
        thread_id = self._thread(p, target)
        reply = self._reply_to(state, p, target.id)
        self._gate(state, target, paid=p.bool("allow_paid_broadcast"))
        log = state.log(target.id)
        message: JSON = {"message_id": self._new_message_id(state, target.id)}
        if isinstance(target, Chat) and target.type == "channel":
            message["sender_chat"] = target.to_dict()
            message["chat"] = target.to_dict()
        else:
            message["from"] = state.user.to_dict()
            message["chat"] = (
                target.private_chat() if isinstance(target, User) else target.to_dict()
            )
        message["date"] = self.now()
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if p.bool("protect_content"):
            message["has_protected_content"] = True
        if markup is not None:
            kind, value = markup
            if kind == "inline":
                message["reply_markup"] = value
            elif kind == "reply":
                log.reply_keyboard = value
            elif kind == "remove":
                log.reply_keyboard = None
        stored = _Stored(message, outgoing=True)
        log.messages[message["message_id"]] = stored
        self._emit(state, "sent", target.id, stored)
        return message

    def _user_sends_sync(
        self,
        state: _Bot,
        person: User,
        chat: Chat | User | int | None,
        content: JSON,
        reply_to: JSON | int | None,
        thread_id: int | None,
    ) -> JSON:
        chat_id = person.id if chat is None else self._chat_ref(chat)
        target: Chat | User
        if chat_id in self.chats:
            target = self.chats[chat_id]
        elif chat_id == person.id:
            target = person
            state.started.add(person.id)
            if person.id in state.blocked_by:
                self.unblock(person, state.token)
        else:
            raise LookupError(f"{person.first_name} cannot write into chat {chat_id}")
        extra: JSON = dict(content)
        if reply_to is not None:
            reply_id = reply_to if isinstance(reply_to, int) else int(reply_to["message_id"])
            replied = state.log(target.id).messages.get(reply_id)
            if replied:
                extra["reply_to_message"] = {
                    k: v for k, v in replied.message.items() if k != "reply_to_message"
                }
        if thread_id is not None:
            extra["message_thread_id"] = thread_id
            extra["is_topic_message"] = True
        if isinstance(target, Chat):
            if person.id not in target.members:
                target.members.append(person.id)
            deliver = self._bot_sees(state, target, extra)
            return self._store_incoming(state, target, person, extra, deliver)
        return self._store_incoming(state, target, person, extra, True)

    async def _user_sends(
        self,
        user: User | int,
        chat: Chat | int | None,
        content: JSON,
        reply_to: JSON | int | None,
        thread_id: int | None,
        bot: str | None,
    ) -> JSON:
        async with self._lock:
            return self._user_sends_sync(
                self._bot(bot), self._user(user), chat, content, reply_to, thread_id
            )

    def _bot_sees(self, state: _Bot, chat: Chat, message: JSON) -> bool:
        status = chat.bot_status.get(state.user.id, "left")
        if status not in ("member", "administrator") or chat.migrated_to is not None:
            return False
        if status == "administrator" or state.can_read_all_group_messages:
            return True
        text = message.get("text") or message.get("caption") or ""
        if text.startswith("/"):
            return True
        reply = message.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == state.user.id:
            return True
        username = state.user.username or ""
        return bool(username) and f"@{username.lower()}" in text.lower()

    def _store_incoming(
        self, state: _Bot, target: Chat | User, person: User, content: JSON, deliver: bool
    ) -> JSON:
        message: JSON = {
            "message_id": self._new_message_id(state, target.id),
            "from": person.to_dict(),
            "chat": target.private_chat() if isinstance(target, User) else target.to_dict(),
            "date": self.now(),
        }
        message.update(content)
        state.log(target.id).messages[message["message_id"]] = _Stored(message, outgoing=False)
        if deliver:
            self._enqueue(state, "message", message)
        return message

    def _member(self, user: JSON, status: str, chat_type: str) -> JSON:
        member: JSON = {"status": status, "user": user}
        if status == "kicked":
            member["until_date"] = 0
        if status == "administrator":
            member.update({"can_be_edited": False, "is_anonymous": False})
            member.update({right: True for right in _ADMIN_RIGHTS})
            if chat_type != "channel":
                member.pop("can_post_messages")
                member.pop("can_edit_messages")
            else:
                member.pop("can_pin_messages")
            if chat_type != "supergroup":
                member.pop("can_manage_topics")  # "supergroups only"
        if status == "creator":
            member["is_anonymous"] = False
        return member

    def _chat_member_update(
        self, state: _Bot, chat: JSON, actor: User, old: str, new: str
    ) -> JSON:
        bot_user = state.user.to_dict()
        payload: JSON = {
            "chat": chat,
            "from": actor.to_dict(),
            "date": self.now(),
            "old_chat_member": self._member(bot_user, old, chat["type"]),
            "new_chat_member": self._member(bot_user, new, chat["type"]),
        }
        self._enqueue(state, "my_chat_member", payload)
        return payload

    def _private_member_update(self, state: _Bot, person: User, old: str, new: str) -> None:
        self._chat_member_update(state, person.private_chat(), person, old, new)

    # ------------------------------------------------------------------ files

    def _store_file(self, data: bytes, filename: str, mime_type: str | None) -> StoredFile:
        number = next(self._ids)
        unique = hashlib.sha1(data + str(number).encode()).hexdigest()[:16]
        kind = "photos" if (mime_type or "").startswith("image/") else "documents"
        stored = StoredFile(
            file_id=f"LOCAL{unique}{number}",
            file_unique_id=unique,
            file_path=f"{kind}/file_{number}_{filename}",
            data=data,
            file_name=filename,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    @staticmethod
    def _file_object(stored: StoredFile, kind: str) -> JSON:
        base: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if kind == "document":
            base.update({"file_name": stored.file_name, "mime_type": stored.mime_type})
        elif kind == "sticker":
            base.update(
                {
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                }
            )
        elif kind in ("voice", "audio"):
            base.update({"duration": 1, "mime_type": stored.mime_type})
        elif kind in ("video", "animation"):
            base.update({"width": 640, "height": 360, "duration": 1})
        return base

    @staticmethod
    def _photo_sizes(stored: StoredFile) -> list[JSON]:
        return [
            {
                "file_id": stored.file_id + "s",
                "file_unique_id": stored.file_unique_id + "s",
                "width": 90,
                "height": 67,
                "file_size": min(len(stored.data), 1024),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(stored.data),
            },
        ]

    def _input_file(self, value: Any, kind: str) -> StoredFile:
        if isinstance(value, Upload):
            mime = value.content_type or (
                "image/jpeg" if kind == "photo" else "application/octet-stream"
            )
            return self._store_file(value.data, value.filename, mime)
        if isinstance(value, str) and value:
            known = self.files.get(value) or self.files.get(value.removesuffix("s"))
            if known:
                return known
            if value.startswith(("http://", "https://")):
                name = value.rsplit("/", 1)[-1] or "file"
                return self._store_file(value.encode(), name, "application/octet-stream")
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {kind} in the request")

    def _get_file(self, state: _Bot, p: _Params) -> JSON:
        file_id = p.str("file_id", "") or ""
        stored = self.files.get(file_id) or self.files.get(file_id.removesuffix("s"))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ------------------------------------------------------------------ methods

    def _me(self, state: _Bot) -> JSON:
        return {
            **state.user.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": state.can_read_all_group_messages,
            "supports_inline_queries": state.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, state: _Bot, p: _Params) -> JSON:
        target = self._writable_chat(state, p.chat_id())
        text, entities = self._formatted(p, "text", "entities", MAX_TEXT, required=True)
        markup = self._markup(p)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        preview = p.json("link_preview_options")
        if isinstance(preview, dict) and preview:
            content["link_preview_options"] = preview
        elif p.bool("disable_web_page_preview"):
            content["link_preview_options"] = {"is_disabled": True}
        return self._post(state, target, p, content, markup=markup)

    def _media_sender(self, kind: str) -> _Handler:
        def send(state: _Bot, p: _Params) -> JSON:
            target = self._writable_chat(state, p.chat_id())
            stored = self._input_file(p.raw.get(kind), kind)
            content: JSON = {}
            if kind == "photo":
                content["photo"] = self._photo_sizes(stored)
            else:
                content[kind] = self._file_object(stored, kind)
            if kind != "sticker":
                caption, entities = self._formatted(
                    p, "caption", "caption_entities", MAX_CAPTION, required=False
                )
                if caption:
                    content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
            return self._post(state, target, p, content, markup=self._markup(p))

        return send

    def _send_location(self, state: _Bot, p: _Params) -> JSON:
        target = self._writable_chat(state, p.chat_id())
        location = {"latitude": p.float("latitude"), "longitude": p.float("longitude")}
        return self._post(state, target, p, {"location": location}, markup=self._markup(p))

    def _send_contact(self, state: _Bot, p: _Params) -> JSON:
        target = self._writable_chat(state, p.chat_id())
        contact = {
            "phone_number": p.str("phone_number", ""),
            "first_name": p.str("first_name", ""),
        }
        return self._post(state, target, p, {"contact": contact}, markup=self._markup(p))

    def _send_chat_action(self, state: _Bot, p: _Params) -> bool:
        target = self._writable_chat(state, p.chat_id())
        action = p.str("action", "") or ""
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        state.chat_actions.append((target.id, action))
        return True

    def _message_for_edit(
        self, state: _Bot, p: _Params, missing: str
    ) -> tuple[Chat | User, _Stored]:
        target = self._find_chat(state, p.chat_id())
        if isinstance(target, Chat) and target.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": target.migrated_to},
            )
        message_id = p.int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = state.log(target.id).messages.get(message_id)
        if stored is None:
            raise bad_request(missing)
        return target, stored

    def _apply_edit(
        self,
        state: _Bot,
        target: Chat | User,
        stored: _Stored,
        changes: JSON,
        markup: tuple[str, JSON] | None,
    ) -> JSON:
        if not stored.outgoing:
            raise bad_request("message can't be edited")
        new_markup = markup[1] if markup and markup[0] == "inline" else None
        current = {k: stored.message.get(k) for k in changes}
        if current == changes and stored.message.get("reply_markup") == new_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._gate(state, target, edit=True)
        for key, value in changes.items():
            if value in (None, [], ""):
                stored.message.pop(key, None)
            else:
                stored.message[key] = value
        if new_markup is None:
            stored.message.pop("reply_markup", None)
        else:
            stored.message["reply_markup"] = new_markup
        stored.message["edit_date"] = self.now()
        stored.edited = True
        self._emit(state, "edited", target.id, stored)
        return stored.message

    def _edit_text(self, state: _Bot, p: _Params) -> JSON | bool:
        if p.has("inline_message_id"):
            self._formatted(p, "text", "entities", MAX_TEXT, required=True)
            return True
        target, stored = self._message_for_edit(state, p, "message to edit not found")
        if "text" not in stored.message and stored.outgoing:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(p, "text", "entities", MAX_TEXT, required=True)
        changes: JSON = {"text": text, "entities": entities or None}
        preview = p.json("link_preview_options")
        if isinstance(preview, dict) and preview:
            changes["link_preview_options"] = preview
        return self._apply_edit(state, target, stored, changes, self._markup(p))

    def _edit_caption(self, state: _Bot, p: _Params) -> JSON | bool:
        if p.has("inline_message_id"):
            return True
        target, stored = self._message_for_edit(state, p, "message to edit not found")
        if not any(kind in stored.message for kind in _MEDIA_KINDS):
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._formatted(
            p, "caption", "caption_entities", MAX_CAPTION, required=False
        )
        changes: JSON = {"caption": caption or None, "caption_entities": entities or None}
        return self._apply_edit(state, target, stored, changes, self._markup(p))

    def _edit_markup(self, state: _Bot, p: _Params) -> JSON | bool:
        if p.has("inline_message_id"):
            return True
        target, stored = self._message_for_edit(state, p, "message to edit not found")
        return self._apply_edit(state, target, stored, {}, self._markup(p))

    def _delete_message(self, state: _Bot, p: _Params) -> bool:
        target = self._find_chat(state, p.chat_id())
        message_id = p.int("message_id")
        stored = state.log(target.id).messages.get(message_id) if message_id is not None else None
        if stored is None:
            raise bad_request("message to delete not found")
        self._check_deletable(state, target, stored)
        self._remove(state, target, stored)
        return True

    def _delete_messages(self, state: _Bot, p: _Params) -> bool:
        """Like Telegram: missing ids are skipped; one that may not be deleted fails the call."""
        target = self._find_chat(state, p.chat_id())
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message identifiers are not specified")
        messages = state.log(target.id).messages
        found = [messages[int(i)] for i in ids if int(i) in messages]
        for stored in found:
            self._check_deletable(state, target, stored)
        for stored in found:
            self._remove(state, target, stored)
        return True

    def _check_deletable(self, state: _Bot, target: Chat | User, stored: _Stored) -> None:
        """The Bot API's limits: 48 hours for every message, never a topic's creation, and
        someone else's message in a group only as an administrator."""
        if "forum_topic_created" in stored.message:
            raise bad_request("message can't be deleted")
        if self.now() - int(stored.message.get("date") or 0) >= 48 * 3600:
            raise bad_request("message can't be deleted for everyone")
        if (
            not stored.outgoing
            and isinstance(target, Chat)
            and target.bot_status.get(state.user.id) != "administrator"
        ):
            raise bad_request("message can't be deleted")

    def _remove(self, state: _Bot, target: Chat | User, stored: _Stored) -> None:
        del state.log(target.id).messages[stored.message["message_id"]]
        self._emit(state, "deleted", target.id, stored)

    def _answer_callback(self, state: _Bot, p: _Params) -> bool:
        query_id = p.str("callback_query_id", "") or ""
        self._take_query(state, query_id)
        text = p.str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        state.callback_answers[query_id] = {
            "text": text,
            "show_alert": p.bool("show_alert"),
            "url": p.str("url"),
            "cache_time": p.int("cache_time", 0),
        }
        return True

    def _take_query(self, state: _Bot, query_id: str) -> None:
        created = state.queries.pop(query_id, None)
        if created is None or self.clock() - created > CALLBACK_TTL:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )

    def _answer_inline(self, state: _Bot, p: _Params) -> bool:
        query_id = p.str("inline_query_id", "") or ""
        results = p.json("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        self._take_query(state, query_id)
        state.inline_answers[query_id] = {
            "results": results,
            "cache_time": p.int("cache_time", 300),
            "is_personal": p.bool("is_personal"),
            "next_offset": p.str("next_offset", ""),
            "button": p.json("button"),
        }
        return True

    def _scope_key(self, scope: Any, language_code: str | None) -> tuple[Any, ...]:
        scope = scope if isinstance(scope, dict) and scope else {"type": "default"}
        items = []
        for key, value in sorted(scope.items()):
            if (
                key in ("chat_id", "user_id")
                and isinstance(value, str)
                and value.lstrip("-").isdigit()
            ):
                value = int(value)
            items.append((key, value))
        return (tuple(items), language_code or "")

    def _commands_target(self, p: _Params) -> tuple[Any, ...]:
        language = p.str("language_code", "") or ""
        if language and not (len(language) == 2 and language.isalpha()):
            raise bad_request("invalid language code specified")
        scope = p.json("scope")
        if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
            raise bad_request("can't parse BotCommandScope JSON object")
        return self._scope_key(scope, language)

    def _set_commands(self, state: _Bot, p: _Params) -> bool:
        commands = p.json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean: list[JSON] = []
        for item in commands:
            command = str(item.get("command", "")).lstrip("/")
            description = str(item.get("description", ""))
            if not (1 <= len(command) <= 32) or not all(
                c.islower() or c.isdigit() or c == "_" for c in command
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("command description must be non-empty")
            clean.append({"command": command, "description": description})
        key = self._commands_target(p)
        if clean:
            state.commands[key] = clean
        else:
            state.commands.pop(key, None)
        return True

    def _get_commands(self, state: _Bot, p: _Params) -> list[JSON]:
        return list(state.commands.get(self._commands_target(p), []))

    def _delete_commands(self, state: _Bot, p: _Params) -> bool:
        state.commands.pop(self._commands_target(p), None)
        return True

    def _set_menu_button(self, state: _Bot, p: _Params) -> bool:
        chat_id = p.int("chat_id") if p.has("chat_id") else None
        if chat_id is not None:
            self._find_chat(state, chat_id)
        button = p.json("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        state.menu_buttons[chat_id] = button
        return True

    def _get_menu_button(self, state: _Bot, p: _Params) -> JSON:
        chat_id = p.int("chat_id") if p.has("chat_id") else None
        return state.menu_buttons.get(chat_id, state.menu_buttons.get(None, {"type": "default"}))

    def _source_message(self, state: _Bot, p: _Params, missing: str) -> tuple[Chat | User, JSON]:
        source = self._find_chat(state, p.chat_id("from_chat_id"))
        message_id = p.int("message_id")
        stored = state.log(source.id).messages.get(message_id) if message_id is not None else None
        if stored is None:
            raise bad_request(missing)
        return source, stored.message

    @staticmethod
    def _content_of(message: JSON) -> JSON:
        keys = (
            "text",
            "entities",
            "caption",
            "caption_entities",
            "location",
            "contact",
            *_MEDIA_KINDS,
        )
        return {k: message[k] for k in keys if k in message}

    def _copy_message(self, state: _Bot, p: _Params) -> JSON:
        target = self._writable_chat(state, p.chat_id())
        _, original = self._source_message(state, p, "message to copy not found")
        content = self._content_of(original)
        if not content:
            raise bad_request("message can't be copied")
        if p.has("caption") and "text" not in content:
            caption, entities = self._formatted(
                p, "caption", "caption_entities", MAX_CAPTION, required=False
            )
            content.pop("caption_entities", None)
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        message = self._post(state, target, p, content, markup=self._markup(p))
        return {"message_id": message["message_id"]}

    def _forward_message(self, state: _Bot, p: _Params) -> JSON:
        target = self._writable_chat(state, p.chat_id())
        source, original = self._source_message(state, p, "message to forward not found")
        content = self._content_of(original)
        if isinstance(source, Chat) and source.type == "channel":
            origin: JSON = {
                "type": "channel",
                "chat": source.to_dict(),
                "message_id": original["message_id"],
                "date": original["date"],
            }
        else:
            origin = {
                "type": "user",
                "sender_user": original.get("from"),
                "date": original["date"],
            }
        content["forward_origin"] = origin
        return self._post(state, target, p, content)

    def _get_chat(self, state: _Bot, p: _Params) -> JSON:
        target = self._find_chat(state, p.chat_id())
        base = target.private_chat() if isinstance(target, User) else target.to_dict()
        base.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return base

    def _status_in(self, state: _Bot, chat: Chat | User, user_id: int) -> str:
        if isinstance(chat, User):
            return "member" if user_id in (chat.id, state.user.id) else "left"
        if user_id in self._bots_by_id:
            return chat.bot_status.get(user_id, "left")
        if chat.admins and chat.admins[0] == user_id:
            return "creator"
        if user_id in chat.admins:
            return "administrator"
        return "member" if user_id in chat.members else "left"

    def _get_chat_member(self, state: _Bot, p: _Params) -> JSON:
        target = self._find_chat(state, p.chat_id())
        user_id = p.int("user_id")
        if user_id is None or user_id not in self.users:
            raise bad_request("user not found")
        chat_type = "private" if isinstance(target, User) else target.type
        return self._member(
            self.users[user_id].to_dict(), self._status_in(state, target, user_id), chat_type
        )

    def _get_chat_admins(self, state: _Bot, p: _Params) -> list[JSON]:
        target = self._find_chat(state, p.chat_id())
        if isinstance(target, User):
            raise bad_request("there are no administrators in the private chat")
        ids = list(target.admins) + [
            bot_id for bot_id, status in target.bot_status.items() if status == "administrator"
        ]
        return [
            self._member(
                self.users[uid].to_dict(), self._status_in(state, target, uid), target.type
            )
            for uid in ids
        ]

    def _get_member_count(self, state: _Bot, p: _Params) -> int:
        target = self._find_chat(state, p.chat_id())
        if isinstance(target, User):
            return 2
        bots = sum(1 for s in target.bot_status.values() if s in ("member", "administrator"))
        return len(target.members) + bots

    def _forum(self, state: _Bot, p: _Params) -> Chat:
        target = self._writable_chat(state, p.chat_id())
        if not isinstance(target, Chat) or not target.is_forum:
            raise bad_request("the chat is not a forum")
        if target.bot_status.get(state.user.id) != "administrator":
            raise bad_request("not enough rights to manage topics")
        return target

    def _create_topic(self, state: _Bot, p: _Params) -> JSON:
        chat = self._forum(state, p)
        name = p.str("name", "") or ""
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_INVALID")
        thread_id = self._new_message_id(state, chat.id)
        topic = Topic(
            thread_id, name, p.int("icon_color", 7322096) or 7322096, p.str("icon_custom_emoji_id")
        )
        chat.topics[thread_id] = topic
        created: JSON = {"name": name, "icon_color": topic.icon_color}
        message: JSON = {
            "message_id": thread_id,
            "from": state.user.to_dict(),
            "chat": chat.to_dict(),
            "date": self.now(),
            "message_thread_id": thread_id,
            "forum_topic_created": created,
            "is_topic_message": True,
        }
        state.log(chat.id).messages[thread_id] = _Stored(message, outgoing=True)
        return topic.to_dict()

    def _topic(self, chat: Chat, p: _Params) -> Topic:
        topic = chat.topics.get(p.int("message_thread_id") or 0)
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    def _edit_topic(self, state: _Bot, p: _Params) -> bool:
        chat = self._forum(state, p)
        topic = self._topic(chat, p)
        name = p.str("name")
        emoji = p.str("icon_custom_emoji_id")
        if (name is None or name == topic.name) and (
            emoji is None or emoji == topic.icon_custom_emoji_id
        ):
            raise bad_request("TOPIC_NOT_MODIFIED")
        if name:
            topic.name = name
        if emoji is not None:
            topic.icon_custom_emoji_id = emoji or None
        return True

    def _set_topic_closed(self, state: _Bot, p: _Params, closed: bool) -> bool:
        chat = self._forum(state, p)
        topic = self._topic(chat, p)
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        return True

    def _delete_topic(self, state: _Bot, p: _Params) -> bool:
        """The topic and every message in it go, whatever their age (can_delete_messages)."""
        chat = self._forum(state, p)
        topic = self._topic(chat, p)
        chat.topics.pop(topic.message_thread_id)
        for bot in self._bots.values():
            log = bot.log(chat.id)
            for stored in [m for m in log.messages.values()
                           if m.message.get("message_thread_id") == topic.message_thread_id]:
                self._remove(bot, chat, stored)
        return True

    def _leave_chat(self, state: _Bot, p: _Params) -> bool:
        target = self._find_chat(state, p.chat_id())
        if isinstance(target, User):
            raise bad_request("chat member status can't be changed in private chats")
        old = target.bot_status.get(state.user.id, "left")
        if old in ("left", "kicked"):
            raise forbidden(f"bot is not a member of the {target.type} chat")
        target.bot_status[state.user.id] = "left"
        self._chat_member_update(state, target.to_dict(), state.user, old, "left")
        return True
