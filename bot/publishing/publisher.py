"""The Publisher: schedules posts, turns a due post into a run, drives it, reports back.

Scheduling is the project's one job mechanism (:mod:`bot.shared.jobs`): a post's job key
is ``post:{id}``, so scheduling again moves the job instead of adding one; a repeating post's
job reschedules itself to the next occurrence. Every process sees every job, and exactly one
fires it. At start-up a ``scheduled`` post without a job (one scheduled before the job table
existed) gets one.

A due post becomes a run whose ``run_key`` is the post id plus the due time. The run, its
whole delivery ledger and the post's move to ``sending`` are written in one transaction; the
unique ``run_key`` makes a second process (or a restart) that fires the same job find the run
instead of starting another.

A run is driven as job ``run:{id}``: the process that starts it holds the job's lease and
renews it while it sends; if that process dies, the lease lapses and another process takes
the job over, puts the dead process's in-flight deliveries back to pending and goes on. A
process that stops hands its runs back at once (due now, lease released).

A job that falls due late (the bot was down, or no process was alive) is sent if it is at
most ``SCHEDULE_GRACE`` late, else the post is marked ``missed`` and its author told.

Without the job mechanism (``scheduler=False``: tests and the kill-test runner), a post due
now is fired at once and runs are driven in this process; on PostgreSQL several such
processes join one run, each claiming deliveries with ``SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.outbound.budget import SharedBudget
from bot.outbound.delivery import DeliveryEngine, EngineOptions
from bot.outbound.ratelimit import TELEGRAM_RATE, LimiterMiddleware, SendLimiter
from bot.publishing import render
from bot.shared import audit
from bot.shared.i18n import locale, reader_language
from bot.shared.jobs import JobRunner
from bot.shared.translation import fmt_datetime
from storage.jobs import JobDTO, JobRepo
from storage.models.base import utcnow
from storage.publishing.posts import PostDTO, PostRepo
from storage.publishing.runs import PublishingRepo, RunDTO

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5.0  # Telegram seconds between edits of the author's progress message
POST_JOB, RUN_JOB = "post", "run"


def post_job_key(post_id: int) -> str:
    return f"post:{post_id}"


def run_job_key(run_id: int) -> str:
    return f"run:{run_id}"


def run_key(post_id: int, due: datetime) -> str:
    return f"post:{post_id}@{due.astimezone(UTC):%Y%m%dT%H%M%S.%f}"


def next_occurrence(repeat: dict[str, Any], after: datetime, tz: ZoneInfo) -> datetime:
    """The first time after ``after`` that a repeating post is due, in UTC.

    ``repeat`` is ``{"weekdays": [0..6] (Monday = 0; none: every day), "time": "HH:MM"}``
    in the embassy's time zone.
    """
    hour, minute = (int(x) for x in str(repeat.get("time", "10:00")).split(":"))
    days = {int(d) for d in repeat.get("weekdays") or range(7)}
    local = after.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        if moment > after:
            return moment.astimezone(UTC)
    raise ValueError(f"no weekday in {repeat!r}")


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Publisher:
    """Scheduling, runs, the author's progress and report, edits of published messages."""

    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        i18n: I18n,
        *,
        time_scale: float = 1.0,
        now: Callable[[], datetime] = utcnow,
        options: EngineOptions | None = None,
        scheduler: bool = True,
        share_limiter: bool = True,
        budget: SharedBudget | None = None,
        jobs: JobRunner | None = None,
    ) -> None:
        self.bot, self.factory, self.settings, self.i18n = bot, session_factory, settings, i18n
        self.now = now
        rate = settings.send_rate if settings.allow_paid_broadcast else min(
            settings.send_rate, TELEGRAM_RATE)
        if budget is not None:
            budget.bind(bot.id, bot.token)
        self.limiter = SendLimiter(rate, time_scale=time_scale, shared=budget)
        options = options or EngineOptions()
        options.paid_broadcast = settings.allow_paid_broadcast
        self.engine = DeliveryEngine(bot, session_factory, self.limiter, options)
        self._share_limiter = share_limiter
        # The process's job runner (from the factory), or one of its own (tests).
        self._owns_jobs = scheduler and jobs is None
        self.jobs: JobRunner | None = (
            (jobs or JobRunner(session_factory, clock=now)) if scheduler else None)
        self._runs: dict[int, asyncio.Task[Any]] = {}
        self._stops: dict[int, asyncio.Event] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Take post and run jobs, give scheduled posts without one a job, resume runs."""
        if self._share_limiter and not any(
            isinstance(m, LimiterMiddleware) for m in self.bot.session.middleware._middlewares
        ):
            self.bot.session.middleware(LimiterMiddleware(self.limiter))
        await self.engine.start()
        if self.jobs is not None:
            self.jobs.register(POST_JOB, self._due_post)
            self.jobs.register(RUN_JOB, self._run_job)
            await self._adopt_scheduled()
        await self.resume_runs()
        if self._owns_jobs:
            assert self.jobs is not None
            await self.jobs.start()

    async def stop(self) -> None:
        if self.jobs is not None:
            # No new post or run here; the runs this process drives go back to the table.
            self.jobs.unregister(POST_JOB)
            self.jobs.unregister(RUN_JOB)
        for event in self._stops.values():
            event.set()
        tasks = list(self._runs.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._owns_jobs:
            assert self.jobs is not None
            await self.jobs.stop()
        await self.engine.stop()

    async def wait_idle(self) -> None:
        """Until no post job or run is in progress in this process (tests and the runner)."""
        while True:
            if self.jobs is not None:
                await self.jobs.wait_idle()
            if not self._runs:
                if self.jobs is None or not self.jobs.running():
                    return
                continue
            await asyncio.gather(*list(self._runs.values()), return_exceptions=True)

    # ------------------------------------------------------------------ scheduling

    async def schedule(self, post_id: int, *, recorded: bool = False) -> None:
        """(Re)create the job of a ``scheduled`` post: now, at ``send_at`` or by its rule.

        ``recorded``: the caller recorded the event (with who acted) in the transaction that
        scheduled the post, so it is not recorded a second time here."""
        async with self.factory() as session, session.begin():
            post = await PostRepo(session).find(post_id)
            if post is None or post.status != "scheduled":
                raise ValueError(f"post {post_id} is not scheduled")
            if not recorded:
                await audit.record(session, None, audit.Action.POST_SCHEDULED,
                                   f"post:{post_id}", details=self._when(post))
        due = self._due(post)
        if self.jobs is None:
            if post.repeat is None:
                await self.fire(post_id, due)
            return
        await self.jobs.schedule(post_job_key(post_id), POST_JOB, due, {"post": post_id})

    def _due(self, post: PostDTO) -> datetime:
        now = self.now()
        if post.repeat:
            return next_occurrence(post.repeat, now, self.settings.tz)
        return post.send_at if post.send_at and post.send_at > now else now

    @staticmethod
    def _when(post: PostDTO) -> dict[str, Any]:
        if post.repeat:
            return {"repeat": post.repeat}
        return {"send_at": post.send_at.isoformat() if post.send_at else None}

    async def unschedule(self, post_id: int, *, recorded: bool = False) -> None:
        """Remove the post's job and stop its active run: what was not sent is skipped.

        ``recorded``: the caller recorded why (a cancel, an edit, a new time) with who acted."""
        if self.jobs is not None:
            await self.jobs.cancel(post_job_key(post_id))
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            run = await repo.latest_run(post_id)
            skipped = 0
            if run is not None and run.status == "sending":
                skipped = await repo.skip_pending(run.id, "cancelled")
                await repo.finish_run(run.id, "cancelled", await repo.counts(run.id))
                await PostRepo(session).mark(post_id, "cancelled", only_from="sending")
            if not recorded:
                await audit.record(session, None, audit.Action.POST_CANCELLED,
                                   f"post:{post_id}", details={"skipped": skipped})
        if run is not None and run.id in self._stops:
            self._stops[run.id].set()

    async def _adopt_scheduled(self) -> None:
        """A ``scheduled`` post without a job (scheduled before the job table) gets one:
        at its ``send_at`` (late ones then go within the grace or are missed), or at the
        next occurrence of its rule."""
        async with self.factory() as session, session.begin():
            jobs = JobRepo(session)
            for post in await PostRepo(session).with_status("scheduled"):
                if post.repeat:
                    due = next_occurrence(post.repeat, self.now(), self.settings.tz)
                else:
                    due = post.send_at or self.now()
                await jobs.ensure(post_job_key(post.id), POST_JOB, due, {"post": post.id})

    async def _due_post(self, job: JobDTO) -> datetime | None:
        """Job ``post:{id}`` fell due: fire it; a repeating post's job moves to the next
        occurrence (occurrences missed while no process ran coalesce into the latest)."""
        post_id = int(job.payload["post"])
        due = job.due_at or self.now()
        async with self.factory() as session:
            post = await PostRepo(session).find(post_id)
        if post is None or not post.repeat:
            await self.fire(post_id, due)
            return None
        now, tz = self.now(), self.settings.tz
        latest = due
        while (following := next_occurrence(post.repeat, latest, tz)) <= now:
            latest = following
        await self.fire(post_id, latest)
        return next_occurrence(post.repeat, max(latest, now), tz)

    async def fire(self, post_id: int, due: datetime) -> int | None:
        """A job fell due at ``due``: start (or find) its run, or record it as missed."""
        late = self.now() - due
        if late > self.settings.schedule_grace:
            await self._missed(post_id, due)
            return None
        return await self._start_run(post_id, run_key(post_id, due), None)

    async def enqueue(self, post_id: int, *, priority: int = 0) -> int:
        """Start a run of the post now; priority > 0 goes ahead of routine posts."""
        run_id = await self._start_run(post_id, run_key(post_id, self.now()), priority)
        if run_id is None:
            raise ValueError(f"post {post_id} cannot be sent")
        return run_id

    async def _start_run(self, post_id: int, key: str, priority: int | None) -> int | None:
        """Write the run unless ``key`` exists; either way make sure it is being driven.

        ``priority=None`` is a scheduled job: the post must still be ``scheduled``. An
        explicit priority is :meth:`enqueue`: any post not already sending may go.
        """
        existing: RunDTO | None = None
        run_id: int | None = None
        try:
            async with self.factory() as session, session.begin():
                repo = PublishingRepo(session)
                # The post before the run: on PostgreSQL each statement sees what was
                # committed when it began, so a run committed between a run look-up and
                # the post's read would show the post ``sending`` and no run.
                post = await PostRepo(session).find(post_id)
                existing = await repo.run_by_key(key)
                if existing is None:
                    allowed = ("scheduled",) if priority is None else (
                        "scheduled", "draft", "pending", "sent", "failed", "missed")
                    if post is None or post.status not in allowed:
                        return None
                    run_id = await self._write_run(repo, post, key, priority)
        except IntegrityError:
            async with self.factory() as session:
                existing = await PublishingRepo(session).run_by_key(key)
            if existing is None:
                raise
        if existing is not None:
            if existing.status == "sending":
                self._launch(existing.id)
            return existing.id
        assert run_id is not None
        self._launch(run_id)
        return run_id

    async def _write_run(self, repo: PublishingRepo, post: PostDTO, key: str,
                         priority: int | None) -> int:
        """The run, its ledger, the post's status and the audit entry: one transaction."""
        prio = post.priority if priority is None else priority
        run_id = await repo.open_run(post.id, key, prio)
        recipients = await repo.write_ledger(
            run_id, post.targets, lambda lang: render.of_post(post, lang) is not None)
        if self.jobs is not None:  # the run's job, so that it is driven even if we die now
            await JobRepo(repo.session).ensure(run_job_key(run_id), RUN_JOB, self.now(),
                                               {"run": run_id})
        await PostRepo(repo.session).mark(post.id, "sending")
        await audit.record(repo.session, None, audit.Action.POST_PUBLISHED, f"post:{post.id}",
                           run=run_id, recipients=recipients)
        return run_id

    async def resume_runs(self) -> None:
        """Runs left ``sending``: with the job mechanism each gets its job (if it has none)
        and whichever process is free takes it; without it, this process resumes them."""
        async with self.factory() as session:
            runs = await PublishingRepo(session).runs_with_status("sending")
        if self.jobs is not None:
            async with self.factory() as session, session.begin():
                repo = JobRepo(session)
                for run in runs:
                    await repo.ensure(run_job_key(run.id), RUN_JOB, self.now(), {"run": run.id})
            self.jobs.wake()
            return
        if runs:
            # A run left "sending" means a process died mid-broadcast moments ago, perhaps:
            # its last second of sends still counts in Telegram's window.
            self.limiter.hold(1.0 + self.limiter.safety)
        for run in runs:
            await self.engine.recover(run.id)
            self._launch(run.id)

    def _launch(self, run_id: int) -> None:
        """Drive the run here: as its job when there is a job runner (unless another
        process holds that job: it drives the run), else as a task of this process."""
        if run_id in self._runs:
            return
        stop = self._stops[run_id] = asyncio.Event()
        work = self._hold(run_id, stop) if self.jobs is not None else self._drive(run_id, stop)
        self._track(run_id, asyncio.create_task(work, name=f"run-{run_id}"))

    def _track(self, run_id: int, task: asyncio.Task[Any]) -> None:
        self._runs[run_id] = task

        def forget(finished: asyncio.Task[Any]) -> None:
            if self._runs.get(run_id) is finished:
                self._runs.pop(run_id, None)
                self._stops.pop(run_id, None)

        task.add_done_callback(forget)

    async def _hold(self, run_id: int, stop: asyncio.Event) -> None:
        assert self.jobs is not None
        task = await self.jobs.hold(run_job_key(run_id), RUN_JOB, {"run": run_id},
                                    lambda: self._drive_job(run_id, stop))
        if task is not None:
            await asyncio.wait({task})

    async def _run_job(self, job: JobDTO) -> datetime | None:
        """Job ``run:{id}`` taken from the table: its driver stopped or died; go on."""
        run_id = int(job.payload["run"])
        stop = self._stops[run_id] = asyncio.Event()
        current = asyncio.current_task()
        assert current is not None
        self._track(run_id, current)
        log.info("run %s: taken over by this process", run_id)
        return await self._drive_job(run_id, stop)

    async def _drive_job(self, run_id: int, stop: asyncio.Event) -> datetime | None:
        """Drive the run as its job: None when it is over, now when it must go on elsewhere
        (this process stops); an error is the job's (retried with backoff)."""
        await self.engine.recover(run_id)
        await self._drive(run_id, stop, raise_errors=True)
        async with self.factory() as session:
            run = await PublishingRepo(session).run(run_id)
        return self.now() if run is not None and run.status == "sending" else None

    async def _drive(self, run_id: int, stop: asyncio.Event, *,
                     raise_errors: bool = False) -> None:
        async with self.factory() as session:
            repo = PublishingRepo(session)
            run = await repo.run(run_id)
            post = await PostRepo(session).find(run.post_id) if run else None
        if run is None or post is None or run.status != "sending":
            return
        lang = await self._author_language(post.author_id)
        progress = asyncio.create_task(self._progress(run, post, lang, stop))
        try:
            await self.engine.run(run_id, post, run.priority, stop)
        except Exception:
            if raise_errors:
                raise
            log.exception("run %s stopped by an error; it resumes at the next start", run_id)
            return
        finally:
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await progress
        if not stop.is_set():
            await self._finish(run, post, lang)

    async def _finish(self, run: RunDTO, post: PostDTO, lang: str) -> None:
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            counts = await repo.counts(run.id)
            if counts.get("pending") or counts.get("sending"):
                return
            if not await repo.finish_run(run.id, "done", counts):
                return
            if post.repeat:
                status = "scheduled"
            elif counts.get("sent") or not (counts.get("failed") or counts.get("blocked")):
                status = "sent"
            else:
                status = "failed"
            await PostRepo(session).mark(post.id, status, only_from="sending")
            await audit.record(session, None, audit.Action.POST_SENT, f"post:{post.id}",
                               details={"run": run.id, **counts})
        await self._show_progress(run.id, post, lang, final=True)
        await self._tell(post.author_id, await self.report(post.id, lang))

    # ------------------------------------------------------------------ author feedback

    async def _author_language(self, user_id: int) -> str:
        async with self.factory() as session:
            return await reader_language(session, user_id, self.settings.default_language)

    async def _tell(self, user_id: int, text: str) -> int | None:
        if not user_id:  # no author to tell: queued by ``content import`` (services/advice)
            return None
        try:
            message = await self.bot.send_message(user_id, text)
        except TelegramAPIError as exc:
            log.warning("could not tell %s: %s", user_id, exc)
            return None
        return message.message_id

    async def _progress(self, run: RunDTO, post: PostDTO, lang: str,
                        stop: asyncio.Event) -> None:
        if run.progress_message_id is None:
            # A run that is over within a few seconds needs only its final report.
            await self.limiter.sleep(PROGRESS_EVERY)
            text = await self._progress_text(run.id, post.id, lang)
            message_id = await self._tell(post.author_id, text)
            if message_id is None:
                return
            async with self.factory() as session, session.begin():
                await PublishingRepo(session).set_progress(run.id, post.author_id, message_id)
        while not stop.is_set():
            await self.limiter.sleep(PROGRESS_EVERY)
            await self._show_progress(run.id, post, lang)

    async def _progress_text(self, run_id: int, post_id: int, lang: str,
                             final: bool = False) -> str:
        async with self.factory() as session:
            counts = await PublishingRepo(session).counts(run_id)
        total = sum(counts.values())
        done = total - counts.get("pending", 0) - counts.get("sending", 0)
        with locale(self.i18n, lang):
            if final:
                return _("Post #{id}: finished, {done} of {total} recipients handled.").format(
                    id=post_id, done=done, total=total)
            return _("Post #{id} is being sent: {done} of {total} recipients so far.").format(
                id=post_id, done=done, total=total)

    async def _show_progress(self, run_id: int, post: PostDTO, lang: str,
                             final: bool = False) -> None:
        async with self.factory() as session:
            run = await PublishingRepo(session).run(run_id)
        if run is None or run.progress_message_id is None or run.progress_chat_id is None:
            return
        text = await self._progress_text(run_id, post.id, lang, final)
        with contextlib.suppress(TelegramAPIError):
            await self.bot.edit_message_text(
                chat_id=run.progress_chat_id, message_id=run.progress_message_id, text=text)

    async def _missed(self, post_id: int, due: datetime) -> None:
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            post = await PostRepo(session).find(post_id)
            if post is None or post.status != "scheduled":
                return
            if await repo.run_by_key(run_key(post_id, due)) is not None:
                return
            if not post.repeat:
                await PostRepo(session).mark(post_id, "missed", only_from="scheduled")
            await audit.record(session, None, audit.Action.POST_MISSED, f"post:{post_id}",
                               details={"due": due.isoformat()})
            lang = await reader_language(session, post.author_id, self.settings.default_language)
        with locale(self.i18n, lang):
            text = _(
                "Post #{id} was not sent: it was due at {time}, but the bot was offline "
                "for longer than the allowed delay. Reschedule it in /posts."
            ).format(id=post_id, time=fmt_datetime(due, lang, self.settings.tz))
        await self._tell(post.author_id, text)

    async def report(self, post_id: int, lang: str) -> str:
        """The delivery report of the post's latest run, as HTML in ``lang``."""
        async with self.factory() as session:
            repo = PublishingRepo(session)
            run = await repo.latest_run(post_id)
            counts = await repo.counts(run.id) if run else {}
        with locale(self.i18n, lang):
            if run is None:
                return _("Post #{id} has not been sent yet.").format(id=post_id)
            end = run.finished_at or utcnow()
            lines = [
                _("<b>Post #{id}: delivery report</b>").format(id=post_id),
                _("Sent: {n}").format(n=counts.get("sent", 0)),
                _("Failed: {n}").format(n=counts.get("failed", 0)),
                _("Blocked the bot: {n}").format(n=counts.get("blocked", 0)),
                _("Skipped: {n}").format(n=counts.get("skipped", 0)),
            ]
            waiting = counts.get("pending", 0) + counts.get("sending", 0)
            if waiting:
                lines.append(_("Still to send: {n}").format(n=waiting))
            if run.status == "cancelled":
                lines.append(_("The sending was cancelled."))
            lines.append(_("Duration: {time}").format(
                time=_duration((end - run.started_at).total_seconds())))
        return "\n".join(lines)

    # ------------------------------------------------------------------ edits

    async def edit_published(self, post_id: int) -> tuple[int, int]:
        """Edit the messages already sent to channels and groups; (edited, failed)."""
        async with self.factory() as session:
            repo = PublishingRepo(session)
            post = await PostRepo(session).find(post_id)
            run = await repo.latest_run(post_id)
            sent = (await repo.sent_messages(run.id, ("channel", "group", "supergroup"))
                    if run and post else [])
        edited = failed = 0
        assert post is not None or not sent
        for message in sent:
            assert post is not None
            ok = await self.engine.edit(post, message.chat_id, message.chat_kind, message.lang,
                                        message.message_id)
            edited, failed = edited + ok, failed + (not ok)
        async with self.factory() as session, session.begin():
            await audit.record(session, None, audit.Action.POST_EDITED_PUBLISHED,
                               f"post:{post_id}", edited=edited, failed=failed)
        return edited, failed
