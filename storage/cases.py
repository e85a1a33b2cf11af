"""Cases, their steps, followers, lookup attempts and the notices outbox. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.cases import Case, CaseFollower, CaseLookup, CaseNotice, CaseStep
from storage.models.people import AuditEntry


@dataclass(frozen=True)
class CaseDTO:
    id: int
    number: str
    service: str
    country: str
    mission: str
    factor: str
    factor_salt: str
    factor_hash: str
    status: str
    lang: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class StepDTO:
    id: int
    case_id: int
    status: str
    note: str | None
    at: datetime
    source: str


@dataclass(frozen=True)
class NoticeDTO:
    id: int
    step_id: int
    user_id: int
    lang: str


def _case(row: Case) -> CaseDTO:
    return CaseDTO(row.id, row.number, row.service, row.country, row.mission, row.factor,
                   row.factor_salt, row.factor_hash, row.status, row.lang, row.created_at,
                   row.updated_at, row.closed_at)


def _step(row: CaseStep) -> StepDTO:
    return StepDTO(row.id, row.case_id, row.status, row.note, row.at, row.source)


class CaseRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- cases and steps ---------------------------------------------------------------

    async def by_number(self, number: str) -> CaseDTO | None:
        row = await self.session.scalar(select(Case).where(Case.number == number))
        return _case(row) if row else None

    async def get(self, case_id: int) -> CaseDTO | None:
        row = await self.session.get(Case, case_id)
        return _case(row) if row else None

    async def by_numbers(self, numbers: list[str]) -> dict[str, CaseDTO]:
        found: dict[str, CaseDTO] = {}
        for i in range(0, len(numbers), 500):
            rows = await self.session.scalars(
                select(Case).where(Case.number.in_(numbers[i:i + 500])))
            found.update({r.number: _case(r) for r in rows})
        return found

    async def create(self, *, number: str, service: str, country: str, mission: str,
                     factor: str, salt: str, digest: str, status: str, lang: str,
                     closed_at: datetime | None, at: datetime) -> CaseDTO:
        row = Case(number=number, service=service, country=country, mission=mission,
                   factor=factor, factor_salt=salt, factor_hash=digest, status=status,
                   lang=lang, created_at=at, updated_at=at, closed_at=closed_at)
        self.session.add(row)
        await self.session.flush()
        return _case(row)

    async def change(self, case_id: int, **values: object) -> None:
        await self.session.execute(update(Case).where(Case.id == case_id).values(**values))

    async def add_step(self, case_id: int, status: str, note: str | None, at: datetime,
                       source: str) -> StepDTO:
        row = CaseStep(case_id=case_id, status=status, note=note, at=at, source=source)
        self.session.add(row)
        await self.session.flush()
        return _step(row)

    async def steps(self, case_id: int) -> list[StepDTO]:
        rows = await self.session.scalars(
            select(CaseStep).where(CaseStep.case_id == case_id)
            .order_by(CaseStep.at, CaseStep.id))
        return [_step(r) for r in rows]

    async def step(self, step_id: int) -> StepDTO | None:
        row = await self.session.get(CaseStep, step_id)
        return _step(row) if row else None

    async def purge_closed_before(self, cutoff: datetime) -> int:
        """Closed cases older than ``cutoff``, with their steps, followers and notices."""
        ids = list(await self.session.scalars(
            select(Case.id).where(Case.closed_at.is_not(None), Case.closed_at < cutoff)))
        if not ids:
            return 0
        steps = select(CaseStep.id).where(CaseStep.case_id.in_(ids))
        # explicit deletes, not only ON DELETE CASCADE: SQLite enforces it per connection
        await self.session.execute(delete(CaseNotice).where(CaseNotice.step_id.in_(steps)))
        await self.session.execute(delete(CaseStep).where(CaseStep.case_id.in_(ids)))
        await self.session.execute(delete(CaseFollower).where(CaseFollower.case_id.in_(ids)))
        await self.session.execute(delete(CaseLookup).where(CaseLookup.case_id.in_(ids)))
        result = await self.session.execute(delete(Case).where(Case.id.in_(ids)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- followers ---------------------------------------------------------------------

    async def follow(self, case_id: int, user_id: int, lang: str) -> bool:
        if await self.session.get(CaseFollower, (case_id, user_id)) is not None:
            return False
        self.session.add(CaseFollower(case_id=case_id, user_id=user_id, lang=lang))
        await self.session.flush()
        return True

    async def unfollow(self, case_id: int, user_id: int) -> bool:
        result = await self.session.execute(delete(CaseFollower).where(
            CaseFollower.case_id == case_id, CaseFollower.user_id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def follows(self, case_id: int, user_id: int) -> bool:
        return await self.session.get(CaseFollower, (case_id, user_id)) is not None

    async def followers(self, case_id: int) -> list[tuple[int, str]]:
        rows = await self.session.execute(
            select(CaseFollower.user_id, CaseFollower.lang)
            .where(CaseFollower.case_id == case_id).order_by(CaseFollower.user_id))
        return [(int(uid), str(lang)) for uid, lang in rows]

    async def followed_by(self, user_id: int) -> list[CaseDTO]:
        rows = await self.session.scalars(
            select(Case).join(CaseFollower, CaseFollower.case_id == Case.id)
            .where(CaseFollower.user_id == user_id).order_by(Case.number))
        return [_case(r) for r in rows]

    # --- lookups (the enumeration guard) -----------------------------------------------

    async def add_lookup(self, user_id: int, case_id: int | None, ok: bool,
                         at: datetime) -> None:
        self.session.add(CaseLookup(user_id=user_id, case_id=case_id, ok=ok, at=at))
        await self.session.flush()

    async def failures_by_user(self, user_id: int, since: datetime) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(CaseLookup).where(
            CaseLookup.user_id == user_id, CaseLookup.ok.is_(False),
            CaseLookup.at >= since)) or 0)

    async def failures_of_case(self, case_id: int, since: datetime) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(CaseLookup).where(
            CaseLookup.case_id == case_id, CaseLookup.ok.is_(False),
            CaseLookup.at >= since)) or 0)

    async def looked_up(self, user_id: int, case_id: int, since: datetime) -> bool:
        """The person gave this case's number and second factor since ``since``."""
        return await self.session.scalar(select(CaseLookup.id).where(
            CaseLookup.user_id == user_id, CaseLookup.case_id == case_id,
            CaseLookup.ok.is_(True), CaseLookup.at >= since).limit(1)) is not None

    async def purge_lookups_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(CaseLookup).where(CaseLookup.at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- the notices outbox ------------------------------------------------------------

    async def queue_notices(self, step: StepDTO) -> int:
        """One notice per follower of the step's case."""
        followers = await self.followers(step.case_id)
        self.session.add_all([CaseNotice(step_id=step.id, user_id=uid, lang=lang)
                              for uid, lang in followers])
        await self.session.flush()
        return len(followers)

    async def pending_notices(self, now: datetime, limit: int = 200) -> list[int]:
        rows = await self.session.scalars(
            select(CaseNotice.id).where(
                (CaseNotice.claimed_until.is_(None)) | (CaseNotice.claimed_until < now))
            .order_by(CaseNotice.id).limit(limit))
        return list(rows)

    async def claim_notice(self, notice_id: int, now: datetime,
                           until: datetime) -> NoticeDTO | None:
        """Take the notice for this process until ``until`` (a lease): None if another has it."""
        result = await self.session.execute(
            update(CaseNotice).where(
                CaseNotice.id == notice_id,
                (CaseNotice.claimed_until.is_(None)) | (CaseNotice.claimed_until < now))
            .values(claimed_until=until))
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = await self.session.get(CaseNotice, notice_id)
        return NoticeDTO(row.id, row.step_id, row.user_id, row.lang) if row else None

    async def drop_notice(self, notice_id: int) -> None:
        await self.session.execute(delete(CaseNotice).where(CaseNotice.id == notice_id))

    # --- one person's data -------------------------------------------------------------

    async def lookups_of(self, user_id: int) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(CaseLookup).where(
            CaseLookup.user_id == user_id)) or 0)

    async def erase_follows(self, user_id: int) -> int:
        await self.session.execute(delete(CaseNotice).where(CaseNotice.user_id == user_id))
        result = await self.session.execute(
            delete(CaseFollower).where(CaseFollower.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def erase_lookups(self, user_id: int) -> int:
        result = await self.session.execute(
            delete(CaseLookup).where(CaseLookup.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def unlink_audit(self, user_id: int) -> int:
        """The person's lookups stay in the audit log as events, without their id."""
        result = await self.session.execute(
            update(AuditEntry).where(AuditEntry.actor_id == user_id,
                                     AuditEntry.action.like("case.%"))
            .values(actor_id=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


__all__ = ["CaseDTO", "CaseRepo", "NoticeDTO", "StepDTO", "utcnow"]
