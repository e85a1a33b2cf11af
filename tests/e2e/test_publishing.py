"""Scheduling with the clock moved, not slept: the job table across restarts,
posts due while the bot was down (within and beyond SCHEDULE_GRACE), repeating posts,
two Publishers on one PostgreSQL database; and the limiter serving replies first."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.outbound.delivery import EngineOptions
from bot.outbound.ratelimit import INTERACTIVE, SendLimiter
from bot.publishing.publisher import Publisher, post_job_key, run_key
from bot.shared.i18n import create_i18n
from localapi import LocalBotAPI
from storage.jobs import JobRepo
from storage.models.base import utcnow
from storage.models.people import AuditEntry
from storage.publishing.runs import PublishingRepo
from tests.e2e.publishing_kit import add_post, build_world, ledger, post_row, runs
from tests.kit import database, make_bot, make_settings, until_async

SCALE = 20.0


@dataclass
class Env:
    server: LocalBotAPI
    token: str
    settings: Settings
    factory: async_sessionmaker[AsyncSession]
    url: str
    made: list[Publisher]

    def publisher(self, now: Callable[[], datetime] = utcnow, *, scheduler: bool = True,
                  factory: async_sessionmaker[AsyncSession] | None = None) -> Publisher:
        publisher = Publisher(
            make_bot(self.server, self.token), factory or self.factory, self.settings,
            create_i18n("en"), time_scale=SCALE, now=now, scheduler=scheduler,
            options=EngineOptions(workers=4, request_timeout=2.0),
        )
        self.made.append(publisher)
        return publisher

    async def jobs(self) -> list[str]:
        async with self.factory() as session:
            return list(await session.scalars(text("SELECT key FROM jobs ORDER BY key")))

    async def due(self, post_id: int) -> datetime | None:
        async with self.factory() as session:
            job = await JobRepo(session).get(post_job_key(post_id))
        assert job is not None, f"post {post_id} has no job"
        return job.due_at


@pytest_asyncio.fixture
async def env(db_url: str) -> AsyncIterator[Env]:
    server = LocalBotAPI(flood_limits=True, time_scale=SCALE)
    await server.start()
    token = server.register_bot(username="embassy_bot")
    settings = make_settings(db_url, api_url=server.base_url, default_language="en",
                             schedule_grace=timedelta(hours=1))
    async with database(db_url) as factory:
        made: list[Publisher] = []
        try:
            yield Env(server, token, settings, factory, db_url, made)
        finally:
            for publisher in made:
                await publisher.stop()
                await publisher.bot.session.close()
            await server.stop()


def clock_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def scheduled_for_later(env: Env, when: datetime, **post: object) -> tuple[int, int]:
    """A post scheduled by one Publisher that then stops, as the bot going down."""
    world = await build_world(env.server, env.factory, citizens={"en": 5}, groups=1)
    post_id = await add_post(env.factory, world.author, send_at=when, **post)  # type: ignore[arg-type]
    first = env.publisher()
    await first.start()
    await first.schedule(post_id)
    await first.stop()
    return post_id, world.author


async def test_a_post_due_within_the_grace_is_sent_at_start_up(env: Env) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    post_id, _ = await scheduled_for_later(env, due)
    assert await env.jobs() == [f"post:{post_id}"]
    assert await runs(env.factory, post_id) == []

    later = env.publisher(clock_at(due + timedelta(minutes=40)))
    await later.start()
    await later.wait_idle()

    (run,) = await runs(env.factory, post_id)
    assert run.run_key == run_key(post_id, due)
    assert {d.state for d in await ledger(env.factory, post_id)} == {"sent"}
    assert (await post_row(env.factory, post_id)).status == "sent"
    assert await env.jobs() == []


async def test_a_post_due_beyond_the_grace_is_missed_and_its_author_told(env: Env) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    post_id, author = await scheduled_for_later(env, due)

    later = env.publisher(clock_at(due + timedelta(hours=2)))
    await later.start()
    await later.wait_idle()

    assert await runs(env.factory, post_id) == []
    assert (await post_row(env.factory, post_id)).status == "missed"
    told = [m["html"] for m in env.server.messages(author) if m["outgoing"]]
    assert len(told) == 1 and f"Post #{post_id} was not sent" in told[0]
    assert env.server.stats.total_sent == 1
    async with env.factory() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("post.missed") == 1 and "post.scheduled" in actions


async def test_restarts_and_rescheduling_keep_one_job_per_post(env: Env) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    post_id, _ = await scheduled_for_later(env, due)
    again = env.publisher()
    await again.start()
    await again.schedule(post_id)
    await again.schedule(post_id)
    await again.stop()
    third = env.publisher()
    await third.start()
    assert await env.jobs() == [f"post:{post_id}"]
    assert await env.due(post_id) == due


async def test_a_repeating_post_runs_weekly_in_the_embassy_time_zone(env: Env) -> None:
    world = await build_world(env.server, env.factory, citizens={"en": 3})
    post_id = await add_post(env.factory, world.author, repeat={"weekdays": [0], "time": "10:00"})
    first = env.publisher()
    await first.start()
    await first.schedule(post_id)
    assert await env.jobs() == [f"post:{post_id}"]
    due = await env.due(post_id)
    assert due is not None
    monday = due.astimezone(env.settings.tz)
    assert (monday.weekday(), monday.hour, monday.minute) == (0, 10, 0)
    await first.stop()

    later = env.publisher(clock_at(monday.astimezone(UTC) + timedelta(minutes=5)))
    await later.start()
    await later.wait_idle()
    assert {d.state for d in await ledger(env.factory, post_id)} == {"sent"}
    assert (await post_row(env.factory, post_id)).status == "scheduled"  # waits for next week
    assert await env.jobs() == [f"post:{post_id}"]
    assert await env.due(post_id) == monday + timedelta(days=7)


async def test_a_post_for_now_is_sent_by_the_running_scheduler(env: Env) -> None:
    world = await build_world(env.server, env.factory, citizens={"en": 4})
    post_id = await add_post(env.factory, world.author, channels=False, groups=False)
    publisher = env.publisher()
    await publisher.start()
    await publisher.schedule(post_id)
    await until_async(lambda: post_row(env.factory, post_id), lambda p: p.status == "sent",
                      timeout=10)
    await publisher.wait_idle()
    assert (await post_row(env.factory, post_id)).status == "sent"
    assert sum(env.server.stats.sent_per_chat[c] for c in world.citizens) == 4


async def test_firing_the_same_job_twice_starts_one_run(env: Env) -> None:
    world = await build_world(env.server, env.factory, citizens={"en": 10})
    post_id = await add_post(env.factory, world.author, groups=False, channels=False)
    publisher = env.publisher(scheduler=False)
    await publisher.start()
    due = datetime.now(UTC)
    first, second = await asyncio.gather(publisher.fire(post_id, due),
                                         publisher.fire(post_id, due))
    await publisher.wait_idle()
    assert first == second and first is not None
    assert len(await runs(env.factory, post_id)) == 1
    assert {env.server.stats.sent_per_chat[c] for c in world.citizens} == {1}


async def test_a_run_committed_while_the_second_fire_looks_is_found_not_refused(
    env: Env, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The interleaving a busy machine makes: the second fire looks for the run, then the
    first commits it (and moves the post to ``sending``) before the second goes on."""
    if not env.url.startswith("postgresql"):
        pytest.skip("SQLite serializes the two transactions")
    world = await build_world(env.server, env.factory, citizens={"en": 3})
    post_id = await add_post(env.factory, world.author, groups=False, channels=False)
    publisher = env.publisher(scheduler=False)
    await publisher.start()
    committed = asyncio.Event()
    looks = itertools.count(1)
    original_look, original_launch = PublishingRepo.run_by_key, publisher._launch

    async def look(repo: PublishingRepo, key: str) -> object:
        found = await original_look(repo, key)
        if next(looks) == 2:
            await asyncio.wait_for(committed.wait(), 10)
        return found

    def launch(run_id: int) -> None:
        committed.set()
        original_launch(run_id)

    monkeypatch.setattr(PublishingRepo, "run_by_key", look)
    monkeypatch.setattr(publisher, "_launch", launch)
    due = datetime.now(UTC)
    first, second = await asyncio.gather(publisher.fire(post_id, due),
                                         publisher.fire(post_id, due))
    await publisher.wait_idle()
    assert first == second and first is not None
    assert len(await runs(env.factory, post_id)) == 1


