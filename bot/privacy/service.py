"""/my_data and /forget_me over the registry the factory builds: what the handlers call."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.officer.desk import CopiesErased, OfficerDesk, erase_copies
from bot.privacy.registry import Context, PrivacyRegistry, Section


@dataclass(frozen=True)
class Erasure:
    """What /forget_me removed: (label, rows) per kind, and the operators' group copies."""

    erased: list[tuple[str, int]]
    copies: CopiesErased


async def held(registry: PrivacyRegistry, ctx: Context, user_id: int) -> list[Section]:
    return await registry.collect(ctx, user_id)


async def forget(registry: PrivacyRegistry, desk: OfficerDesk, session: AsyncSession,
                 user_id: int) -> Erasure:
    """The copies in the operators' group first: the rows that say where they are go next."""
    copies = await erase_copies(desk, session, user_id)
    removed = await registry.erase(session, user_id)
    labels = registry.labels(list(removed))
    return Erasure([(label, removed[key]) for key, label in zip(removed, labels, strict=True)],
                   copies)
