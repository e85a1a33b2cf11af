"""The Publisher: schedules posts, turns a due post into a run, drives it, reports back.

Scheduling uses APScheduler with its job store in the project's database (a sync driver:
the stdlib's sqlite3, or psycopg for PostgreSQL). A post's job id is ``post:{id}``, so
scheduling again replaces the job. Stored jobs name :func:`due_post`, an importable
function, but they run through :class:`_PublisherExecutor`, which holds the Publisher that
created it and passes it the job's due time: no module-level registry of running Publishers.

A due post becomes a run whose ``run_key`` is the post id plus the due time. The run, its
whole delivery ledger and the post's move to ``sending`` are written in one transaction; the
unique ``run_key`` makes a second process (or a restart) that fires the same job find the run
instead of starting another. On PostgreSQL that second process joins the run: both claim
deliveries with ``SKIP LOCKED``.

The job store's writes never run on the event loop (see :class:`_Scheduler`).

At start-up, jobs that fell due while the bot was down are sent if they are at most
``SCHEDULE_GRACE`` late, else the post is marked ``missed`` and its author told. Runs left
``sending`` by a previous process are resumed from their ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler, run_in_event_loop
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import locale, reader_language
from bot.services.delivery import DeliveryEngine, EngineOptions
from bot.services.ratelimit import TELEGRAM_RATE, LimiterMiddleware, SendLimiter
from bot.translation import fmt_datetime
from storage.models import utcnow
from storage.repo_publishing import PostDTO, PublishingRepo, RunDTO

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5.0  # Telegram seconds between edits of the author's progress message
JOB_TABLE = "apscheduler_jobs"


async def due_post(post_id: int) -> None:
    """What a stored job names; it only ever runs through the Publisher's executor."""
    raise RuntimeError(f"post {post_id}: publishing jobs run only inside a Publisher")


def sync_url(async_url: str) -> str:
    """The job store's URL: the same database through a synchronous driver."""
    if async_url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + async_url.removeprefix("sqlite+aiosqlite://")
    if async_url.startswith("postgresql+asyncpg://"):
        return "postgresql+psycopg://" + async_url.removeprefix("postgresql+asyncpg://")
    return async_url


def run_key(post_id: int, due: datetime) -> str:
    return f"post:{post_id}@{due.astimezone(UTC):%Y%m%dT%H%M%S.%f}"


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class _PublisherExecutor(BaseExecutor):
    """Runs publishing jobs on the event loop, handing the Publisher the job's due time.

    Jobs are submitted from :class:`_Scheduler`'s worker thread, so the run is handed to
    the loop the scheduler was started on.
    """

    def __init__(self, publisher: Publisher) -> None:
        super().__init__()
        self._publisher = publisher
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop = asyncio.get_running_loop()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._run, job, run_times[-1])

    def _run(self, job: Any, due: datetime) -> None:
        task = asyncio.get_running_loop().create_task(
            self._publisher.fire(int(job.args[0]), due))
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if finished.cancelled():
                self._run_job_success(job.id, [])
            elif (exc := finished.exception()) is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, [])

        task.add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        for task in self._tasks:
            task.cancel()


class _Scheduler(AsyncIOScheduler):
    """An asyncio scheduler whose job-store work runs on a worker thread, not on the loop.

    The job store writes through a synchronous driver on its own connection. On SQLite an
    aiosqlite connection of this process may hold the write lock between two statements of
    a transaction (a run claiming deliveries, the question log, retention), and it needs
    the event loop to reach its commit: a job-store write made on the loop waits for a lock
    that only the blocked loop can release, until ``database is locked``. Off the loop,
    the same write just waits its turn.
    """

    RETRY_SECONDS = 10.0

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._processing: set[asyncio.Task[None]] = set()

    @run_in_event_loop
    def wakeup(self) -> None:
        self._stop_timer()
        task = asyncio.get_running_loop().create_task(self._process_off_loop())
        self._processing.add(task)
        task.add_done_callback(self._processing.discard)

    async def _process_off_loop(self) -> None:
        try:
            wait: float | None = await asyncio.to_thread(self._process_jobs)
        except Exception:
            log.exception("the scheduler could not process due jobs; retrying")
            wait = self.RETRY_SECONDS
        if self._eventloop is not None and self.running:
            self._start_timer(wait)


