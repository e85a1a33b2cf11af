"""Routers by audience. Parent routers carry the filters; modules stay filter-free."""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatType as Kind

from bot.filters import ChatType

from handlers import common, errors, fallback, navigation, questions


def create_root_router() -> Router:
    """A fresh router tree, so every dispatcher (and every test) gets its own."""
    private = Router(name="private")
    private.message.filter(ChatType(Kind.PRIVATE))
    private.callback_query.filter(ChatType(Kind.PRIVATE))
    private.include_routers(
        common.create_router(),
        navigation.create_router(),
        questions.create_router(),
        fallback.create_router(),
    )
    root = Router(name="root")
    root.include_routers(private, errors.create_router())
    return root
