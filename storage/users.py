"""The users table: who wrote to the bot and which language they read. Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.people import User

# The language a person reads, as SQL: the one they chose, else the one Telegram reports
# (None: neither; the caller falls back to DEFAULT_LANGUAGE). See bot.shared.i18n.reader_language.
READS = func.coalesce(User.language, User.telegram_language)


@dataclass(frozen=True)
class UserDTO:
    id: int
    language: str | None
    telegram_language: str | None = None


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> UserDTO | None:
        row = await self.session.get(User, user_id)
        return UserDTO(row.id, row.language, row.telegram_language) if row else None

    async def reads(self, user_id: int) -> str | None:
        """The chosen language, else Telegram's; None when neither is stored."""
        return await self.session.scalar(select(READS).where(User.id == user_id))

    async def seen(self, user_id: int, telegram_language: str | None) -> None:
        """The person wrote: create their row, or keep Telegram's language up to date.

        An insert that races another process's is ignored; the chosen language is never
        touched.
        """
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(
            insert(User).values(id=user_id, telegram_language=telegram_language)
            .on_conflict_do_nothing(index_elements=[User.id]))
        await self.session.execute(
            update(User).where(User.id == user_id,
                               User.telegram_language.is_distinct_from(telegram_language))
            .values(telegram_language=telegram_language))

    async def set_language(self, user_id: int, language: str) -> UserDTO:
        row = await self.session.get(User, user_id)
        if row is None:
            row = User(id=user_id, language=language)
            self.session.add(row)
        else:
            row.language = language
            row.last_seen_at = utcnow()
        await self.session.flush()
        return UserDTO(row.id, row.language, row.telegram_language)

    async def delete(self, user_id: int) -> int:
        result = await self.session.execute(delete(User).where(User.id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


