"""The command line as a person runs it: ask, content import/export, and the bot process
itself (long polling and webhook) against the local Bot API server, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from localapi import LocalBotAPI
from tests.kit import CONTENT, ROOT

pytestmark = pytest.mark.usefixtures("prepared_db")


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": sqlite_url,
        "BOT_TOKEN": "",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def prepared_db(env: dict[str, str]) -> None:
    run(env, "content", "import", str(CONTENT))


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_ask_json(env: dict[str, str]) -> None:
    proc = run(env, "ask", "--json", "Мен Түркияда паспортымды жоғалттым")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"lang", "topic", "country", "confidence", "answer", "alternatives"}
    assert data["lang"] == "kk" and data["topic"] == "lost-passport" and data["country"] == "TR"
    assert "қайтуға арналған куәлік" in data["answer"]
    assert isinstance(data["alternatives"], list)


def test_ask_reads_questions_from_stdin(env: dict[str, str]) -> None:
    proc = run(env, "ask", stdin="How do I renew my passport?\n\nпривет\nГермания\n")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(d["lang"], d["topic"], d["country"]) for d in lines] == [
        ("en", "passport-renewal", None), ("ru", None, None), ("ru", None, "DE"),
    ]


def test_ask_with_forced_language(env: dict[str, str]) -> None:
    proc = run(env, "ask", "--lang", "en", "--json", "паспорт жоғалды")
    data = json.loads(proc.stdout)
    assert data["lang"] == "en" and data["topic"] == "lost-passport"
    assert "certificate of return" in data["answer"]


def test_content_import_reports_and_refuses_bad_files(env: dict[str, str], tmp_path: Path) -> None:
    again = run(env, "content", "import", str(CONTENT))
    assert again.returncode == 0
    assert "added: 0" in again.stdout and "changed: 0" in again.stdout

    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(CONTENT), str(broken)], check=True)
    (broken / "topics" / "kandas.yaml").write_text("slug: kandas\nsection: consular\n", "utf-8")
    proc = run(env, "content", "import", str(broken))
    assert proc.returncode == 1
    assert f"{broken}/topics/kandas.yaml: title: required field is missing" in proc.stderr
    assert "Traceback" not in proc.stderr

    out = tmp_path / "export"
    exported = run(env, "content", "export", str(out))
    assert exported.returncode == 0
    assert (out / "topics" / "kandas.yaml").read_text("utf-8") != ""
    shipped = list((CONTENT / "countries").glob("*.yaml"))
    assert len(list((out / "countries").glob("*.yaml"))) == len(shipped)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _converse_then_sigterm(env: dict[str, str], server: LocalBotAPI, token: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        person = server.add_user(first_name="Ellen", language_code="en")
        await server.wait_for_calls("setMyCommands", timeout=60)
        server.mark(person)
        await server.send_message(person, "/start")
        [reply] = await server.wait_for_messages(person, timeout=30)
        assert reply["text"].startswith("Hello!")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert token not in log and token.split(":")[1] not in log
    return log


async def test_long_polling_process_stops_cleanly_on_sigterm(env: dict[str, str]) -> None:
    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        env |= {"BOT_TOKEN": token, "BOT_API_URL": server.base_url}
        log = await _converse_then_sigterm(env, server, token)
    assert "stopping" in log


async def test_webhook_process(env: dict[str, str]) -> None:
    async with LocalBotAPI() as server:
        token = server.register_bot(username="embassy_bot")
        port = _free_port()
        env |= {"BOT_TOKEN": token, "BOT_API_URL": server.base_url,
                "WEBHOOK_URL": f"http://127.0.0.1:{port}", "WEBHOOK_PORT": str(port),
                "WEBHOOK_SECRET": "s3cret-value"}
        log = await _converse_then_sigterm(env, server, token)
        assert server.webhook_info()["url"] == f"http://127.0.0.1:{port}/telegram/webhook"
    assert "s3cret-value" not in log
