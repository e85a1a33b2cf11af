"""Repositories for publishing: runs, the delivery ledger, recipients. They never commit.

The ledger is written with one ``INSERT … SELECT`` per language for subscribed citizens (no
row passes through Python) and in batches of :data:`LEDGER_BATCH` for chats and alerts.

Claiming deliveries is one statement for a batch of rows: their state goes from ``pending``
to ``sending`` with the claimant's id and a lease (``claimed_until``). On PostgreSQL the rows
are picked with ``FOR UPDATE SKIP LOCKED``, so several processes working on one run never
take the same row and never wait on each other's; on SQLite the statement is atomic by
itself. The pick walks the partial index ``ix_deliveries_pending``, so a claim late in a run
costs what an early one does (the predicate is written as a literal so that PostgreSQL's
prepared statements can use that index). A claimant renews its leases while it lives; rows
whose lease lapsed go back to ``pending`` (:meth:`PublishingRepo.expire_leases`).
Outcomes are written many rows per statement (:meth:`PublishingRepo.settle_many`), fenced by
the claim: an outcome lands on its row while the row is still that claim's (same claimant,
same ``attempts``, which every claim increments) or back in ``pending`` (the lease lapsed and
nobody took it yet: the outcome stops a second send). A row another claim took meanwhile
belongs to that claim; its own outcome decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.publishing import ChatRow, Delivery, NewsSubscription, PostRun

FINAL_STATES = ("sent", "failed", "blocked", "skipped")
LEDGER_BATCH = 5000  # ledger rows per INSERT
PENDING = text("deliveries.state = 'pending'")  # a literal: matches ix_deliveries_pending
SENDING = text("deliveries.state = 'sending'")
UNSETTLED = text("deliveries.state IN ('pending', 'sending')")


@dataclass(frozen=True)
class RunDTO:
    id: int
    post_id: int
    run_key: str
    priority: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None
    totals: dict[str, Any] | None


@dataclass(frozen=True)
class DeliveryDTO:
    id: int
    chat_id: int
    chat_kind: str
    lang: str
    attempts: int


@dataclass(frozen=True)
class Settled:
    """The outcome of one delivery, to be written with others (:meth:`settle_many`)."""

    delivery_id: int
    state: str
    message_id: int | None = None
    error: str | None = None
    worker: str | None = None  # the claim this outcome belongs to (None: no fence)
    attempt: int | None = None


@dataclass(frozen=True)
class SentMessage:
    delivery_id: int
    chat_id: int
    chat_kind: str
    lang: str
    message_id: int


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    kind: str  # private | group | supergroup | channel
    lang: str


def _run(row: PostRun) -> RunDTO:
    return RunDTO(
        row.id, row.post_id, row.run_key, row.priority, row.status,
        row.started_at or utcnow(), row.finished_at, row.progress_chat_id,
        row.progress_message_id, row.totals,
    )


class PublishingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ recipients

    async def recipients(self, targets: dict[str, Any]) -> list[Recipient]:
        """Everyone a post with these targets reaches now, one row per chat and language."""
        if "recipients" in targets:  # alerts: the audience fixed at approval (services/alerts)
            return [Recipient(int(c), str(k), str(lang)) for c, k, lang in targets["recipients"]]
        found: list[Recipient] = []
        langs = [lang for lang in targets.get("citizens") or [] if lang]
        if langs:
            rows = await self.session.execute(
                select(NewsSubscription.user_id, NewsSubscription.language)
                .where(NewsSubscription.active, NewsSubscription.language.in_(langs))
                .order_by(NewsSubscription.user_id)
            )
            found += [Recipient(uid, "private", lang) for uid, lang in rows]
        kinds = [k for k, on in (("channel", targets.get("channels")),
                                 ("group", targets.get("groups")),
                                 ("supergroup", targets.get("groups"))) if on]
        if kinds:
            chats = await self.session.scalars(
                select(ChatRow).where(ChatRow.active, ChatRow.kind.in_(kinds))
                .order_by(ChatRow.chat_id)
            )
            for chat in chats:
                chat_langs = [x.strip() for x in chat.languages.split(",") if x.strip()]
                if chat.kind == "channel":
                    found += [Recipient(chat.chat_id, "channel", x) for x in chat_langs]
                elif chat.news and chat_langs:
                    found.append(Recipient(chat.chat_id, chat.kind, chat_langs[0]))
        return found

    async def deactivate_subscriber(self, user_id: int, reason: str) -> None:
        await self.session.execute(
            update(NewsSubscription).where(NewsSubscription.user_id == user_id)
            .values(active=False, inactive_reason=reason[:255])
        )

    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        await self.session.execute(
            update(ChatRow).where(ChatRow.chat_id == chat_id)
            .values(active=False, inactive_reason=reason[:255], updated_at=utcnow())
        )

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its row follows it to the new id."""
        if await self.session.get(ChatRow, new_id) is not None:
            await self.deactivate_chat(old_id, f"migrated to {new_id}")
            return
        await self.session.execute(
            update(ChatRow).where(ChatRow.chat_id == old_id)
            .values(chat_id=new_id, kind="supergroup", updated_at=utcnow())
        )

    # ------------------------------------------------------------------ runs

    async def run_by_key(self, run_key: str) -> RunDTO | None:
        row = await self.session.scalar(select(PostRun).where(PostRun.run_key == run_key))
        return _run(row) if row else None

    async def run(self, run_id: int) -> RunDTO | None:
        row = await self.session.get(PostRun, run_id)
        return _run(row) if row else None

    async def latest_run(self, post_id: int) -> RunDTO | None:
        row = await self.session.scalar(
            select(PostRun).where(PostRun.post_id == post_id).order_by(PostRun.id.desc()).limit(1)
        )
        return _run(row) if row else None

    async def runs_with_status(self, status: str) -> list[RunDTO]:
        rows = await self.session.scalars(
            select(PostRun).where(PostRun.status == status)
            .order_by(PostRun.priority.desc(), PostRun.id)
        )
        return [_run(r) for r in rows]

    async def create_run(self, post_id: int, run_key: str, priority: int,
                         recipients: list[tuple[Recipient, str | None]]) -> int:
        """The run and its whole ledger; ``(recipient, None)`` is pending, else skipped."""
        run = PostRun(post_id=post_id, run_key=run_key, priority=priority, status="sending",
                      started_at=utcnow())
        self.session.add(run)
        await self.session.flush()
        rows = [
            {"run_id": run.id, "chat_id": r.chat_id, "chat_kind": r.kind, "lang": r.lang,
             "state": "skipped" if why else "pending", "error": why, "attempts": 0}
            for r, why in recipients
        ]
        for start in range(0, len(rows), LEDGER_BATCH):
            await self.session.execute(insert(Delivery), rows[start:start + LEDGER_BATCH])
        return run.id

    async def write_ledger(self, run_id: int, targets: dict[str, Any],
                           has_text: Callable[[str], bool]) -> int:
        """The run's whole ledger for ``targets``; rows of a language without text are
        ``skipped``. Subscribed citizens go in with one ``INSERT … SELECT`` per language,
        so neither memory nor round trips grow with the audience. Returns the row count."""
        total = 0
        chats = {**targets, "citizens": []}
        for lang in dict.fromkeys(x for x in targets.get("citizens") or [] if x):
            if "recipients" in targets:
                break
            state, why = ("pending", None) if has_text(lang) else (
                "skipped", "no text in this language")
            pick = (
                select(literal(run_id), NewsSubscription.user_id, literal("private"),
                       NewsSubscription.language, literal(state), literal(why, String(300)),
                       literal(0))
                .where(NewsSubscription.active, NewsSubscription.language == lang)
                .order_by(NewsSubscription.user_id)
            )
            result = await self.session.execute(insert(Delivery).from_select(
                ["run_id", "chat_id", "chat_kind", "lang", "state", "error", "attempts"], pick))
            total += int(result.rowcount or 0)  # type: ignore[attr-defined]
        people = await self.recipients(chats if "recipients" not in targets else targets)
        rows = [
            {"run_id": run_id, "chat_id": r.chat_id, "chat_kind": r.kind, "lang": r.lang,
             "state": "pending" if has_text(r.lang) else "skipped",
             "error": None if has_text(r.lang) else "no text in this language", "attempts": 0}
            for r in people
        ]
        for start in range(0, len(rows), LEDGER_BATCH):
            await self.session.execute(insert(Delivery), rows[start:start + LEDGER_BATCH])
        return total + len(rows)

    async def open_run(self, post_id: int, run_key: str, priority: int) -> int:
        """A new run row (its ledger follows with :meth:`write_ledger`)."""
        run = PostRun(post_id=post_id, run_key=run_key, priority=priority, status="sending",
                      started_at=utcnow())
        self.session.add(run)
        await self.session.flush()
        return run.id

    async def finish_run(self, run_id: int, status: str, totals: dict[str, Any]) -> bool:
        """Close a run still ``sending``; False if another process closed it first."""
        result = await self.session.execute(
            update(PostRun).where(PostRun.id == run_id, PostRun.status == "sending")
            .values(status=status, finished_at=utcnow(), totals=totals)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_progress(self, run_id: int, chat_id: int, message_id: int) -> None:
        await self.session.execute(
            update(PostRun).where(PostRun.id == run_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id)
        )

    # ------------------------------------------------------------------ ledger

    async def claim(self, run_id: int, worker: str) -> DeliveryDTO | None:
        """Take the next pending delivery of the run: it is ``sending`` from now on."""
        pick = (
            select(Delivery.id)
            .where(Delivery.run_id == run_id, Delivery.state == "pending")
            .order_by(Delivery.id).limit(1)
            .with_for_update(skip_locked=True)
        )
        delivery_id = await self.session.scalar(pick)
        if delivery_id is None:
            return None
        await self.session.execute(
            update(Delivery).where(Delivery.id == delivery_id)
            .values(state="sending", claimed_by=worker, claimed_at=utcnow(),
                    attempts=Delivery.attempts + 1)
        )
        row = await self.session.get(Delivery, delivery_id)
        assert row is not None
        return DeliveryDTO(row.id, row.chat_id, row.chat_kind, row.lang, row.attempts)

    async def claim_batch(self, run_id: int, worker: str, limit: int,
                          lease: timedelta) -> list[DeliveryDTO]:
        """Take up to ``limit`` pending deliveries of the run, in ledger order, under a lease."""
        now = utcnow()
        pick = (
            select(Delivery.id).where(Delivery.run_id == run_id, PENDING)
            .order_by(Delivery.id).limit(limit)
            .with_for_update(skip_locked=True)
            # A CTE, which PostgreSQL runs once: a plain ``IN (subquery)`` may be rescanned,
            # and each rescan skips the rows it locked before and takes others.
            .cte("pick")
        )
        rows = await self.session.execute(
            update(Delivery).where(Delivery.id.in_(select(pick.c.id)), PENDING)
            .values(state="sending", claimed_by=worker, claimed_at=now,
                    claimed_until=now + lease, attempts=Delivery.attempts + 1)
            .returning(Delivery.id, Delivery.chat_id, Delivery.chat_kind, Delivery.lang,
                       Delivery.attempts)
            .execution_options(synchronize_session=False)
        )
        return sorted((DeliveryDTO(i, c, k, lang, a) for i, c, k, lang, a in rows),
                      key=lambda d: d.id)

    async def settle_many(self, outcomes: list[Settled]) -> None:
        """Write many outcomes in one statement, each fenced by its claim (see the module
        docstring): a row already final, or another claim's, is left alone."""
        if not outcomes:
            return
        now = utcnow()
        table = cast(Table, Delivery.__table__)
        worker = bindparam("w", type_=String)
        ours = and_(table.c.state == "sending",
                    or_(worker.is_(None), and_(table.c.claimed_by == worker,
                                               table.c.attempts == bindparam("a", Integer))))
        statement = (
            update(table)
            .where(table.c.id == bindparam("did"), or_(table.c.state == "pending", ours))
            .values(state=bindparam("st"), message_id=bindparam("mid"),
                    error=bindparam("err"), sent_at=bindparam("at"), claimed_until=None)
        )
        await self.session.execute(statement, [
            {"did": o.delivery_id, "st": o.state, "mid": o.message_id,
             "err": o.error[:300] if o.error else None, "at": now if o.state == "sent" else None,
             "w": o.worker, "a": o.attempt}
            for o in outcomes
        ])

    async def renew_leases(self, run_id: int, worker: str, until: datetime) -> set[int]:
        """Extend the lease of every row ``worker`` holds in the run; the ids it still held."""
        result = await self.session.execute(
            update(Delivery).where(Delivery.run_id == run_id, SENDING,
                                   Delivery.claimed_by == worker)
            .values(claimed_until=until).returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    async def expire_leases(self, run_id: int, now: datetime | None = None) -> int:
        """Rows whose lease lapsed (their claimant died) go back to ``pending``."""
        result = await self.session.execute(
            update(Delivery).where(Delivery.run_id == run_id, SENDING,
                                   Delivery.claimed_until < (now or utcnow()))
            .values(state="pending", claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def lease_ends(self, run_id: int) -> datetime | None:
        """When the earliest lease of the run's rows in flight lapses (None: none leased)."""
        found = await self.session.scalar(
            select(func.min(Delivery.claimed_until)).where(Delivery.run_id == run_id, SENDING))
        return found

    async def release(self, delivery_ids: list[int], worker: str) -> None:
        """Claimed rows this worker will not send after all go back to ``pending``."""
        for start in range(0, len(delivery_ids), LEDGER_BATCH):
            await self.session.execute(
                update(Delivery).where(Delivery.id.in_(delivery_ids[start:start + LEDGER_BATCH]),
                                       SENDING, Delivery.claimed_by == worker)
                .values(state="pending", claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    async def settle(self, delivery_id: int, state: str, *, message_id: int | None = None,
                     error: str | None = None, chat_id: int | None = None) -> None:
        values: dict[str, Any] = {"state": state, "message_id": message_id,
                                  "error": error[:300] if error else None}
        if state == "sent":
            values["sent_at"] = utcnow()
        if chat_id is not None:
            values["chat_id"] = chat_id
        await self.session.execute(update(Delivery).where(Delivery.id == delivery_id)
                                   .values(**values))

    async def move_delivery(self, delivery_id: int, chat_id: int, kind: str) -> None:
        await self.session.execute(update(Delivery).where(Delivery.id == delivery_id)
                                   .values(chat_id=chat_id, chat_kind=kind))

    async def in_flight(self, run_id: int) -> list[tuple[int, str | None]]:
        """(delivery id, claimant) of rows left ``sending``."""
        rows = await self.session.execute(
            select(Delivery.id, Delivery.claimed_by)
            .where(Delivery.run_id == run_id, Delivery.state == "sending")
        )
        return [(i, c) for i, c in rows]

    async def requeue(self, delivery_ids: list[int]) -> None:
        if delivery_ids:
            await self.session.execute(
                update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.state == "sending")
                .values(state="pending", claimed_by=None, claimed_until=None)
            )

    async def skip_pending(self, run_id: int, reason: str) -> int:
        result = await self.session.execute(
            update(Delivery).where(Delivery.run_id == run_id, Delivery.state == "pending")
            .values(state="skipped", error=reason)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def counts(self, run_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(Delivery.state, func.count()).where(Delivery.run_id == run_id)
            .group_by(Delivery.state)
        )
        return {state: int(n) for state, n in rows}

    async def sent_messages(self, run_id: int, kinds: tuple[str, ...]) -> list[SentMessage]:
        rows = await self.session.execute(
            select(Delivery.id, Delivery.chat_id, Delivery.chat_kind, Delivery.lang,
                   Delivery.message_id)
            .where(Delivery.run_id == run_id, Delivery.state == "sent",
                   Delivery.chat_kind.in_(kinds), Delivery.message_id.is_not(None))
            .order_by(Delivery.id)
        )
        return [SentMessage(i, c, k, lang, m) for i, c, k, lang, m in rows if m is not None]

    async def post_counts(self, post_id: int) -> dict[str, int]:
        """Ledger states of every run of the post: {"sent": n, "pending": m, ...}."""
        rows = await self.session.execute(
            select(Delivery.state, func.count()).join(PostRun, PostRun.id == Delivery.run_id)
            .where(PostRun.post_id == post_id).group_by(Delivery.state)
        )
        return {state: int(n) for state, n in rows}