async def test_two_publishers_on_one_postgresql_database_send_each_message_once(
    env: Env,
) -> None:
    if not env.url.startswith("postgresql"):
        pytest.skip("SQLite serves one process")
    env.server.flood_limits = False  # two processes, two limiters: pacing is per process
    world = await build_world(env.server, env.factory, citizens={"en": 120}, groups=4)
    post_id = await add_post(env.factory, world.author)
    async with database(env.url) as other_factory:
        one = env.publisher(scheduler=False)
        two = env.publisher(scheduler=False, factory=other_factory)
        await one.start()
        await two.start()
        due = datetime.now(UTC)
        await asyncio.gather(one.fire(post_id, due), two.fire(post_id, due))
        await asyncio.gather(one.wait_idle(), two.wait_idle())
        await two.stop()
    rows = await ledger(env.factory, post_id)
    assert {r.state for r in rows} == {"sent"}
    assert {r.claimed_by for r in rows} == {one.engine.worker_id, two.engine.worker_id}
    assert set(world.received().values()) == {1}
    reports = [m for m in env.server.messages(world.author) if "delivery report" in m["html"]]
    assert len(reports) == 1


async def test_replies_take_the_next_slot_ahead_of_a_saturating_broadcast() -> None:
    limiter = SendLimiter(rate=10, time_scale=50)
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await limiter.slot(priority)
        order.append(name)

    broadcast = [asyncio.create_task(take(f"b{i}", 0)) for i in range(12)]
    await asyncio.sleep(0)
    alert = asyncio.create_task(take("alert", 5))
    reply = asyncio.create_task(take("reply", INTERACTIVE))
    await asyncio.gather(*broadcast, alert, reply)
    assert order.index("reply") <= 1 and order.index("alert") == order.index("reply") + 1
    assert len(order) == 14


