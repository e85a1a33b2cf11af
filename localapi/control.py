"""The control surface that builds the simulated world: bots, people, groups and channels,
memberships, blocks, and the faults and time jumps a test orders.

A mixin of :class:`~localapi.server.LocalBotAPI`; it works on the server's :class:`World`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from .records import JSON, Chat, User
from .state import BotState
from .world import World


class WorldControl:
    world: World

    def register_bot(
        self,
        username: str = "test_bot",
        first_name: str = "Test Bot",
        *,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = True,
    ) -> str:
        """Create a bot and return its token ``"<id>:<secret>"``."""
        world = self.world
        bot_id = 7_000_000_000 + next(world.ids)
        token = f"{bot_id}:{secrets.token_urlsafe(26)[:35]}"
        user = User(id=bot_id, first_name=first_name, username=username, is_bot=True)
        state = BotState(
            user=user,
            token=token,
            can_read_all_group_messages=can_read_all_group_messages,
            supports_inline_queries=supports_inline_queries,
        )
        world.bots[token] = state
        world.bots_by_id[bot_id] = state
        for chat in world.chats.values():
            chat.bot_status.setdefault(bot_id, chat.new_bot_status)
        world.users[bot_id] = user
        world.default_token = world.default_token or token
        return token

    def bot_user(self, bot: str | None = None) -> User:
        return self.world.bot(bot).user

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
            id=200_000_000 + next(self.world.ids),
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        self.world.users[user.id] = user
        if started:
            self.world.started_everywhere.add(user.id)
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
        world = self.world
        admin_ids = [world.user_id(a) for a in admins]
        member_ids = list(dict.fromkeys(admin_ids + [world.user_id(m) for m in members]))
        is_super = supergroup or forum
        number = next(world.ids)
        chat = Chat(
            id=-1_002_000_000_000 - number if is_super else -4_000_000_000 - number,
            type="supergroup" if is_super else "group",
            title=title,
            username=username,
            is_forum=forum,
            members=member_ids,
            admins=admin_ids,
        )
        new_status = "administrator" if bot_admin else "member" if bot_member else "left"
        return self._add_chat(chat, new_status)

    def add_channel(
        self,
        title: str = "Test channel",
        admins: Iterable[User | int] = (),
        *,
        bot_admin: bool = True,
        username: str | None = None,
    ) -> Chat:
        """Create a channel; the bots are its administrators unless ``bot_admin=False``."""
        admin_ids = [self.world.user_id(a) for a in admins]
        chat = Chat(
            id=-1_002_000_000_000 - next(self.world.ids),
            type="channel",
            title=title,
            username=username,
            members=list(admin_ids),
            admins=admin_ids,
        )
        return self._add_chat(chat, "administrator" if bot_admin else "left")

    def _add_chat(self, chat: Chat, new_bot_status: str) -> Chat:
        """Every bot, and every bot registered later, gets ``new_bot_status`` in the chat."""
        chat.new_bot_status = new_bot_status
        for bot_id in self.world.bots_by_id:
            chat.bot_status[bot_id] = chat.new_bot_status
        self.world.chats[chat.id] = chat
        return chat

    def block(self, user: User | int, bot: str | None = None) -> None:
        """The user blocks the bot (emits ``my_chat_member`` with status kicked)."""
        self.world.set_blocked(self.world.bot(bot), self.world.user(user), True)

    def unblock(self, user: User | int, bot: str | None = None) -> None:
        self.world.set_blocked(self.world.bot(bot), self.world.user(user), False)

    def deactivate(self, user: User | int) -> None:
        """The account is deleted: sends to it answer ``user is deactivated``."""
        self.world.user(user).deactivated = True

    def kick_bot(self, group: Chat | int, bot: str | None = None) -> JSON:
        """An admin removes the bot from the group (``my_chat_member``)."""
        chat = self.world.chat(group)
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
        world = self.world
        state, chat = world.bot(bot), world.chat(group)
        actor = world.user(by) if by is not None else world.first_admin(chat)
        old = chat.bot_status.get(state.user.id, "left")
        new = "administrator" if as_admin else "member"
        chat.bot_status[state.user.id] = new
        if actor.id not in chat.members:
            chat.members.append(actor.id)
        update = world.chat_member_update(state, chat.to_dict(), actor, old, new)
        if chat.type != "channel":
            world.store_incoming(
                state, chat, actor, {"new_chat_members": [state.user.to_dict()]}, deliver=True
            )
        return update

    def remove_bot_from_group(
        self, group: Chat | int, by: User | int | None = None, *, bot: str | None = None
    ) -> JSON:
        """The bot is removed (``kicked``; ``left`` in basic groups)."""
        world = self.world
        state, chat = world.bot(bot), world.chat(group)
        actor = world.user(by) if by is not None else world.first_admin(chat)
        old = chat.bot_status.get(state.user.id, "member")
        new = "left" if chat.type == "group" else "kicked"
        chat.bot_status[state.user.id] = "kicked"
        return world.chat_member_update(state, chat.to_dict(), actor, old, new)

    def migrate_group(self, group: Chat | int) -> int:
        """Upgrade a basic group to a supergroup; returns the new chat id."""
        world = self.world
        old = world.chat(group)
        number = next(world.ids)
        new = Chat(
            id=-1_002_000_000_000 - number,
            type="supergroup",
            title=old.title,
            members=list(old.members),
            admins=list(old.admins),
            bot_status=dict(old.bot_status),
        )
        world.chats[new.id] = new
        old.migrated_to = new.id
        actor = world.first_admin(old)
        for state in world.bots.values():
            if old.bot_status.get(state.user.id) in ("member", "administrator"):
                world.store_incoming(state, old, actor, {"migrate_to_chat_id": new.id}, True)
                world.store_incoming(state, new, actor, {"migrate_from_chat_id": old.id}, True)
        return new.id

    def remove_chat(self, chat: Chat | int) -> None:
        """The chat disappears: every method answers ``chat not found``."""
        chat_id = chat.id if isinstance(chat, (Chat, User)) else chat
        if chat_id in self.world.chats:
            self.world.chats[chat_id].removed = True
        elif chat_id in self.world.users:
            self.world.users[chat_id].deactivated = True

    def set_admin(self, group: Chat | int, user: User | int, admin: bool = True) -> None:
        """The creator promotes a member (or a bot) to administrator, or demotes them."""
        chat, user_id = self.world.chat(group), self.world.user_id(user)
        if user_id in self.world.bots_by_id:
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

    # ------------------------------------------------------------------ faults and time

    def lose_webhook_answers(self, count: int = 1) -> None:
        """The bot's answers to the next ``count`` webhook deliveries never arrive: the update
        was delivered, but, as Telegram does when no answer comes in time, it is sent again."""
        self.world.lost_answers += count

    def storm_429(self, seconds: float, *, after: int = 0) -> None:
        """Every sending method answers 429 for ``seconds`` of server time, from now or
        from the moment ``after`` more sends have passed."""
        if after > 0:
            self.world.storm_after = (after, seconds)
            return
        self.world.storm_until = self.world.clock() + seconds

    def advance(self, seconds: float) -> None:
        """Time passes at once: the server clock, and so every message's age, jumps ahead."""
        self.world.advance(seconds)
