"""LOG_FORMAT (bot/logs.py): text or one JSON object per line; the token never appears, in
the message or in an exception's text (a failed request's URL carries the token)."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import pytest

from bot.config import BotSettings, SettingsError, WebhookSettings, load_settings
from bot.logs import log_handler
from tests.kit import make_settings

TOKEN = "123456:AAF-secret_token-value"
SECRET = "hook-secret-1"


def _lines(log_format: str) -> list[str]:
    settings = make_settings("sqlite+aiosqlite:///x.db", log_format=log_format)
    settings.bot = BotSettings(token=TOKEN, _env_file=None)  # type: ignore[call-arg]
    settings.webhook = WebhookSettings(secret=SECRET, _env_file=None)  # type: ignore[call-arg]
    out = io.StringIO()
    logger = logging.getLogger(f"test.logs.{log_format}")
    logger.propagate, logger.level = False, logging.INFO
    logger.handlers = [log_handler(settings, out)]
    logger.info("calling %s/bot%s/getMe", "http://api", TOKEN)
    try:
        raise ConnectionError(f"cannot reach http://api/bot{TOKEN}/sendMessage ({SECRET})")
    except ConnectionError:
        logger.exception("request failed")
    logger.handlers = []
    return out.getvalue().splitlines()


def test_json_lines() -> None:
    lines = _lines("json")
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 2  # one object per record, the traceback inside it
    first, failed = entries
    assert set(first) == {"time", "level", "logger", "message"}
    assert datetime.fromisoformat(first["time"]).utcoffset() is not None
    assert (first["level"], first["logger"]) == ("INFO", "test.logs.json")
    assert first["message"] == "calling http://api/bot***/getMe"
    assert failed["level"] == "ERROR" and failed["message"] == "request failed"
    assert "Traceback" in failed["exception"] and "ConnectionError" in failed["exception"]
    assert "/bot***/sendMessage" in failed["exception"]
    assert all(TOKEN not in line and SECRET not in line for line in lines)


def test_text_lines_redact_the_traceback_too() -> None:
    lines = _lines("text")
    assert lines[0].endswith("INFO test.logs.text: calling http://api/bot***/getMe")
    assert any("ConnectionError: cannot reach http://api/bot***/sendMessage (***)" in line
               for line in lines)
    assert all(TOKEN not in line and SECRET not in line for line in lines)


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    assert load_settings(_env_file=None).log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match=r"^Invalid setting LOG_FORMAT: must be one of"):
        load_settings(_env_file=None)
