"""Settings: defaults, parsing, and one clear line naming the setting when wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings
from tests.kit import ROOT


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    for name in ("BOT_TOKEN", "BOT_API_URL", "DATABASE_URL", "DEFAULT_LANGUAGE", "TIMEZONE",
                 "ADMIN_IDS", "REDIS_URL", "WEBHOOK_URL", "WEBHOOK_SECRET", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    s = load_settings()
    assert s.bot.token is None
    assert s.bot.api_url == "https://api.telegram.org"
    assert s.db.url == "sqlite+aiosqlite:///data/embassy.db"
    assert s.timezone == "Asia/Almaty"
    assert s.default_language == "kk"
    assert s.admin_ids == ()


def test_values_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:ABC-def_ghi")
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    monkeypatch.setenv("ADMIN_IDS", "11, 22;33")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "RU")
    s = load_settings()
    assert s.bot.token is not None and s.bot.token.get_secret_value() == "123456:ABC-def_ghi"
    assert "ABC" not in repr(s) and "ABC" not in str(s.bot)
    assert s.bot.api_url == "http://127.0.0.1:8081"
    assert s.db.url == "postgresql+asyncpg://postgres@127.0.0.1/test"
    assert s.admin_ids == (11, 22, 33)
    assert s.default_language == "ru"


def test_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Europe/Berlin\nADMIN_IDS=5\n")
    s = load_settings()
    assert s.timezone == "Europe/Berlin"
    assert s.admin_ids == (5,)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TIMEZONE", "Mars/Olympus", "Invalid setting TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("ADMIN_IDS", "12,abc", "Invalid setting ADMIN_IDS: 'abc' is not a Telegram user id"),
        ("BOT_TOKEN", "not-a-token", "Invalid setting BOT_TOKEN: is not a bot token"),
        ("BOT_API_URL", "ftp://x", "Invalid setting BOT_API_URL:"),
        ("DATABASE_URL", "mysql://x/y", "Invalid setting DATABASE_URL: must start with"),
        ("DEFAULT_LANGUAGE", "de", "Invalid setting DEFAULT_LANGUAGE: must be one of"),
        ("WEBHOOK_PORT", "70000", "Invalid setting WEBHOOK_PORT:"),
    ],
)
def test_invalid_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, name: str,
                                           value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)


def test_cli_stops_with_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TIMEZONE": "Nowhere/City", "BOT_TOKEN": ""}
    proc = subprocess.run([sys.executable, str(ROOT / "bot.py"), "migrate"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "Invalid setting TIMEZONE: unknown time zone 'Nowhere/City' (use a name like Asia/Almaty)"
    ]
    assert "Traceback" not in proc.stderr
