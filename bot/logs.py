"""Logging set-up: one format, and the bot token and secrets never reach a log line."""

from __future__ import annotations

import logging
import sys

from bot.config import Settings


class SecretFilter(logging.Filter):
    """Keeps the bot token and other secrets out of every log line."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    secrets = [
        settings.bot.token.get_secret_value() if settings.bot.token else "",
        settings.webhook.secret.get_secret_value() if settings.webhook.secret else "",
    ]
    handler.addFilter(SecretFilter(secrets))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
