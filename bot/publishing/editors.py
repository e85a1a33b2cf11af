"""Who writes and reviews posts: the administrators' /editors list, adding and removing an
editor. In the update's session; each change is audited with who made it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.shared import audit
from bot.shared.audit import Action
from storage.roles import ADMIN as ADMIN  # re-exported: the role names the gates check
from storage.roles import EDITOR as EDITOR
from storage.roles import RoleDTO as RoleDTO
from storage.roles import RoleRepo


async def staff(session: AsyncSession) -> tuple[list[RoleDTO], list[RoleDTO]]:
    """(administrators, editors)."""
    roles = await RoleRepo(session).all()
    return [r for r in roles if r.role == ADMIN], [r for r in roles if r.role == EDITOR]


async def add_editor(session: AsyncSession, actor: int, user_id: int,
                     name: str | None) -> bool:
    """Make the person an editor; False if they are an administrator already."""
    roles = RoleRepo(session)
    current = await roles.get(user_id)
    if current is not None and current.role == ADMIN:
        return False
    await roles.grant(user_id, EDITOR, name=name, granted_by=actor)
    await audit.record(session, actor, Action.EDITOR_ADD, f"user:{user_id}")
    return True


async def remove_editor(session: AsyncSession, actor: int, user_id: int) -> RoleDTO | None:
    """The editor who is one no more, or None if the person was not an editor."""
    roles = RoleRepo(session)
    target = await roles.get(user_id)
    if target is None or target.role != EDITOR:
        return None
    await roles.revoke(target.user_id)
    await audit.record(session, actor, Action.EDITOR_REMOVE, f"user:{target.user_id}")
    return target
