"""The roles table: who is an editor or an administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.people import Role

ADMIN = "admin"
EDITOR = "editor"


@dataclass(frozen=True)
class RoleDTO:
    user_id: int
    role: str
    name: str | None
    granted_by: int | None
    granted_at: datetime


def _role(row: Role) -> RoleDTO:
    return RoleDTO(row.user_id, row.role, row.name, row.granted_by, row.granted_at)


class RoleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def role(self, user_id: int) -> str | None:
        """The person's role now ("admin", "editor"), None: none."""
        row = await self.session.get(Role, user_id)
        return row.role if row else None

    async def admins(self) -> list[int]:
        return list(await self.session.scalars(select(Role.user_id).where(Role.role == ADMIN)))

    async def get(self, user_id: int) -> RoleDTO | None:
        row = await self.session.get(Role, user_id, populate_existing=True)
        return _role(row) if row else None

    async def all(self) -> list[RoleDTO]:
        rows = await self.session.scalars(select(Role).order_by(Role.role, Role.granted_at))
        return [_role(r) for r in rows]

    async def grant(self, user_id: int, role: str, *, name: str | None = None,
                    granted_by: int | None = None) -> RoleDTO:
        row = await self.session.get(Role, user_id)
        if row is None:
            row = Role(user_id=user_id, role=role, name=name, granted_by=granted_by)
            self.session.add(row)
        else:
            row.role = role
            row.name = name or row.name
            row.granted_by = granted_by
            row.granted_at = utcnow()
        await self.session.flush()
        return _role(row)

    async def revoke(self, user_id: int) -> bool:
        result = await self.session.execute(delete(Role).where(Role.user_id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reviewers(self, except_user: int) -> list[RoleDTO]:
        rows = await self.session.scalars(select(Role).where(Role.user_id != except_user))
        return [_role(r) for r in rows]
