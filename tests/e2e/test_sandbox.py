"""The sandbox as a newcomer uses it: the real bot, the local server and the terminal chat.

Each test types into the terminal and reads what it prints, nothing else; the sandbox keeps
its own SQLite database and files in a folder (here a temporary one).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.sandbox import run_sandbox
from tests.kit import CONTENT, make_settings
from tests.localapi.test_terminal import ScriptedInput

pytestmark = pytest.mark.asyncio


class Terminal:
    """What the person types and reads; ``expect`` waits for text printed after the last one."""

    def __init__(self) -> None:
        self.stdin, self.stdout = ScriptedInput(), io.StringIO()
        self.seen = 0

    def type(self, line: str) -> None:
        self.stdin.type(line)

    async def expect(self, text: str, within: float = 15.0) -> str:
        """The output from the last expectation up to and including the line with ``text``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            out = self.stdout.getvalue()
            found = out.find(text, self.seen)
            if found >= 0:
                end = out.find("\n", found)
                end = len(out) if end < 0 else end + 1
                chunk, self.seen = out[self.seen:end], end
                return chunk
            assert loop.time() < deadline, f"{text!r} not printed; after the last: " \
                                           f"{out[self.seen:]!r}"
            await asyncio.sleep(0.05)

    def button(self, chunk: str, label: str) -> str:
        """The ``#N`` the terminal shows for the button whose text contains ``label``."""
        found = re.search(r"\[(#\d+)\] [^\[\n]*" + re.escape(label), chunk)
        assert found, f"no button {label!r} shown in {chunk!r}"
        return found.group(1)


@asynccontextmanager
async def sandbox(folder: Path) -> AsyncIterator[Terminal]:
    settings = make_settings("sqlite+aiosqlite:///unused.db", default_language="en",
                             content_dir=CONTENT)
    term = Terminal()
    run = asyncio.create_task(run_sandbox(settings, "en", folder=folder, stdin=term.stdin,
                                          stdout=term.stdout))  # type: ignore[arg-type]
    try:
        await term.expect("/quit leaves")
        yield term
    finally:
        term.type("/quit")
        assert await asyncio.wait_for(run, 20) == 0


async def test_start_prints_the_sandbox_commands(tmp_path: Path) -> None:
    async with sandbox(tmp_path) as term:
        assert "#N presses button N" in term.stdout.getvalue()
        assert "/as operator" in term.stdout.getvalue()
        assert "/as citizen" in term.stdout.getvalue()
        term.type("/start")
        menu = await term.expect("[#1]")
        assert "bot:" in menu


async def test_an_editor_is_added_by_a_typed_id(tmp_path: Path) -> None:
    """Digits while the bot waits for an id are text, though its message has a button."""
    async with sandbox(tmp_path) as term:
        term.type("/editors")
        screen = await term.expect("Add an editor")
        term.type(term.button(screen, "Add an editor"))
        await term.expect("numeric Telegram id")
        await term.expect("Cancel")
        term.type("123456789")
        added = await term.expect("is now an editor")
        assert "123456789" in added
        assert "no button" not in added


async def test_an_operator_answers_and_the_citizen_sees_it(tmp_path: Path) -> None:
    async with sandbox(tmp_path) as term:
        term.type("/officer")
        await term.expect("Describe your case")
        term.type("My passport was stolen in Germany, I fly home on Friday")
        ask = await term.expect("Germany", within=15)
        ask += await term.expect("No particular country")
        term.type(term.button(ask, "Germany"))
        await term.expect("has been sent")
        notice = "(the bot wrote in the operators' group: /as operator to see it)"
        assert notice in term.stdout.getvalue()

        term.type("/as operator")
        desk = await term.expect("you are now an administrator of “Consular desk (sandbox)”")
        assert re.search(r"writing in “[^”]*#1\b", desk), desk
        shown = await term.expect("My passport was stolen in Germany")
        assert "bot in “" in shown

        term.type("Please come to the consulate on Monday with your ticket.")
        await term.expect("(the bot wrote to you as the citizen: /as citizen to see it)")
        term.type("/as citizen")
        await term.expect("you are now the citizen")
        answer = await term.expect("Please come to the consulate on Monday with your ticket.")
        assert re.search(r"^bot: Please come to the consulate on Monday", answer, re.M)


async def test_stats_charts_are_saved_as_files(tmp_path: Path) -> None:
    async with sandbox(tmp_path) as term:
        term.type("/stats")
        periods = await term.expect("90 days")
        term.type(term.button(periods, "7 days"))
        # The first charts start the drawing process (a fresh interpreter and matplotlib).
        photo = await term.expect("file saved: ", within=90.0)
        assert "[photo]" in photo
        path = Path(photo.rsplit("file saved: ", 1)[1].strip())
        assert path.parent == tmp_path / "files"
        assert (await asyncio.to_thread(path.read_bytes)).startswith(b"\x89PNG")
