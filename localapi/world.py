"""The simulated world the method areas share: people, chats, bots, files, the clock.

One :class:`World` belongs to one :class:`~localapi.server.LocalBotAPI`; every method area
(:mod:`localapi.methods`) and every part of the control surface is handed it, so state and the
helpers that several areas need (finding a chat, Telegram's refusals, the flood gate, storing
and emitting messages, ``my_chat_member`` updates, files) live here once.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import time

from .html import entities_to_html
from .limits import FloodConfig, FloodControl, Stats
from .records import (
    JSON,
    ApiCall,
    ApiError,
    Chat,
    Faults,
    OutEvent,
    StoredFile,
    User,
    bad_request,
    forbidden,
)
from .state import BotState, Stored

ADMIN_RIGHTS = (
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


class World:
    """State of the server and the helpers the method areas share."""

    def __init__(
        self,
        *,
        flood_limits: bool,
        time_scale: float,
        faults: Faults,
        flood_config: FloodConfig | None,
    ) -> None:
        self.flood_limits = flood_limits
        self.time_scale = time_scale
        self.faults = faults
        self.flood = FloodControl(flood_config)
        self.stats = Stats()
        self.calls: list[ApiCall] = []
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.bots: dict[str, BotState] = {}
        self.bots_by_id: dict[int, BotState] = {}
        self.default_token: str | None = None
        self.started_everywhere: set[int] = set()
        self.storm_until = -1.0
        self.storm_after: tuple[int, float] | None = None
        self.lost_answers = 0  # webhook answers still to lose (``lose_webhook_answers``)
        self.closing = False
        self.lock = asyncio.Lock()
        self.ids = itertools.count(1)
        self._t0 = time.monotonic()
        self._epoch0 = time.time()

    # ------------------------------------------------------------------ time

    def clock(self) -> float:
        """Server time in seconds since creation, ``time_scale`` times faster than real."""
        return (time.monotonic() - self._t0) * self.time_scale

    def now(self) -> int:
        """Unix time on the server clock, as used in ``date`` fields."""
        return int(self._epoch0 + self.clock())

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of server time."""
        await asyncio.sleep(max(seconds, 0) / self.time_scale)

    def advance(self, seconds: float) -> None:
        """Time passes at once: the server clock, and so every message's age, jumps ahead."""
        self._t0 -= seconds / self.time_scale

    # ------------------------------------------------------------------ lookups

    def bot(self, token: str | None) -> BotState:
        key = token or self.default_token
        if key is None or key not in self.bots:
            raise LookupError("no bot registered")
        return self.bots[key]

    @staticmethod
    def user_id(user: User | int) -> int:
        return user.id if isinstance(user, User) else int(user)

    def user(self, user: User | int) -> User:
        return self.users[self.user_id(user)]

    def chat(self, chat: Chat | int) -> Chat:
        return self.chats[chat.id if isinstance(chat, Chat) else int(chat)]

    @staticmethod
    def chat_ref(chat: Chat | User | int) -> int:
        return chat.id if isinstance(chat, (Chat, User)) else int(chat)

    def first_admin(self, chat: Chat) -> User:
        if chat.admins:
            return self.users[chat.admins[0]]
        if chat.members:
            return self.users[chat.members[0]]
        raise LookupError(f"chat {chat.id} has nobody to act")

    def chat_dict(self, chat_id: int) -> JSON:
        if chat_id in self.chats:
            return self.chats[chat_id].to_dict()
        return self.users[chat_id].private_chat()

    def chat_instance(self, state: BotState, chat_id: int) -> str:
        digest = hashlib.sha256(f"{state.user.id}:{chat_id}".encode()).hexdigest()
        return str(int(digest[:15], 16))

    def message_chat_id(self, message: JSON | int, chat: Chat | int | None, person: User) -> int:
        if chat is not None:
            return self.chat_ref(chat)
        if isinstance(message, dict) and "chat" in message:
            return int(message["chat"]["id"])
        return person.id

    def find_chat(self, state: BotState, ref: int | str) -> Chat | User:
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

    def writable_chat(self, state: BotState, ref: int | str) -> Chat | User:
        """Resolve a chat the bot wants to post to, with Telegram's refusals."""
        target = self.find_chat(state, ref)
        if isinstance(target, User):
            if target.id == state.user.id or (target.is_bot and target.id in self.bots_by_id):
                raise forbidden("bot can't send messages to bots")
            if target.deactivated:
                raise forbidden("user is deactivated")
            if target.id in state.blocked_by:
                raise forbidden("bot was blocked by the user")
            if target.id not in state.started and target.id not in self.started_everywhere:
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

    # ------------------------------------------------------------------ limits

    def gate(
        self, state: BotState, target: Chat | User, *, edit: bool = False, paid: bool = False
    ) -> None:
        """Flood control and 429 storms for a send or edit about to happen."""
        now = self.clock()
        retry_after = 0
        if not edit and self.storm_after is not None:
            left, seconds = self.storm_after
            self.storm_after = (left - 1, seconds) if left > 0 else None
            if left <= 0:
                self.storm_until = now + seconds
        if not edit and now < self.storm_until:
            retry_after = max(1, math.ceil(self.storm_until - now))
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

    # ------------------------------------------------------------------ updates and messages

    def enqueue(self, state: BotState, kind: str, payload: JSON) -> JSON:
        update = {"update_id": state.next_update_id, kind: json.loads(json.dumps(payload))}
        state.next_update_id += 1
        state.updates.append(update)
        state.wake()
        return update

    def new_message_id(self, state: BotState, chat_id: int) -> int:
        log = state.log(chat_id)
        message_id = log.next_id
        log.next_id += 1
        return message_id

    def view(self, stored: Stored) -> JSON:
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

    def emit(self, state: BotState, kind: str, chat_id: int, stored: Stored) -> None:
        event = OutEvent(kind, chat_id, self.view(stored), self.clock())
        state.outbox.append(event)
        for queue in state.subscribers:
            queue.put_nowait(event)
        state.out_signal.set()
        state.out_signal = asyncio.Event()

    def remove(self, state: BotState, target: Chat | User, stored: Stored) -> None:
        del state.log(target.id).messages[stored.message["message_id"]]
        self.emit(state, "deleted", target.id, stored)

    def store_incoming(
        self, state: BotState, target: Chat | User, person: User, content: JSON, deliver: bool
    ) -> JSON:
        message: JSON = {
            "message_id": self.new_message_id(state, target.id),
            "from": person.to_dict(),
            "chat": target.private_chat() if isinstance(target, User) else target.to_dict(),
            "date": self.now(),
        }
        message.update(content)
        state.log(target.id).messages[message["message_id"]] = Stored(message, outgoing=False)
        if deliver:
            self.enqueue(state, "message", message)
        return message

    # ------------------------------------------------------------------ members

    @staticmethod
    def member(user: JSON, status: str, chat_type: str) -> JSON:
        member: JSON = {"status": status, "user": user}
        if status == "kicked":
            member["until_date"] = 0
        if status == "administrator":
            member.update({"can_be_edited": False, "is_anonymous": False})
            member.update({right: True for right in ADMIN_RIGHTS})
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

    def chat_member_update(
        self, state: BotState, chat: JSON, actor: User, old: str, new: str
    ) -> JSON:
        bot_user = state.user.to_dict()
        payload: JSON = {
            "chat": chat,
            "from": actor.to_dict(),
            "date": self.now(),
            "old_chat_member": self.member(bot_user, old, chat["type"]),
            "new_chat_member": self.member(bot_user, new, chat["type"]),
        }
        self.enqueue(state, "my_chat_member", payload)
        return payload

    def set_blocked(self, state: BotState, person: User, blocked: bool) -> None:
        """The person blocks or unblocks the bot; a change emits ``my_chat_member``."""
        if (person.id in state.blocked_by) == blocked:
            return
        if blocked:
            state.blocked_by.add(person.id)
        else:
            state.blocked_by.discard(person.id)
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self.chat_member_update(state, person.private_chat(), person, old, new)

    # ------------------------------------------------------------------ files

    def store_file(self, data: bytes, filename: str, mime_type: str | None) -> StoredFile:
        number = next(self.ids)
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
    def file_object(stored: StoredFile, kind: str) -> JSON:
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
    def photo_sizes(stored: StoredFile) -> list[JSON]:
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
