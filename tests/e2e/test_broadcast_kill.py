"""SIGKILL a broadcasting process at random points and start it again: from the ledger it
resumes so that no recipient misses the post and none gets it twice, except a message that
was in flight (its delivery ``sending``) at the moment of the kill."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter

from sqlalchemy import select

from localapi import LocalBotAPI
from storage.models.publishing import Delivery
from tests.e2e.publishing_kit import World, add_post, build_world, ledger, post_row
from tests.kit import ROOT, database

SCALE = 10.0
KILLS = 3


async def spawn(
    server: LocalBotAPI, token: str, url: str, post_id: int
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.broadcast_runner", "--db", url, "--api", server.base_url,
        "--token", token, "--scale", str(SCALE), "--post", str(post_id),
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


def delivered(world: World) -> int:
    return sum(world.received().values())


async def test_killed_and_restarted_it_sends_each_message_once(db_url: str) -> None:
    rng = random.Random(int(os.environ.get("KILL_SEED", "3")))
    server = LocalBotAPI(flood_limits=True, time_scale=SCALE, latency=(0.05, 0.15))
    await server.start()
    token = server.register_bot(username="embassy_bot")
    try:
        async with database(db_url) as factory:
            world = await build_world(server, factory, citizens={"en": 240, "ru": 60}, groups=6)
            total = len(world.citizens) + len(world.groups)
            post_id = await add_post(factory, world.author, channels=False)
            in_flight: Counter[int] = Counter()
            kills = 0
            for _ in range(KILLS):
                start = delivered(world)
                target = start + rng.randint(5, max(6, (total - start) // 3))
                process = await spawn(server, token, db_url, post_id)
                while delivered(world) < target and process.returncode is None:  # noqa: ASYNC110 - server counters
                    await asyncio.sleep(0.005)
                if process.returncode is not None:
                    break
                process.send_signal(signal.SIGKILL)
                await process.wait()
                kills += 1
                async with factory() as session:
                    sending = await session.scalars(
                        select(Delivery.chat_id).where(Delivery.state == "sending"))
                    in_flight.update(sending)
            process = await spawn(server, token, db_url, post_id)
            _, err = await process.communicate()
            assert process.returncode == 0, err.decode()[-2000:]

            assert kills == KILLS
            received = world.received()
            assert min(received.values()) >= 1, "a recipient missed the post"
            twice = {cid: n for cid, n in received.items() if n > 1}
            assert all(n - 1 <= in_flight[cid] for cid, n in twice.items()), (twice, in_flight)
            assert len(twice) <= KILLS * 8  # at most the workers' requests in flight per kill
            assert {d.state for d in await ledger(factory, post_id)} == {"sent"}
            assert (await post_row(factory, post_id)).status == "sent"
    finally:
        await server.stop()