async def test_the_limiter_spaces_sends_to_one_private_chat_and_one_group() -> None:
    limiter = SendLimiter(rate=1000, time_scale=200)
    stamps: dict[int, list[float]] = {1: [], -5: []}

    async def send(chat: int, private: bool) -> None:
        async with limiter.chat(chat, private=private):
            stamps[chat].append(limiter.clock())

    await asyncio.gather(*[send(1, True) for _ in range(6)], *[send(-5, False) for _ in range(22)])
    private = stamps[1]  # a burst of three, then one a second
    assert private[2] - private[0] < 1.0
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(private[2:]))
    group = stamps[-5]
    assert group[20] - group[0] >= 60.0 and group[19] - group[0] < 60.0


async def test_audit_counts(env: Env) -> None:
    world = await build_world(env.server, env.factory, citizens={"en": 2})
    post_id = await add_post(env.factory, world.author, groups=False, channels=False)
    publisher = env.publisher(scheduler=False)
    await publisher.start()
    await publisher.enqueue(post_id)
    await publisher.wait_idle()
    async with env.factory() as session:
        rows = dict((await session.execute(
            select(AuditEntry.action, func.count()).group_by(AuditEntry.action))).all())
    assert rows == {"post.published": 1, "post.sent": 1}


async def test_a_running_alert_holds_routine_broadcasts_until_it_ends() -> None:
    limiter = SendLimiter(rate=100, time_scale=50)
    order: list[str] = []

    async def routine() -> None:
        await limiter.slot(0)
        order.append("routine")

    async with limiter.run(10):
        waiting = asyncio.create_task(routine())
        for _ in range(3):
            await limiter.slot(10)
            order.append("alert")
        await limiter.slot(INTERACTIVE)  # replies are never held
        order.append("reply")
        assert not waiting.done()
    await waiting
    assert order == ["alert", "alert", "alert", "reply", "routine"]


async def test_a_decision_the_editors_recorded_is_not_recorded_again(env: Env) -> None:
    """The editors' UI records post.scheduled / post.cancelled with who acted, in the
    transaction of the decision; the publisher then adds no second, anonymous row."""
    world = await build_world(env.server, env.factory, citizens={"en": 1})
    later = datetime.now(UTC) + timedelta(days=3)
    post_id = await add_post(env.factory, world.author, groups=False, channels=False,
                             send_at=later)
    publisher = env.publisher()
    await publisher.start()
    await publisher.schedule(post_id, recorded=True)
    assert await env.jobs() == [f"post:{post_id}"]
    await publisher.unschedule(post_id, recorded=True)
    assert await env.jobs() == []
    await publisher.schedule(post_id)  # a caller that recorded nothing: the publisher does
    async with env.factory() as session:
        rows = list((await session.execute(select(AuditEntry.actor_id, AuditEntry.action))).all())
    assert rows == [(None, "post.scheduled")]