def _job_store(async_url: str) -> SQLAlchemyJobStore:
    url = sync_url(async_url)
    options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}  # the app's own busy timeout (storage.db)
    return SQLAlchemyJobStore(url=url, tablename=JOB_TABLE, engine_options=options)


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
    ) -> None:
        self.bot, self.factory, self.settings, self.i18n = bot, session_factory, settings, i18n
        self.now = now
        rate = settings.send_rate if settings.allow_paid_broadcast else min(
            settings.send_rate, TELEGRAM_RATE)
        self.limiter = SendLimiter(rate, time_scale=time_scale)
        options = options or EngineOptions()
        options.paid_broadcast = settings.allow_paid_broadcast
        self.engine = DeliveryEngine(bot, session_factory, self.limiter, options)
        self._use_scheduler = scheduler
        self._share_limiter = share_limiter
        self._scheduler: AsyncIOScheduler | None = None
        self._runs: dict[int, asyncio.Task[None]] = {}
        self._stops: dict[int, asyncio.Event] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the scheduler, settle overdue jobs, resume unfinished runs."""
        if self._share_limiter and not any(
            isinstance(m, LimiterMiddleware) for m in self.bot.session.middleware._middlewares
        ):
            self.bot.session.middleware(LimiterMiddleware(self.limiter))
        await self.engine.start()
        if self._use_scheduler:
            url = self.factory.kw["bind"].url.render_as_string(hide_password=False)
            self._scheduler = _Scheduler(
                jobstores={"default": _job_store(url)},
                executors={"default": _PublisherExecutor(self)},
                job_defaults={
                    "coalesce": True, "max_instances": 1,
                    "misfire_grace_time": int(self.settings.schedule_grace.total_seconds()) or 1,
                },
                timezone=UTC,
            )
            self._scheduler.start(paused=True)
            await self._settle_overdue()
            self._scheduler.resume()
        await self.resume_runs()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        for event in self._stops.values():
            event.set()
        tasks = list(self._runs.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.engine.stop()

    async def wait_idle(self) -> None:
        """Until every run this process drives has finished (tests and the runner)."""
        while self._runs:
            await asyncio.gather(*list(self._runs.values()), return_exceptions=True)

    # ------------------------------------------------------------------ scheduling

    async def schedule(self, post_id: int) -> None:
        """(Re)create the job of a ``scheduled`` post: now, at ``send_at`` or by its rule."""
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            post = await repo.post(post_id)
            if post is None or post.status != "scheduled":
                raise ValueError(f"post {post_id} is not scheduled")
            await repo.audit("post_scheduled", f"post:{post_id}", details=self._when(post))
        trigger = self._trigger(post)
        if self._scheduler is None:
            if post.repeat is None:
                await self.fire(post_id, trigger.run_date)
            return
        await asyncio.to_thread(
            self._scheduler.add_job, due_post, trigger=trigger, args=[post_id],
            id=f"post:{post_id}", replace_existing=True, name=f"post {post_id}",
        )

    def _trigger(self, post: PostDTO) -> DateTrigger | CronTrigger:
        if post.repeat:
            hour, minute = (int(x) for x in str(post.repeat.get("time", "10:00")).split(":"))
            days = ",".join(str(int(d)) for d in post.repeat.get("weekdays") or range(7))
            return CronTrigger(day_of_week=days, hour=hour, minute=minute,
                               timezone=self.settings.tz)
        now = self.now()
        when = post.send_at if post.send_at and post.send_at > now else now
        return DateTrigger(run_date=when, timezone=UTC)

    @staticmethod
    def _when(post: PostDTO) -> dict[str, Any]:
        if post.repeat:
            return {"repeat": post.repeat}
        return {"send_at": post.send_at.isoformat() if post.send_at else None}

    async def unschedule(self, post_id: int) -> None:
        """Remove the post's job and stop its active run: what was not sent is skipped."""
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._scheduler.remove_job, f"post:{post_id}")
        async with self.factory() as session, session.begin():
            repo = PublishingRepo(session)
            run = await repo.latest_run(post_id)
            skipped = 0
            if run is not None and run.status == "sending":
                skipped = await repo.skip_pending(run.id, "cancelled")
                await repo.finish_run(run.id, "cancelled", await repo.counts(run.id))
                await repo.set_post_status(post_id, "cancelled", only_from="sending")
            await repo.audit("post_cancelled", f"post:{post_id}", details={"skipped": skipped})
        if run is not None and run.id in self._stops:
            self._stops[run.id].set()

    async def _settle_overdue(self) -> None:
        """Jobs that fell due while the bot was down: send within the grace, else missed."""
        assert self._scheduler is not None
        now = self.now()
        for job in await asyncio.to_thread(self._scheduler.get_jobs):
            due = job.next_run_time
            if due is None or due > now or job.func is not due_post:
                continue
            latest = job._get_run_times(now)[-1]  # coalesced: only the latest occurrence
            await self.fire(int(job.args[0]), latest)
            following = job.trigger.get_next_fire_time(latest, now)
            if isinstance(job.trigger, CronTrigger) and following is not None:
                await asyncio.to_thread(job.modify, next_run_time=following)
            else:
                await asyncio.to_thread(job.remove)

    # ------------------------------------------------------------------ runs

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
                post = await repo.post(post_id)
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
        people = await repo.recipients(post.targets)
        ledger = [(r, None if post.text_for(r.lang) else "no text in this language")
                  for r in people]
        prio = post.priority if priority is None else priority
        run_id = await repo.create_run(post.id, key, prio, ledger)
        await repo.set_post_status(post.id, "sending")
        await repo.audit("post_published", f"post:{post.id}",
                         details={"run": run_id, "recipients": len(ledger)})
        return run_id

    async def resume_runs(self) -> None:
        async with self.factory() as session:
            runs = await PublishingRepo(session).runs_with_status("sending")
        if runs:
            # A run left "sending" means a process died mid-broadcast moments ago, perhaps:
            # its last second of sends still counts in Telegram's window.
            self.limiter.hold(1.0 + self.limiter.safety)
        for run in runs:
            await self.engine.recover(run.id)
            self._launch(run.id)

    def _launch(self, run_id: int) -> None:
        if run_id in self._runs:
            return
        stop = self._stops[run_id] = asyncio.Event()
        task = asyncio.create_task(self._drive(run_id, stop), name=f"run-{run_id}")
        self._runs[run_id] = task

        def forget(_: asyncio.Task[None]) -> None:
            self._runs.pop(run_id, None)
            self._stops.pop(run_id, None)

        task.add_done_callback(forget)

    async def _drive(self, run_id: int, stop: asyncio.Event) -> None:
        async with self.factory() as session:
            repo = PublishingRepo(session)
            run = await repo.run(run_id)
            post = await repo.post(run.post_id) if run else None
        if run is None or post is None:
            return
        lang = await self._author_language(post.author_id)
        progress = asyncio.create_task(self._progress(run, post, lang, stop))
        try:
            await self.engine.run(run_id, post, run.priority, stop)
        except Exception:
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
            await repo.set_post_status(post.id, status, only_from="sending")
            await repo.audit("post_sent", f"post:{post.id}", details={"run": run.id, **counts})
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
            post = await repo.post(post_id)
            if post is None or post.status != "scheduled":
                return
            if await repo.run_by_key(run_key(post_id, due)) is not None:
                return
            if not post.repeat:
                await repo.set_post_status(post_id, "missed", only_from="scheduled")
            await repo.audit("post_missed", f"post:{post_id}", details={"due": due.isoformat()})
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
            post = await repo.post(post_id)
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
            await PublishingRepo(session).audit(
                "post_edited_published", f"post:{post_id}",
                details={"edited": edited, "failed": failed})
        return edited, failed



async def start_publisher(
    dispatcher: Any, bot: Bot, settings: Settings,
    session_factory: async_sessionmaker[AsyncSession], i18n: I18n,
) -> None:
    """Dispatcher start-up hook: handlers get the running Publisher as ``publisher``.

    A Publisher put into the dispatcher beforehand (tests) is started instead of replaced.
    """
    publisher = dispatcher.workflow_data.get("publisher")
    if publisher is None:
        publisher = Publisher(bot, session_factory, settings, i18n)
        dispatcher["publisher"] = publisher
    await publisher.start()


async def stop_publisher(dispatcher: Any) -> None:
    publisher = dispatcher.workflow_data.get("publisher")
    if publisher is not None:
        await publisher.stop()
