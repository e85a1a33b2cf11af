"""A publishing process for the kill test and the benchmark: resume unfinished runs from the
ledger (and start one for ``--post`` if it has none), send until done, exit.

    python -m tests.e2e.broadcast_runner --db URL --api URL --token TOKEN --scale 10 [--post ID]
"""

from __future__ import annotations

import argparse
import asyncio

from bot.outbound.delivery import EngineOptions
from bot.publishing.publisher import Publisher
from bot.shared.i18n import create_i18n
from tests.e2e.publishing_kit import runs
from tests.kit import database, make_bot, make_settings


async def main(args: argparse.Namespace) -> None:
    settings = make_settings(args.db, api_url=args.api, default_language="en")
    async with database(args.db) as factory:
        bot = make_bot_for(args)
        publisher = Publisher(bot, factory, settings, create_i18n("en"), time_scale=args.scale,
                              scheduler=False, options=EngineOptions(workers=args.workers))
        try:
            await publisher.start()
            if args.post and not await runs(factory, args.post):
                await publisher.enqueue(args.post)
            print("running", flush=True)
            await publisher.wait_idle()
        finally:
            await publisher.stop()
            await bot.session.close()


def make_bot_for(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    class _Server:  # make_bot only reads the base URL
        base_url = args.api

    return make_bot(_Server(), args.token)  # type: ignore[arg-type]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--post", type=int, default=0)
    parser.add_argument("--workers", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
