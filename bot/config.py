"""Settings from the environment and ``.env``: one small class per concern.

Invalid settings stop start-up with :class:`SettingsError`, whose message is one line
naming the setting, never a traceback (``bot.py`` prints it and exits).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Language = Literal["kk", "ru", "en"]
LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
# Each language by its own name, as the /language menu shows it, whoever reads it.
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
TELEGRAM_API_URL = "https://api.telegram.org"


def _config(prefix: str = "") -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


class BotSettings(BaseSettings):
    """``BOT_TOKEN`` and ``BOT_API_URL``."""

    model_config = _config("BOT_")

    token: SecretStr | None = None
    api_url: str = TELEGRAM_API_URL

    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, v: object) -> object:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if isinstance(v, str) and not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", v.strip()):
            raise ValueError("is not a bot token (expected digits, a colon and a secret)")
        return v.strip() if isinstance(v, str) else v

    @field_validator("api_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v


class DatabaseSettings(BaseSettings):
    """``DATABASE_URL``: SQLite by default, ``postgresql+asyncpg://`` for scale-out.

    ``DATABASE_POOL_SIZE`` connections per process kept open, ``DATABASE_MAX_OVERFLOW`` more
    under load, ``DATABASE_POOL_TIMEOUT`` seconds to wait for a free one.
    """

    model_config = _config("DATABASE_")

    url: str = "sqlite+aiosqlite:///data/embassy.db"
    pool_size: int = Field(default=10, ge=1, le=1000)
    max_overflow: int = Field(default=10, ge=0, le=1000)
    pool_timeout: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip()
        if v.startswith("sqlite:///"):
            v = "sqlite+aiosqlite:///" + v.removeprefix("sqlite:///")
        elif v.startswith(("postgresql://", "postgres://")):
            v = "postgresql+asyncpg://" + v.split("://", 1)[1]
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class WebhookSettings(BaseSettings):
    """Webhook mode for scale-out: ``WEBHOOK_URL`` set means webhooks, else long polling."""

    model_config = _config("WEBHOOK_")

    url: str | None = None
    secret: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    path: str = "/telegram/webhook"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v and not v.startswith("https://") and not v.startswith("http://127.0.0.1"):
            raise ValueError("must be an https:// URL")
        return v or None

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", v.get_secret_value()):
            raise ValueError("may contain only A-Z, a-z, 0-9, _ and - (1-256 characters)")
        return v


class Settings(BaseSettings):
    """Everything else; ``bot``, ``db`` and ``webhook`` are read with their own prefixes."""

    model_config = _config()

    default_language: Language = "kk"
    timezone: str = "Asia/Almaty"
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    redis_url: str | None = None
    content_dir: Path = Path("content")
    question_retention_days: int = Field(default=90, ge=1, le=3650)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Long polling: /healthz, /readyz and /metrics on this port (None: off); webhook mode
    # serves them on the webhook listener.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"

    # Publishing
    posts_need_approval: bool = True
    schedule_grace: timedelta = timedelta(hours=1)
    send_rate: float = Field(default=30.0, gt=0, le=1000)
    allow_paid_broadcast: bool = False

    # Travellers
    trip_retention_days: int = Field(default=30, ge=0, le=3650)

    # Consular officers
    operators_chat_id: int | None = None
    operators_language: Language | None = None  # None: DEFAULT_LANGUAGE
    officer_sla_hours: float = Field(default=24.0, gt=0, le=720)
    show_officer_names: bool = False
    officer_max_open: int = Field(default=3, ge=1, le=50)
    officer_reopen_days: int = Field(default=7, ge=0, le=365)
    request_retention_days: int = Field(default=365, ge=1, le=3650)
    # Appointments
    appointment_retention_days: int = Field(default=90, ge=1, le=3650)
    # Which missions each operator manages: "111:de-berlin,de-frankfurt;222:tr-ankara".
    # Empty: every operator of the operators' group manages every mission.
    operator_missions: Annotated[dict[int, tuple[str, ...]], NoDecode] = Field(
        default_factory=dict)

    # Cases (applications citizens follow)
    cases_retention_days: int = Field(default=365, ge=1, le=3650)
    case_lookup_retention_days: int = Field(default=2, ge=1, le=90)
    case_tries_per_hour: int = Field(default=5, ge=1, le=100)
    case_failures_per_day: int = Field(default=5, ge=1, le=100)

    # The question analyzer: the trained topic model is kept here between starts
    cache_dir: Path = Path("data/cache")

    bot: BotSettings = Field(default_factory=BotSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)

    @field_validator("default_language", "log_format", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("operators_language", "health_port", mode="before")
    @classmethod
    def _optional(cls, v: object) -> object:
        """An empty value means "not set"."""
        return (v.strip().lower() or None) if isinstance(v, str) else v

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, v: object) -> object:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use a name like Asia/Almaty)") from None
        return v

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, v: object) -> object:
        if isinstance(v, str):
            parts = [p for p in re.split(r"[\s,;]+", v.strip()) if p]
            bad = [p for p in parts if not re.fullmatch(r"-?\d{1,20}", p)]
            if bad:
                raise ValueError(f"{bad[0]!r} is not a Telegram user id")
            return tuple(int(p) for p in parts)
        return v

    @field_validator("operator_missions", mode="before")
    @classmethod
    def _operator_missions(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        out: dict[int, tuple[str, ...]] = {}
        for part in (p.strip() for p in v.split(";")):
            if not part:
                continue
            who, sep, missions = part.partition(":")
            ids = [m.strip().lower() for m in missions.split(",") if m.strip()]
            if not sep or not re.fullmatch(r"-?\d{1,20}", who.strip()) or not ids:
                raise ValueError(f"{part!r} is not OPERATOR_ID:mission-id,mission-id")
            bad = [m for m in ids if not re.fullmatch(r"[a-z]{2}-[a-z0-9-]+", m)]
            if bad:
                raise ValueError(f"{bad[0]!r} is not a mission id (such as de-berlin)")
            out[int(who)] = tuple(ids)
        return out

    def missions_of(self, operator_id: int) -> set[str] | None:
        """The missions an operator manages; None: all (OPERATOR_MISSIONS is empty)."""
        if not self.operator_missions:
            return None
        return set(self.operator_missions.get(operator_id, ()))

    @field_validator("schedule_grace", mode="before")
    @classmethod
    def _grace(cls, v: object) -> object:
        """Accepts seconds or a number with a unit: 90s, 30m, 1h, 2d."""
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", v.lower())
            if not m:
                raise ValueError(f"{v!r} is not a duration (use e.g. 3600, 30m, 1h)")
            unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
            return timedelta(seconds=float(m.group(1)) * unit)
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, v: str | None) -> str | None:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://")
        return v or None

    @property
    def desk_language(self) -> str:
        """What the operators' group reads: OPERATORS_LANGUAGE, else DEFAULT_LANGUAGE."""
        return self.operators_language or self.default_language

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SettingsError(Exception):
    """One line naming the setting at fault."""


_ENV_NAMES: dict[tuple[str, ...], str] = {
    ("bot", "token"): "BOT_TOKEN",
    ("bot", "api_url"): "BOT_API_URL",
    ("db", "url"): "DATABASE_URL",
}


def _explain(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors()[0]
    loc = tuple(str(p) for p in err["loc"])
    name = _ENV_NAMES.get(loc) or (prefix + "_".join(loc)).upper()
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error":
        msg = "must be one of " + msg.removeprefix("Input should be ")
    return f"Invalid setting {name}: {msg}"


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise :class:`SettingsError` with one clear line on bad input."""
    parts: dict[str, object] = {}
    for key, cls, prefix in (
        ("bot", BotSettings, "BOT_"),
        ("db", DatabaseSettings, "DATABASE_"),
        ("webhook", WebhookSettings, "WEBHOOK_"),
    ):
        try:
            parts[key] = overrides.pop(key, None) or cls()
        except ValidationError as exc:
            raise SettingsError(_explain(exc, prefix)) from None
    try:
        return Settings(**parts, **overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None
