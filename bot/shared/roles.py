"""Who may do what: the roles in the database, read at the moment of each action.

Roles are never cached: a revoked editor is refused on their very next press.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from storage.roles import ADMIN, EDITOR, RoleRepo

log = logging.getLogger(__name__)
RANK = {EDITOR: 1, ADMIN: 2}


def allows(role: str | None, needed: str) -> bool:
    return role is not None and RANK.get(role, 0) >= RANK[needed]


async def role_of(session: AsyncSession, user_id: int) -> str | None:
    found = await RoleRepo(session).get(user_id)
    return found.role if found else None


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
