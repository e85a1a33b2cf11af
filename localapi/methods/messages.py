"""Messages: send*, edit*, delete, copy and forward, media and files."""

from __future__ import annotations

from typing import Any

from ..records import JSON, Chat, StoredFile, Upload, User, bad_request
from ..state import MEDIA_KINDS, BotState, Handler, Params, Stored
from ..world import World
from .formatting import MAX_TEXT, formatted, formatted_caption, markup

CHAT_ACTIONS = {
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


class Messages:
    def __init__(self, world: World) -> None:
        self.world = world

    def table(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "sendMessage": self.send_message,
            "editMessageText": self.edit_text,
            "editMessageReplyMarkup": self.edit_markup,
            "editMessageCaption": self.edit_caption,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "sendChatAction": self.send_chat_action,
            "sendLocation": self.send_location,
            "sendContact": self.send_contact,
            "copyMessage": self.copy_message,
            "forwardMessage": self.forward_message,
            "getFile": self.get_file,
        }
        for kind in MEDIA_KINDS:
            table["send" + kind.capitalize()] = self.media_sender(kind)
        return table

    # ------------------------------------------------------------------ posting

    def _thread(self, p: Params, target: Chat | User) -> int | None:
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

    def _reply_to(self, state: BotState, p: Params, chat_id: int) -> JSON | None:
        params = p.json("reply_parameters")
        message_id: int | None
        allow_missing = p.bool("allow_sending_without_reply")
        if isinstance(params, dict):
            message_id = int(params["message_id"]) if params.get("message_id") else None
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
            if params.get("chat_id") not in (None, chat_id):
                ref = params["chat_id"]
                chat_id = self.world.find_chat(
                    state, ref if isinstance(ref, str) else int(ref)
                ).id
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

    def post(
        self,
        state: BotState,
        target: Chat | User,
        p: Params,
        content: JSON,
        *,
        markup: tuple[str, JSON] | None = None,
    ) -> JSON:
        """Create a bot message in ``target`` after the flood gate; returns the Message."""
        world = self.world
        thread_id = self._thread(p, target)
        reply = self._reply_to(state, p, target.id)
        world.gate(state, target, paid=p.bool("allow_paid_broadcast"))
        log = state.log(target.id)
        message: JSON = {"message_id": world.new_message_id(state, target.id)}
        if isinstance(target, Chat) and target.type == "channel":
            message["sender_chat"] = target.to_dict()
            message["chat"] = target.to_dict()
        else:
            message["from"] = state.user.to_dict()
            message["chat"] = (
                target.private_chat() if isinstance(target, User) else target.to_dict()
            )
        message["date"] = world.now()
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
        stored = Stored(message, outgoing=True)
        log.messages[message["message_id"]] = stored
        world.emit(state, "sent", target.id, stored)
        return message

    # ------------------------------------------------------------------ files

    def _input_file(self, value: Any, kind: str) -> StoredFile:
        world = self.world
        if isinstance(value, Upload):
            mime = value.content_type or (
                "image/jpeg" if kind == "photo" else "application/octet-stream"
            )
            return world.store_file(value.data, value.filename, mime)
        if isinstance(value, str) and value:
            known = world.files.get(value) or world.files.get(value.removesuffix("s"))
            if known:
                return known
            if value.startswith(("http://", "https://")):
                name = value.rsplit("/", 1)[-1] or "file"
                return world.store_file(value.encode(), name, "application/octet-stream")
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {kind} in the request")

    def get_file(self, state: BotState, p: Params) -> JSON:
        file_id = p.str("file_id", "") or ""
        files = self.world.files
        stored = files.get(file_id) or files.get(file_id.removesuffix("s"))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ------------------------------------------------------------------ sending

    def send_message(self, state: BotState, p: Params) -> JSON:
        target = self.world.writable_chat(state, p.chat_id())
        text, entities = formatted(p, "text", "entities", MAX_TEXT, required=True)
        reply_markup = markup(p)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        preview = p.json("link_preview_options")
        if isinstance(preview, dict) and preview:
            content["link_preview_options"] = preview
        elif p.bool("disable_web_page_preview"):
            content["link_preview_options"] = {"is_disabled": True}
        return self.post(state, target, p, content, markup=reply_markup)

    def media_sender(self, kind: str) -> Handler:
        def send(state: BotState, p: Params) -> JSON:
            world = self.world
            target = world.writable_chat(state, p.chat_id())
            stored = self._input_file(p.raw.get(kind), kind)
            content: JSON = {}
            if kind == "photo":
                content["photo"] = world.photo_sizes(stored)
            else:
                content[kind] = world.file_object(stored, kind)
            if kind != "sticker":
                caption, entities = formatted_caption(p)
                if caption:
                    content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
            return self.post(state, target, p, content, markup=markup(p))

        return send

    def send_location(self, state: BotState, p: Params) -> JSON:
        target = self.world.writable_chat(state, p.chat_id())
        location = {"latitude": p.float("latitude"), "longitude": p.float("longitude")}
        return self.post(state, target, p, {"location": location}, markup=markup(p))

    def send_contact(self, state: BotState, p: Params) -> JSON:
        target = self.world.writable_chat(state, p.chat_id())
        contact = {
            "phone_number": p.str("phone_number", ""),
            "first_name": p.str("first_name", ""),
        }
        return self.post(state, target, p, {"contact": contact}, markup=markup(p))

    def send_chat_action(self, state: BotState, p: Params) -> bool:
        target = self.world.writable_chat(state, p.chat_id())
        action = p.str("action", "") or ""
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        state.chat_actions.append((target.id, action))
        return True

    # ------------------------------------------------------------------ editing

    def _message_for_edit(self, state: BotState, p: Params) -> tuple[Chat | User, Stored]:
        target = self.world.find_chat(state, p.chat_id())
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
            raise bad_request("message to edit not found")
        return target, stored

    def _apply_edit(
        self,
        state: BotState,
        target: Chat | User,
        stored: Stored,
        changes: JSON,
        reply_markup: tuple[str, JSON] | None,
    ) -> JSON:
        if not stored.outgoing:
            raise bad_request("message can't be edited")
        new_markup = reply_markup[1] if reply_markup and reply_markup[0] == "inline" else None
        current = {k: stored.message.get(k) for k in changes}
        if current == changes and stored.message.get("reply_markup") == new_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self.world.gate(state, target, edit=True)
        for key, value in changes.items():
            if value in (None, [], ""):
                stored.message.pop(key, None)
            else:
                stored.message[key] = value
        if new_markup is None:
            stored.message.pop("reply_markup", None)
        else:
            stored.message["reply_markup"] = new_markup
        stored.message["edit_date"] = self.world.now()
        stored.edited = True
        self.world.emit(state, "edited", target.id, stored)
        return stored.message

    def edit_text(self, state: BotState, p: Params) -> JSON | bool:
        if p.has("inline_message_id"):
            formatted(p, "text", "entities", MAX_TEXT, required=True)
            return True
        target, stored = self._message_for_edit(state, p)
        if "text" not in stored.message and stored.outgoing:
            raise bad_request("there is no text in the message to edit")
        text, entities = formatted(p, "text", "entities", MAX_TEXT, required=True)
        changes: JSON = {"text": text, "entities": entities or None}
        preview = p.json("link_preview_options")
        if isinstance(preview, dict) and preview:
            changes["link_preview_options"] = preview
        return self._apply_edit(state, target, stored, changes, markup(p))

    def edit_caption(self, state: BotState, p: Params) -> JSON | bool:
        if p.has("inline_message_id"):
            return True
        target, stored = self._message_for_edit(state, p)
        if not any(kind in stored.message for kind in MEDIA_KINDS):
            raise bad_request("there is no caption in the message to edit")
        caption, entities = formatted_caption(p)
        changes: JSON = {"caption": caption or None, "caption_entities": entities or None}
        return self._apply_edit(state, target, stored, changes, markup(p))

    def edit_markup(self, state: BotState, p: Params) -> JSON | bool:
        if p.has("inline_message_id"):
            return True
        target, stored = self._message_for_edit(state, p)
        return self._apply_edit(state, target, stored, {}, markup(p))

    # ------------------------------------------------------------------ deleting

    def delete_message(self, state: BotState, p: Params) -> bool:
        target = self.world.find_chat(state, p.chat_id())
        message_id = p.int("message_id")
        stored = state.log(target.id).messages.get(message_id) if message_id is not None else None
        if stored is None:
            raise bad_request("message to delete not found")
        self._check_deletable(state, target, stored)
        self.world.remove(state, target, stored)
        return True

    def delete_messages(self, state: BotState, p: Params) -> bool:
        """Like Telegram: missing ids are skipped; one that may not be deleted fails the call."""
        target = self.world.find_chat(state, p.chat_id())
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message identifiers are not specified")
        messages = state.log(target.id).messages
        found = [messages[int(i)] for i in ids if int(i) in messages]
        for stored in found:
            self._check_deletable(state, target, stored)
        for stored in found:
            self.world.remove(state, target, stored)
        return True

    def _check_deletable(self, state: BotState, target: Chat | User, stored: Stored) -> None:
        """The Bot API's limits: 48 hours for every message, never a topic's creation, and
        someone else's message in a group only as an administrator."""
        if "forum_topic_created" in stored.message:
            raise bad_request("message can't be deleted")
        if self.world.now() - int(stored.message.get("date") or 0) >= 48 * 3600:
            raise bad_request("message can't be deleted for everyone")
        if (
            not stored.outgoing
            and isinstance(target, Chat)
            and target.bot_status.get(state.user.id) != "administrator"
        ):
            raise bad_request("message can't be deleted")

    # ------------------------------------------------------------------ copy and forward

    def _source_message(
        self, state: BotState, p: Params, missing: str
    ) -> tuple[Chat | User, JSON]:
        source = self.world.find_chat(state, p.chat_id("from_chat_id"))
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
            *MEDIA_KINDS,
        )
        return {k: message[k] for k in keys if k in message}

    def copy_message(self, state: BotState, p: Params) -> JSON:
        target = self.world.writable_chat(state, p.chat_id())
        _, original = self._source_message(state, p, "message to copy not found")
        content = self._content_of(original)
        if not content:
            raise bad_request("message can't be copied")
        if p.has("caption") and "text" not in content:
            caption, entities = formatted_caption(p)
            content.pop("caption_entities", None)
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        message = self.post(state, target, p, content, markup=markup(p))
        return {"message_id": message["message_id"]}

    def forward_message(self, state: BotState, p: Params) -> JSON:
        target = self.world.writable_chat(state, p.chat_id())
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
        return self.post(state, target, p, content)
