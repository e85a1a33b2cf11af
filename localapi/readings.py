"""What tests read: the messages of a chat as views, buttons and keyboards, waits for the
bot's output or calls, commands and menus as a person sees them, recorded answers.

A mixin of :class:`~localapi.server.LocalBotAPI`; it works on the server's :class:`World`.
"""

from __future__ import annotations

import asyncio
import contextlib

from .methods.interaction import scope_key
from .records import JSON, ApiCall, Chat, OutEvent, User
from .world import World


class Readings:
    world: World

    def messages(self, chat: Chat | User | int, *, bot: str | None = None) -> list[JSON]:
        """Current messages of the chat (both sides), oldest first, as views."""
        log = self.world.bot(bot).log(self.world.chat_ref(chat))
        return [self.world.view(stored) for stored in log.messages.values()]

    def last_bot_message(self, chat: Chat | User | int, *, bot: str | None = None) -> JSON | None:
        log = self.world.bot(bot).log(self.world.chat_ref(chat))
        for stored in reversed(list(log.messages.values())):
            if stored.outgoing:
                return self.world.view(stored)
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
        markup = self.world.bot(bot).log(self.world.chat_ref(chat)).reply_keyboard
        if not markup:
            return None
        return [
            [b if isinstance(b, str) else b.get("text", "") for b in row]
            for row in markup.get("keyboard", [])
        ]

    def mark(self, chat: Chat | User | int | None = None, *, bot: str | None = None) -> None:
        """Forget earlier bot output: the next wait counts only what comes after now."""
        state = self.world.bot(bot)
        if chat is None:
            for chat_id in list(state.cursors) + list(state.logs):
                state.cursors[chat_id] = len(state.outbox)
        else:
            state.cursors[self.world.chat_ref(chat)] = len(state.outbox)

    async def wait_for_messages(
        self,
        chat: Chat | User | int,
        count: int = 1,
        timeout: float = 5.0,
        *,
        bot: str | None = None,
    ) -> list[JSON]:
        """Wait until the bot sent or edited ``count`` more messages in the chat; return them."""
        state, chat_id = self.world.bot(bot), self.world.chat_ref(chat)
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
        return [call for call in self.world.calls if call.method.lower() == method.lower()]

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
        return list(self.world.bot(bot).commands.get(scope_key(scope, language_code), []))

    def menu_for(self, user: User, *, bot: str | None = None) -> list[JSON]:
        """The command menu ``user`` sees in their private chat, resolved as Telegram does:
        chat scope, all private chats, default; each in the user's app language first."""
        state = self.world.bot(bot)
        lang = (user.language_code or "").split("-")[0].lower()
        for scope in ({"type": "chat", "chat_id": user.id}, {"type": "all_private_chats"},
                      {"type": "default"}):
            for code in ((lang, "") if lang else ("",)):
                found = state.commands.get(scope_key(scope, code))
                if found:
                    return list(found)
        return []

    def menu_button(
        self, chat: Chat | User | int | None = None, *, bot: str | None = None
    ) -> JSON:
        key = None if chat is None else self.world.chat_ref(chat)
        return self.world.bot(bot).menu_buttons.get(key, {"type": "default"})

    def callback_answers(self, bot: str | None = None) -> dict[str, JSON]:
        return self.world.bot(bot).callback_answers

    def inline_answers(self, bot: str | None = None) -> dict[str, JSON]:
        return self.world.bot(bot).inline_answers

    def chat_actions(self, bot: str | None = None) -> list[tuple[int, str]]:
        return self.world.bot(bot).chat_actions

    def pending_updates(self, bot: str | None = None) -> list[JSON]:
        return list(self.world.bot(bot).updates)

    def subscribe(self, bot: str | None = None) -> asyncio.Queue[OutEvent]:
        """A queue receiving every later :class:`OutEvent` of the bot."""
        queue: asyncio.Queue[OutEvent] = asyncio.Queue()
        self.world.bot(bot).subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[OutEvent], bot: str | None = None) -> None:
        with contextlib.suppress(ValueError):
            self.world.bot(bot).subscribers.remove(queue)
