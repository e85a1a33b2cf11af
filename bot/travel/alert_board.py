"""Active travel alerts by country, kept in memory for the top of country cards.

A module of its own (no rendering imports) so that :mod:`bot.shared.render` can read it.
One board per dispatcher, built in :func:`bot.factory.create_dispatcher` and handed in as
``alert_board`` (workflow data) and to the answer service's constructor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models.base import utcnow
from storage.publishing.posts import AlertDTO, PostRepo


@dataclass
class Board:
    """Active alerts by country, in memory, refreshed from the database.

    Country cards read it when they are rendered; with several processes each refreshes
    at its own sweep, and an approval refreshes the approving process at once.
    """

    alerts: dict[str, list[AlertDTO]] = field(default_factory=dict)

    def replace(self, active: list[AlertDTO]) -> None:
        fresh: dict[str, list[AlertDTO]] = {}
        for alert in active:
            fresh.setdefault(alert.country, []).append(alert)
        self.alerts = fresh

    def active(self, iso: str, now: datetime | None = None) -> list[AlertDTO]:
        now = now or utcnow()
        return [a for a in self.alerts.get(iso, []) if a.expires_at and a.expires_at > now]

    def banner(self, iso: str, lang: str, now: datetime | None = None) -> str:
        """HTML for the top of the card, or "" without an active alert.

        Alerts store the composed message per language (header, text, validity).
        """
        return "\n\n".join(a.texts[lang] for a in self.active(iso, now) if a.texts.get(lang))

    async def refresh(self, session: AsyncSession, now: datetime | None = None) -> int:
        """Reload from the database through ``session`` (an update's, or a job's own)."""
        active = await PostRepo(session).all_active_alerts(now or utcnow())
        self.replace(active)
        return len(active)


async def refresh_board(factory: async_sessionmaker[AsyncSession], board: Board,
                        now: datetime | None = None) -> int:
    """Outside an update (the periodic refresh): a session of its own."""
    async with factory() as session:
        return await board.refresh(session, now)
