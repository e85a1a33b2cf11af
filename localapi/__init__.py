"""A local, in-process Telegram Bot API server for tests and the sandbox.

``LocalBotAPI`` (see :mod:`localapi.server` for the whole surface) speaks
the Bot API over real HTTP; ``run_terminal_chat`` (:mod:`localapi.terminal`)
lets a person talk to a bot through it from a terminal.
"""

from .html import EntityParseError, entities_to_html, parse_html, parse_markdown_v2
from .limits import FloodConfig, Stats
from .records import ApiCall, Chat, Faults, OutEvent, Topic, User
from .server import LocalBotAPI

__all__ = [
    "ApiCall",
    "Chat",
    "EntityParseError",
    "Faults",
    "FloodConfig",
    "LocalBotAPI",
    "OutEvent",
    "Stats",
    "Topic",
    "User",
    "entities_to_html",
    "parse_html",
    "parse_markdown_v2",
]
