"""Talk to a bot from a terminal through the local Bot API server.

::

    await run_terminal_chat(server, user)            # private chat with the bot
    await run_terminal_chat(server, user, group.id)  # as that user inside a group
    await run_terminal_chat(server, user, operators=desk, files=Path("data/sandbox/files"))

The bot's messages are printed as plain text (bold/italic/underline with
terminal escapes when stdout is a tty, links as ``text (url)``), edits are
marked as such, and inline buttons are shown as ``[#1] Consular services
[#2] Countries``. Typing text sends it, digits included (an id, a phone number);
typing ``#N`` presses button N of the latest message with buttons; ``/quit`` or
end of input leaves.

With ``operators`` (a forum group whose administrator is ``user``) the person has two
sides: ``/as operator`` writes in that group, into the topic of the bot's latest message
there or the one picked with ``/topic N``; ``/as citizen`` comes back to the private chat.
What the bot writes on the other side is held and shown on switching.
With ``files`` every photo, document or other file the bot sends is saved in that folder
and its path printed. Input is read on a daemon thread so the event loop (and the bot)
keep running. The terminal's own lines are developer tooling and stay in English.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .html import Entity, render_entities
from .records import Chat, OutEvent, User
from .server import LocalBotAPI

HELP = "Type a message and press Enter; #N presses button N; /quit leaves."
DESK_HELP = (
    "Type a message and press Enter; #N presses button N; /as operator answers requests in "
    "the operators' group, /as citizen comes back; /topic N picks a request; /quit leaves."
)

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
_PRESS = re.compile(r"#(\d+)")
_MEDIA = ("photo", "document", "sticker", "voice", "audio", "video", "animation")
CITIZEN, OPERATOR = "citizen", "operator"


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


def render_message(
    message: dict[str, Any], kind: str = "sent", color: bool = False, where: str = ""
) -> str:
    """A bot message as terminal lines: header (``where`` it was written), body, buttons."""
    header = "bot" if kind == "sent" else f"bot (edited #{message['message_id']})"
    if where:
        header += f" {where}"
    if "text" in message:
        body = render_plain(message["text"], message.get("entities"), color)
    else:
        parts = [f"[{kind_}]" for kind_ in (*_MEDIA, "location", "contact") if kind_ in message]
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
            label = f"[#{number}] {button['text']}"
            if "url" in button:
                label += f" ({button['url']})"
            cells.append(label)
        lines.append("   " + "  ".join(cells))
    return "\n".join(lines)


def _free_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name-2``, ``name-3``… so that no earlier file is overwritten."""
    path = folder / name
    stem, suffix = path.stem, path.suffix
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}{suffix}"
    return path


def save_files(server: LocalBotAPI, message: dict[str, Any], folder: Path) -> list[Path]:
    """Write each file of a bot message into ``folder``; returns the paths written."""
    written = []
    for kind in _MEDIA:
        if kind not in message:
            continue
        item = message[kind][-1] if kind == "photo" else message[kind]
        stored = server.files.get(item.get("file_id", ""))
        if stored is None:
            continue
        name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
        safe = re.sub(r"[^\w.-]+", "_", name).strip("._") or kind
        folder.mkdir(parents=True, exist_ok=True)
        path = _free_path(folder, f"{message['message_id']}-{safe}")
        path.write_bytes(stored.data)
        written.append(path)
    return written


@dataclass
class _Side:
    """One chat the person talks in: what they last saw there and what waits for them."""

    name: str
    chat_id: int
    described: str
    buttons: dict[str, Any] | None = None
    held: list[str] = field(default_factory=list)


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


