"""The job table (bot/shared/jobs.py): one row per key, exactly one runner fires a due job,
a dead runner's job is taken over once its lease lapses, a stopping runner hands its jobs
back at once, failures retry with backoff in one log line each, periodic jobs reschedule
themselves. The clock is moved, never slept; leases are short real seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.shared import jobs as jobs_module
from bot.shared.jobs import MAX_ATTEMPTS, JobRunner
from storage.jobs import JobDTO, JobRepo
from storage.models.base import utcnow
from tests.kit import Clock, database


@pytest_asyncio.fixture
async def factory(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with database(db_url) as made:
        yield made


async def _rows(factory: async_sessionmaker[AsyncSession]) -> dict[str, JobDTO]:
    async with factory() as session:
        return {job.key: job for job in await JobRepo(session).all()}


async def test_scheduling_one_key_twice_keeps_one_row_at_the_later_time(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    runner = JobRunner(factory)
    first, second = utcnow() + timedelta(days=1), utcnow() + timedelta(days=2)
    await runner.schedule("post:7", "post", first, {"post": 7})
    await runner.schedule("post:7", "post", second, {"post": 7})
    rows = await _rows(factory)
    assert list(rows) == ["post:7"]
    assert rows["post:7"].due_at == second and rows["post:7"].payload == {"post": 7}


async def test_a_due_job_is_fired_by_exactly_one_of_two_runners(
    db_url: str, factory: async_sessionmaker[AsyncSession],
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serves one process")
    fired: list[str] = []

    async def handler(job: JobDTO) -> None:
        fired.append(job.key)
        await asyncio.sleep(0.05)

    async with database(db_url) as other:
        runners = [JobRunner(factory, capacity=10), JobRunner(other, capacity=10)]
        for runner in runners:
            runner.register("ping", handler)
        for n in range(20):
            await runners[0].schedule(f"ping:{n}", "ping", utcnow())
        started = await asyncio.gather(*(r.poll_once() for r in runners))
        await asyncio.gather(*(r.wait_idle() for r in runners))
    assert started == [10, 10]  # each took what it had room for, none twice
    assert sorted(fired) == sorted(f"ping:{n}" for n in range(20))
    assert await _rows(factory) == {}


async def test_a_dead_runners_job_is_taken_over_when_its_lease_lapses(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    release = asyncio.Event()
    ran: list[str] = []

    async def stuck(job: JobDTO) -> None:
        ran.append("dead")
        await release.wait()

    async def finish(job: JobDTO) -> None:
        ran.append("alive")

    dead = JobRunner(factory, lease=0.6, owner="dead")
    dead.register("run", stuck)
    await dead.schedule("run:1", "run", utcnow())
    assert await dead.poll_once() == 1
    await asyncio.sleep(0)
    # The process dies: no heartbeat renews its lease, nothing gives it back.
    alive = JobRunner(factory, lease=0.6, owner="alive")
    alive.register("run", finish)
    assert await alive.poll_once() == 0  # the lease still holds
    lapsed = utcnow() + timedelta(seconds=0.6)
    while utcnow() <= lapsed:  # noqa: ASYNC110 - the real clock a lease is measured on
        await asyncio.sleep(0.05)
    assert await alive.poll_once() == 1
    await alive.wait_idle()
    assert ran == ["dead", "alive"]
    assert await _rows(factory) == {}
    release.set()
    await dead.wait_idle()


async def test_a_stopping_runner_hands_its_job_back_at_once(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    started = asyncio.Event()

    async def long(job: JobDTO) -> None:
        started.set()
        await asyncio.Event().wait()

    one = JobRunner(factory, owner="one", stop_wait=0.2)
    one.register("run", long)
    await one.schedule("run:2", "run", utcnow())
    await one.start()
    await asyncio.wait_for(started.wait(), 10)
    assert (await _rows(factory))["run:2"].owner == "one"
    await one.stop()
    job = (await _rows(factory))["run:2"]
    assert job.owner is None and job.lease_until is None
    two = JobRunner(factory, owner="two")
    done: list[int] = []

    async def finish(job: JobDTO) -> None:
        done.append(1)

    two.register("run", finish)
    assert await two.poll_once() == 1
    await two.wait_idle()
    assert done == [1]


async def test_a_failing_job_retries_with_backoff_then_gives_up(
    factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    calls: list[datetime] = []

    async def broken(job: JobDTO) -> None:
        calls.append(clock.now)
        raise RuntimeError("the service is away")

    runner = JobRunner(factory, clock=clock)
    runner.register("flaky", broken)
    await runner.schedule("flaky:1", "flaky", clock.now)
    waits = []
    with caplog.at_level(logging.WARNING, logger=jobs_module.__name__):
        for _ in range(MAX_ATTEMPTS):
            assert await runner.poll_once() == 1
            await runner.wait_idle()
            job = (await _rows(factory))["flaky:1"]
            if job.due_at is None:
                break
            waits.append((job.due_at - clock.now).total_seconds())
            assert await runner.poll_once() == 0  # not before its backoff
            clock.now = job.due_at
    assert len(calls) == MAX_ATTEMPTS
    assert waits == [2.0, 4.0, 8.0, 16.0]
    job = (await _rows(factory))["flaky:1"]
    assert job.due_at is None and job.attempts == MAX_ATTEMPTS
    assert job.last_error == "RuntimeError: the service is away"
    lines = [r for r in caplog.records if r.name == jobs_module.__name__]
    assert len(lines) == MAX_ATTEMPTS and not any(r.exc_info for r in lines)
    assert "given up" in lines[-1].getMessage()


async def test_a_periodic_job_reschedules_itself_and_one_row_survives_restarts(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    swept: list[datetime] = []

    async def sweep(job: JobDTO) -> None:
        swept.append(clock.now)

    for _ in range(2):  # a restart registers the same periodic job again
        runner = JobRunner(factory, clock=clock)
        runner.periodic("sweep", timedelta(minutes=10), sweep)
        await runner.start()
        await runner.wait_idle()
        await runner.stop()
    assert len(swept) == 1  # due at the first start only
    job = (await _rows(factory))["sweep"]
    assert job.due_at == swept[0] + timedelta(minutes=10) and job.every_seconds == 600
    clock.now += timedelta(minutes=10)
    runner = JobRunner(factory, clock=clock)
    runner.periodic("sweep", timedelta(minutes=10), sweep)
    assert await runner.poll_once() == 1
    await runner.wait_idle()
    assert swept == [swept[0], clock.now]
    assert (await _rows(factory))["sweep"].due_at == clock.now + timedelta(minutes=10)


async def test_a_features_periodic_job_starts_wakes_and_stops_through_one_helper(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    swept: list[datetime] = []

    async def sweep() -> int:
        swept.append(clock.now)
        return len(swept)

    runner = JobRunner(factory, clock=clock)
    work = runner.every("feature", timedelta(hours=1), sweep)
    assert runner.kinds == []  # registered when the feature starts, not when it is built
    await work.start()
    await runner.start()
    await runner.wait_idle()
    assert swept == [clock.now] and runner.kinds == ["feature"]
    clock.now += timedelta(minutes=5)
    work.wake()  # due now, long before its hour
    for _ in range(100):
        if len(swept) == 2:
            break
        await asyncio.sleep(0.05)
    assert swept[1] == clock.now
    await work.stop()
    assert runner.kinds == []
    assert await work.sweep() == 3  # by hand, as tests do after moving the clock
    await runner.stop()


async def test_a_runner_claims_no_kind_it_has_no_handler_for(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    runner = JobRunner(factory)
    await runner.schedule("other:1", "other", utcnow())
    assert await runner.poll_once() == 0
    assert (await _rows(factory))["other:1"].owner is None


async def test_holding_a_job_another_runner_holds_is_refused(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    release = asyncio.Event()
    ran: list[str] = []

    async def work(name: str) -> None:
        ran.append(name)
        await release.wait()

    one, two = JobRunner(factory, owner="one"), JobRunner(factory, owner="two")
    task = await one.hold("run:3", "run", {"run": 3}, lambda: work("one"))
    assert task is not None
    assert await two.hold("run:3", "run", {"run": 3}, lambda: work("two")) is None
    assert (await _rows(factory))["run:3"].owner == "one"
    release.set()
    await one.wait_idle()
    assert ran == ["one"] and await _rows(factory) == {}
