"""Who may do what: the one role gate.

A person's role is ``admin`` when their id is in ADMIN_IDS, otherwise what the roles table
says. It is read at the moment of each action, never cached: a revoked editor is refused on
their very next press. :class:`HasRole` is the aiogram filter over it.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.shared.middlewares import UnitOfWork
from storage.roles import ADMIN, EDITOR, RoleRepo

log = logging.getLogger(__name__)
RANK = {EDITOR: 1, ADMIN: 2}


def allows(role: str | None, needed: str) -> bool:
    return role is not None and RANK.get(role, 0) >= RANK[needed]


async def role_of(session: AsyncSession, settings: Settings, user_id: int) -> str | None:
    """``admin``, ``editor`` or None, read now."""
    if user_id in settings.admin_ids:
        return ADMIN
    role = await RoleRepo(session).role(user_id)
    return role if role in RANK else None


async def admins(session: AsyncSession, settings: Settings) -> list[int]:
    """Every administrator: ADMIN_IDS and the roles table, each once, in id order."""
    return sorted(set(await RoleRepo(session).admins()) | set(settings.admin_ids))


class HasRole(Filter):
    """The person's role, read from the database at this update; puts ``role`` in data."""

    def __init__(self, needed: str = EDITOR) -> None:
        self.needed = needed

    async def __call__(self, event: Message | CallbackQuery, uow: UnitOfWork,
                       settings: Settings,
                       event_from_user: User | None = None) -> bool | dict[str, Any]:
        if event_from_user is None:
            return False
        role = await role_of(uow.session, settings, event_from_user.id)
        return {"role": role} if allows(role, self.needed) else False


async def bootstrap_admins(session_factory: async_sessionmaker[AsyncSession],
                           settings: Settings) -> None:
    """ADMIN_IDS become administrators at start-up (a dispatcher startup hook).

    Administrators granted earlier stay: removing an id from ADMIN_IDS does not demote
    anyone silently; an administrator does that with /editors.
    """
    if not settings.admin_ids:
        return
    async with session_factory() as session:
        roles = RoleRepo(session)
        for user_id in settings.admin_ids:
            current = await roles.get(user_id)
            if current is None or current.role != ADMIN:
                await roles.grant(user_id, ADMIN, name=current.name if current else None)
        await session.commit()
    log.info("administrators from ADMIN_IDS: %d", len(settings.admin_ids))


__all__ = ["ADMIN", "EDITOR", "HasRole", "admins", "allows", "bootstrap_admins", "role_of"]
