"""The one test kit: updates for the dispatcher, the running bot over the local Bot API
server with its people, database rows, and waiting for what the bot does."""

from tests.kit.bot import Clock, Conversation, RunningBot, Started, make_bot, running, start_bot
from tests.kit.dispatcher import MembersSession, OfflineBot, offline_bot
from tests.kit.env import (
    CONTENT,
    DATA,
    IN_CI,
    REDIS_URL,
    ROOT,
    make_settings,
    seed_content,
    truncate_pg,
    unavailable,
)
from tests.kit.rows import Rows, database, db_factory, rows_mentioning
from tests.kit.waiting import until, until_async

__all__ = [
    "CONTENT", "DATA", "IN_CI", "REDIS_URL", "ROOT", "Clock", "Conversation", "MembersSession",
    "OfflineBot", "Rows", "RunningBot", "Started", "database", "db_factory",
    "make_bot", "make_settings", "offline_bot", "rows_mentioning", "running", "seed_content",
    "start_bot", "truncate_pg", "unavailable", "until", "until_async",
]
