"""Talk to a bot from a terminal through the local Bot API server.

::

    await run_terminal_chat(server, user)            # private chat with the bot
    await run_terminal_chat(server, user, group.id)  # as that user inside a group

The bot's messages are printed as plain text (bold/italic/underline with
terminal escapes when stdout is a tty, links as ``text (url)``), edits are
marked as such, and inline buttons are numbered ``[1] Consular services
[2] Countries``. Typing text sends it; typing ``N`` or ``#N`` presses button N
of the latest message that has buttons; ``/quit`` or end of input leaves.
Input is read on a daemon thread so the event loop (and the bot) keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from typing import Any, TextIO

from .html import Entity, render_entities
from .records import OutEvent, User
from .server import LocalBotAPI

HELP = "Type a message and press Enter; N or #N presses button N; /quit leaves."

_ANSI_ON = {
    "bold": "\x1b[1m",
    "italic": "\x1b[3m",
    "underline": "\x1b[4m",
    "strikethrough": "\x1b[9m",
    "code": "\x1b[2m",
    "pre": "\x1b[2m",
    "spoiler": "\x1b[7m",
}
_ANSI_OFF = {
    "bold": "\x1b[22m",
    "italic": "\x1b[23m",
    "underline": "\x1b[24m",
    "strikethrough": "\x1b[29m",
    "code": "\x1b[22m",
    "pre": "\x1b[22m",
    "spoiler": "\x1b[27m",
}
_PRESS = re.compile(r"#?(\d+)")


def render_plain(text: str, entities: list[Entity] | None, color: bool = False) -> str:
    """Text with links spelled out as ``text (url)`` and, if ``color``, ANSI styles."""

    def open_mark(entity: Entity) -> str:
        return _ANSI_ON.get(entity["type"], "") if color else ""

    def close_mark(entity: Entity) -> str:
        if entity["type"] == "text_link":
            return f" ({entity['url']})"
        return _ANSI_OFF.get(entity["type"], "") if color else ""

    return render_entities(text, entities, open_mark, close_mark)


def flat_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Inline buttons of a message in reading order (the numbers shown to the person)."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def render_message(message: dict[str, Any], kind: str = "sent", color: bool = False) -> str:
    """A bot message as terminal lines: header, body, numbered buttons."""
    header = "bot" if kind == "sent" else f"bot (edited #{message['message_id']})"
    if "text" in message:
        body = render_plain(message["text"], message.get("entities"), color)
    else:
        parts = [
            f"[{kind_}]"
            for kind_ in (
                "photo",
                "document",
                "sticker",
                "voice",
                "audio",
                "video",
                "animation",
                "location",
                "contact",
            )
            if kind_ in message
        ]
        if "document" in message:
            parts = [f"[document {message['document'].get('file_name', '')}]".replace(" ]", "]")]
        if "location" in message:
            loc = message["location"]
            parts = [f"[location {loc['latitude']}, {loc['longitude']}]"]
        caption = render_plain(message.get("caption", ""), message.get("caption_entities"), color)
        body = " ".join(parts + ([caption] if caption else []))
    lines = [f"{header}: {body}"]
    number = 0
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        cells = []
        for button in row:
            number += 1
            label = f"[{number}] {button['text']}"
            if "url" in button:
                label += f" ({button['url']})"
            cells.append(label)
        lines.append("   " + "  ".join(cells))
    return "\n".join(lines)


def _start_reader(
    stdin: TextIO, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]
) -> None:
    def read() -> None:
        while True:
            try:
                line = stdin.readline()
            except (OSError, ValueError):
                line = ""
            if not line:
                loop.call_soon_threadsafe(lines.put_nowait, None)
                return
            loop.call_soon_threadsafe(lines.put_nowait, line)

    threading.Thread(target=read, name="terminal-chat-stdin", daemon=True).start()


async def run_terminal_chat(
    server: LocalBotAPI,
    user: User,
    bot_chat_id: int | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    bot: str | None = None,
) -> None:
    """Let a person chat with the bot as ``user`` until ``/quit`` or end of input."""
    chat_id = bot_chat_id if bot_chat_id is not None else user.id
    color = bool(getattr(stdout, "isatty", lambda: False)())
    events = server.subscribe(bot)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    with_buttons: dict[str, Any] | None = None

    def say(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    async def show_bot_output() -> None:
        nonlocal with_buttons
        while True:
            event: OutEvent = await events.get()
            if event.chat_id != chat_id:
                continue
            message = event.message
            if event.kind == "deleted":
                say(f"bot deleted message #{message['message_id']}")
                if with_buttons and with_buttons["message_id"] == message["message_id"]:
                    with_buttons = None
                continue
            if flat_buttons(message):
                with_buttons = message
            elif with_buttons and with_buttons["message_id"] == message["message_id"]:
                with_buttons = None
            say(render_message(message, event.kind, color))

    say(HELP)
    _start_reader(stdin, asyncio.get_running_loop(), lines)
    printer = asyncio.create_task(show_bot_output())
    try:
        while True:
            line = await lines.get()
            if line is None:
                break
            text = line.strip()
            if not text:
                continue
            if text == "/quit":
                break
            match = _PRESS.fullmatch(text)
            if match and with_buttons is not None:
                buttons = flat_buttons(with_buttons)
                index = int(match.group(1))
                if not 1 <= index <= len(buttons):
                    say(f"no button {index}; there are {len(buttons)}")
                    continue
                button = buttons[index - 1]
                if "callback_data" in button:
                    await server.press_callback(
                        user,
                        with_buttons["message_id"],
                        button["callback_data"],
                        chat=chat_id,
                        bot=bot,
                    )
                elif "url" in button:
                    say(f"(opens {button['url']})")
                else:
                    say("(this button does nothing here)")
                continue
            await server.send_message(user, text, None if chat_id == user.id else chat_id, bot=bot)
        await asyncio.sleep(0)
    finally:
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
        server.unsubscribe(events, bot)
