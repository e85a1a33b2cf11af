"""The audit log: who did, or was refused, what and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import AuditRepo


async def record(session: AsyncSession, actor_id: int | None, action: str,
                 target: str | int | None = None, *, allowed: bool = True,
                 **details: Any) -> None:
    """One row; ``target`` is what was acted on (``post:12``, ``user:42``, ``chat:-100…``)."""
    await AuditRepo(session).add(
        actor_id, action, None if target is None else str(target), allowed=allowed,
        details=details or None,
    )


def post_target(post_id: int) -> str:
    return f"post:{post_id}"
