"""Chats: getChat, members and administrators, forum topics, leaveChat."""

from __future__ import annotations

from ..records import JSON, Chat, Topic, User, bad_request, forbidden
from ..state import BotState, Handler, Params, Stored
from ..world import World


class Chats:
    def __init__(self, world: World) -> None:
        self.world = world

    def table(self) -> dict[str, Handler]:
        return {
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_admins,
            "getChatMemberCount": self.get_member_count,
            "createForumTopic": self.create_topic,
            "editForumTopic": self.edit_topic,
            "closeForumTopic": lambda bot, p: self.set_topic_closed(bot, p, True),
            "reopenForumTopic": lambda bot, p: self.set_topic_closed(bot, p, False),
            "deleteForumTopic": self.delete_topic,
            "leaveChat": self.leave_chat,
        }

    # ------------------------------------------------------------------ chats and members

    def get_chat(self, state: BotState, p: Params) -> JSON:
        target = self.world.find_chat(state, p.chat_id())
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

    def _status_in(self, state: BotState, chat: Chat | User, user_id: int) -> str:
        if isinstance(chat, User):
            return "member" if user_id in (chat.id, state.user.id) else "left"
        if user_id in self.world.bots_by_id:
            return chat.bot_status.get(user_id, "left")
        if chat.admins and chat.admins[0] == user_id:
            return "creator"
        if user_id in chat.admins:
            return "administrator"
        return "member" if user_id in chat.members else "left"

    def get_chat_member(self, state: BotState, p: Params) -> JSON:
        world = self.world
        target = world.find_chat(state, p.chat_id())
        user_id = p.int("user_id")
        if user_id is None or user_id not in world.users:
            raise bad_request("user not found")
        chat_type = "private" if isinstance(target, User) else target.type
        return world.member(
            world.users[user_id].to_dict(), self._status_in(state, target, user_id), chat_type
        )

    def get_chat_admins(self, state: BotState, p: Params) -> list[JSON]:
        world = self.world
        target = world.find_chat(state, p.chat_id())
        if isinstance(target, User):
            raise bad_request("there are no administrators in the private chat")
        ids = list(target.admins) + [
            bot_id for bot_id, status in target.bot_status.items() if status == "administrator"
        ]
        return [
            world.member(
                world.users[uid].to_dict(), self._status_in(state, target, uid), target.type
            )
            for uid in ids
        ]

    def get_member_count(self, state: BotState, p: Params) -> int:
        target = self.world.find_chat(state, p.chat_id())
        if isinstance(target, User):
            return 2
        bots = sum(1 for s in target.bot_status.values() if s in ("member", "administrator"))
        return len(target.members) + bots

    def leave_chat(self, state: BotState, p: Params) -> bool:
        target = self.world.find_chat(state, p.chat_id())
        if isinstance(target, User):
            raise bad_request("chat member status can't be changed in private chats")
        old = target.bot_status.get(state.user.id, "left")
        if old in ("left", "kicked"):
            raise forbidden(f"bot is not a member of the {target.type} chat")
        target.bot_status[state.user.id] = "left"
        self.world.chat_member_update(state, target.to_dict(), state.user, old, "left")
        return True

    # ------------------------------------------------------------------ forum topics

    def _forum(self, state: BotState, p: Params) -> Chat:
        target = self.world.writable_chat(state, p.chat_id())
        if not isinstance(target, Chat) or not target.is_forum:
            raise bad_request("the chat is not a forum")
        if target.bot_status.get(state.user.id) != "administrator":
            raise bad_request("not enough rights to manage topics")
        return target

    @staticmethod
    def _topic(chat: Chat, p: Params) -> Topic:
        topic = chat.topics.get(p.int("message_thread_id") or 0)
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    def create_topic(self, state: BotState, p: Params) -> JSON:
        world = self.world
        chat = self._forum(state, p)
        name = p.str("name", "") or ""
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_INVALID")
        thread_id = world.new_message_id(state, chat.id)
        topic = Topic(
            thread_id, name, p.int("icon_color", 7322096) or 7322096, p.str("icon_custom_emoji_id")
        )
        chat.topics[thread_id] = topic
        created: JSON = {"name": name, "icon_color": topic.icon_color}
        message: JSON = {
            "message_id": thread_id,
            "from": state.user.to_dict(),
            "chat": chat.to_dict(),
            "date": world.now(),
            "message_thread_id": thread_id,
            "forum_topic_created": created,
            "is_topic_message": True,
        }
        state.log(chat.id).messages[thread_id] = Stored(message, outgoing=True)
        return topic.to_dict()

    def edit_topic(self, state: BotState, p: Params) -> bool:
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

    def set_topic_closed(self, state: BotState, p: Params, closed: bool) -> bool:
        chat = self._forum(state, p)
        topic = self._topic(chat, p)
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        return True

    def delete_topic(self, state: BotState, p: Params) -> bool:
        """The topic and every message in it go, whatever their age (can_delete_messages)."""
        chat = self._forum(state, p)
        topic = self._topic(chat, p)
        chat.topics.pop(topic.message_thread_id)
        for bot in self.world.bots.values():
            log = bot.log(chat.id)
            for stored in [m for m in log.messages.values()
                           if m.message.get("message_thread_id") == topic.message_thread_id]:
                self.world.remove(bot, chat, stored)
        return True
