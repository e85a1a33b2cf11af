"""Interaction: getMe, callback and inline queries, commands and the menu button."""

from __future__ import annotations

from typing import Any

from ..records import JSON, bad_request
from ..state import BotState, Handler, Params
from ..world import World

CALLBACK_TTL = 15.0


def scope_key(scope: Any, language_code: str | None) -> tuple[Any, ...]:
    """Where setMyCommands keeps a command list: the scope's fields and the language."""
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


class Interaction:
    def __init__(self, world: World) -> None:
        self.world = world

    def table(self) -> dict[str, Handler]:
        return {
            "getMe": lambda bot, p: self.me(bot),
            "answerCallbackQuery": self.answer_callback,
            "answerInlineQuery": self.answer_inline,
            "setMyCommands": self.set_commands,
            "getMyCommands": self.get_commands,
            "deleteMyCommands": self.delete_commands,
            "setChatMenuButton": self.set_menu_button,
            "getChatMenuButton": self.get_menu_button,
        }

    @staticmethod
    def me(state: BotState) -> JSON:
        return {
            **state.user.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": state.can_read_all_group_messages,
            "supports_inline_queries": state.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ------------------------------------------------------------------ queries

    def answer_callback(self, state: BotState, p: Params) -> bool:
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

    def _take_query(self, state: BotState, query_id: str) -> None:
        created = state.queries.pop(query_id, None)
        if created is None or self.world.clock() - created > CALLBACK_TTL:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )

    def answer_inline(self, state: BotState, p: Params) -> bool:
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

    # ------------------------------------------------------------------ commands and menu

    @staticmethod
    def _commands_target(p: Params) -> tuple[Any, ...]:
        language = p.str("language_code", "") or ""
        if language and not (len(language) == 2 and language.isalpha()):
            raise bad_request("invalid language code specified")
        scope = p.json("scope")
        if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
            raise bad_request("can't parse BotCommandScope JSON object")
        return scope_key(scope, language)

    def set_commands(self, state: BotState, p: Params) -> bool:
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

    def get_commands(self, state: BotState, p: Params) -> list[JSON]:
        return list(state.commands.get(self._commands_target(p), []))

    def delete_commands(self, state: BotState, p: Params) -> bool:
        state.commands.pop(self._commands_target(p), None)
        return True

    def set_menu_button(self, state: BotState, p: Params) -> bool:
        chat_id = p.int("chat_id") if p.has("chat_id") else None
        if chat_id is not None:
            self.world.find_chat(state, chat_id)
        button = p.json("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        state.menu_buttons[chat_id] = button
        return True

    def get_menu_button(self, state: BotState, p: Params) -> JSON:
        chat_id = p.int("chat_id") if p.has("chat_id") else None
        return state.menu_buttons.get(chat_id, state.menu_buttons.get(None, {"type": "default"}))