class _TerminalChat:
    def __init__(
        self,
        server: LocalBotAPI,
        user: User,
        chat_id: int,
        stdout: TextIO,
        bot: str | None,
        operators: Chat | None,
        files: Path | None,
    ) -> None:
        self.server, self.user, self.stdout, self.bot = server, user, stdout, bot
        self.operators, self.files = operators, files
        self.color = bool(getattr(stdout, "isatty", lambda: False)())
        self.sides = {CITIZEN: _Side(CITIZEN, chat_id, "to you as the citizen")}
        if operators is not None:
            self.sides[OPERATOR] = _Side(OPERATOR, operators.id, "in the operators' group")
        self.side = self.sides[CITIZEN]
        self.topic: int | None = None
        self.topic_picked = False

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _side_of(self, chat_id: int) -> _Side | None:
        return next((s for s in self.sides.values() if s.chat_id == chat_id), None)

    def _topic_name(self, thread_id: int | None) -> str:
        if self.operators is None or thread_id is None:
            return "General"
        topic = self.operators.topics.get(thread_id)
        return topic.name if topic else f"topic {thread_id}"

    def _render(self, event: OutEvent, side: _Side) -> str:
        message = event.message
        if event.kind == "deleted":
            if side.buttons and side.buttons["message_id"] == message["message_id"]:
                side.buttons = None
            return f"bot deleted message #{message['message_id']}"
        if flat_buttons(message):
            side.buttons = message
        elif side.buttons and side.buttons["message_id"] == message["message_id"]:
            side.buttons = None
        where = ""
        if side.name == OPERATOR:
            thread = message.get("message_thread_id")
            if thread is not None and not self.topic_picked:
                self.topic = thread
            where = f"in “{self._topic_name(thread)}”"
        text = render_message(message, event.kind, self.color, where)
        if self.files is not None and event.kind == "sent":
            for path in save_files(self.server, message, self.files):
                text += f"\n   file saved: {path}"
        return text

    async def show_bot_output(self, events: asyncio.Queue[OutEvent]) -> None:
        while True:
            event = await events.get()
            side = self._side_of(event.chat_id)
            if side is None:
                continue
            text = self._render(event, side)
            if side is self.side:
                self.say(text)
                continue
            if not side.held:
                self.say(f"(the bot wrote {side.described}: /as {side.name} to see it)")
            side.held.append(text)

    def switch(self, args: list[str]) -> None:
        wanted = args[0].lower() if args else ""
        if wanted not in self.sides:
            self.say(f"you are the {self.side.name}; /as operator or /as citizen switches")
            return
        self.side = self.sides[wanted]
        if wanted == OPERATOR and self.operators is not None:
            self.say(f"you are now an administrator of “{self.operators.title}”, writing in "
                     f"“{self._topic_name(self.topic)}” (/topic lists the requests)")
        else:
            self.say("you are now the citizen, in your private chat with the bot")
        held, self.side.held = self.side.held, []
        for text in held:
            self.say(text)

    def pick_topic(self, args: list[str]) -> None:
        topics = self.operators.topics if self.operators is not None else {}
        if args and args[0].isdigit() and int(args[0]) in topics:
            self.topic, self.topic_picked = int(args[0]), True
            self.say(f"writing in “{self._topic_name(self.topic)}”")
            return
        if args:
            self.say(f"no topic {args[0]}")
        if not topics:
            self.say("no request topics yet: open a request as the citizen with /officer")
        for thread_id, topic in topics.items():
            mark = "*" if thread_id == self.topic else " "
            self.say(f" {mark} /topic {thread_id}  {topic.name}")

    async def press(self, index: int) -> None:
        message = self.side.buttons
        buttons = flat_buttons(message) if message else []
        if message is None or not 1 <= index <= len(buttons):
            self.say(f"no button #{index}; there are {len(buttons)}")
            return
        button = buttons[index - 1]
        if "callback_data" in button:
            await self.server.press_callback(
                self.user,
                message["message_id"],
                button["callback_data"],
                chat=self.side.chat_id,
                bot=self.bot,
            )
        elif "url" in button:
            self.say(f"(opens {button['url']})")
        else:
            self.say("(this button does nothing here)")

    async def write(self, text: str) -> None:
        chat_id = self.side.chat_id
        if self.side.name == OPERATOR:
            await self.server.send_message(
                self.user, text, chat_id, thread_id=self.topic, bot=self.bot
            )
            return
        await self.server.send_message(
            self.user, text, None if chat_id == self.user.id else chat_id, bot=self.bot
        )

    async def handle(self, text: str) -> None:
        match = _PRESS.fullmatch(text)
        if match:
            await self.press(int(match.group(1)))
            return
        command, *args = text.split()
        if self.operators is not None and command == "/as":
            self.switch(args)
        elif self.operators is not None and command == "/topic":
            self.pick_topic(args)
        else:
            await self.write(text)


async def run_terminal_chat(
    server: LocalBotAPI,
    user: User,
    bot_chat_id: int | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    bot: str | None = None,
    operators: Chat | None = None,
    files: Path | None = None,
) -> None:
    """Let a person chat with the bot as ``user`` until ``/quit`` or end of input."""
    chat_id = bot_chat_id if bot_chat_id is not None else user.id
    chat = _TerminalChat(server, user, chat_id, stdout, bot, operators, files)
    events = server.subscribe(bot)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    chat.say(HELP if operators is None else DESK_HELP)
    _start_reader(stdin, asyncio.get_running_loop(), lines)
    printer = asyncio.create_task(chat.show_bot_output(events))
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
            await chat.handle(text)
        await asyncio.sleep(0)
    finally:
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
        server.unsubscribe(events, bot)
