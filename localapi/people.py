"""What people do: write, send media, share a location or contact, press buttons, type
inline queries. Each call stores what the person sent and queues the bot's update.

A mixin of :class:`~localapi.server.LocalBotAPI`; it works on the server's :class:`World`.
"""

from __future__ import annotations

import secrets

from .html import detect_entities
from .records import JSON, Chat, StoredFile, User
from .state import BotState
from .world import World


class PeopleAct:
    world: World

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
        content: JSON = {"document": self.world.file_object(stored, "document")}
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
        sticker = {**self.world.file_object(stored, "sticker"), "emoji": emoji}
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
        voice = {**self.world.file_object(stored, "voice"), "duration": duration}
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
        person = self.world.user(user)
        contact: JSON = {
            "phone_number": phone_number,
            "first_name": first_name or person.first_name,
            "user_id": user_id if user_id is not None else person.id,
        }
        return await self._user_sends(user, chat, {"contact": contact}, None, None, bot)

    # ------------------------------------------------------------------ buttons and queries

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
        state, person = self.world.bot(bot), self.world.user(user)
        chat_id = self.world.message_chat_id(message, chat, person)
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
        world = self.world
        async with world.lock:
            state, person = world.bot(bot), world.user(user)
            chat_id = world.chat_ref(chat) if chat is not None else person.id
            stored = state.log(chat_id).messages.get(message_id)
            chat_dict = world.chat_dict(chat_id)
            message: JSON = (
                stored.message
                if stored
                else {"message_id": message_id, "date": 0, "chat": chat_dict}
            )
            fields = {"message": message, "chat_instance": world.chat_instance(state, chat_id)}
            return self._query(state, person, "callback_query", {**fields, "data": data})

    async def press_inline_callback(
        self, user: User | int, inline_message_id: str, data: str, *, bot: str | None = None
    ) -> JSON:
        """A button on a message sent via inline mode: the query has ``inline_message_id``
        and no ``message``, as Telegram sends it."""
        async with self.world.lock:
            state, person = self.world.bot(bot), self.world.user(user)
            fields = {
                "inline_message_id": inline_message_id,
                "chat_instance": str(secrets.randbits(63)),
                "data": data,
            }
            return self._query(state, person, "callback_query", fields)

    async def inline_query(
        self, user: User | int, query: str, offset: str = "", *, bot: str | None = None
    ) -> JSON:
        """The user types ``@bot query``; returns the InlineQuery (see ``inline_answers``)."""
        async with self.world.lock:
            state, person = self.world.bot(bot), self.world.user(user)
            fields = {"query": query, "offset": offset, "chat_type": "sender"}
            return self._query(state, person, "inline_query", fields)

    def _query(self, state: BotState, person: User, kind: str, fields: JSON) -> JSON:
        """A new query the bot must answer within the callback TTL; queued as ``kind``."""
        query_id = str(secrets.randbits(63))
        state.queries[query_id] = self.world.clock()
        payload: JSON = {"id": query_id, "from": person.to_dict(), **fields}
        self.world.enqueue(state, kind, payload)
        return payload

    # ------------------------------------------------------------------ storing what was sent

    def _store_file(self, data: bytes, filename: str, mime_type: str | None) -> StoredFile:
        return self.world.store_file(data, filename, mime_type)

    @staticmethod
    def _photo_sizes(stored: StoredFile) -> list[JSON]:
        return World.photo_sizes(stored)

    async def _user_sends(
        self,
        user: User | int,
        chat: Chat | int | None,
        content: JSON,
        reply_to: JSON | int | None,
        thread_id: int | None,
        bot: str | None,
    ) -> JSON:
        async with self.world.lock:
            return self._user_sends_sync(
                self.world.bot(bot), self.world.user(user), chat, content, reply_to, thread_id
            )

    def _user_sends_sync(
        self,
        state: BotState,
        person: User,
        chat: Chat | User | int | None,
        content: JSON,
        reply_to: JSON | int | None,
        thread_id: int | None,
    ) -> JSON:
        world = self.world
        chat_id = person.id if chat is None else world.chat_ref(chat)
        target: Chat | User
        if chat_id in world.chats:
            target = world.chats[chat_id]
        elif chat_id == person.id:
            target = person
            state.started.add(person.id)
            world.set_blocked(state, person, False)
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
            return world.store_incoming(state, target, person, extra, deliver)
        return world.store_incoming(state, target, person, extra, True)

    @staticmethod
    def _bot_sees(state: BotState, chat: Chat, message: JSON) -> bool:
        """Group privacy: what a bot that is not an admin receives in a group."""
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
