"""What an operator watches: ``/healthz``, ``/readyz`` and ``/metrics`` over HTTP.

In webhook mode they are served by the webhook listener itself; with long polling, on
``HEALTH_PORT`` when it is set. ``/healthz`` says the process is alive. ``/readyz`` is 200 only
when the database answers ``SELECT 1``, Redis answers ``PING`` (with ``REDIS_URL``) and the
Bot API answered ``getMe`` within :data:`GETME_FRESH` seconds or does now; else 503 with the
failed checks in a short JSON. ``/metrics`` is Prometheus text: updates by kind, answers by
outcome (the analyser's kind), Bot API requests and 429s by method, and deliveries pending
in runs still sending.

The counters live in one :class:`Metrics` per application (its own registry, no module
globals), filled by two middlewares and the question log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetMe, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models.publishing import Delivery, PostRun

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # seconds each readiness check may take
GETME_FRESH = 30.0  # seconds a successful getMe counts as "the Bot API answers"


class Metrics:
    """This process's counters, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("embassy_updates", "Updates received, by kind.", ["kind"],
                               registry=r)
        self.answers = Counter("embassy_answers",
                               "Typed questions answered, by the analyser's outcome.",
                               ["outcome"], registry=r)
        self.api_calls = Counter("embassy_api_calls", "Bot API requests made, by method.",
                                 ["method"], registry=r)
        self.api_429 = Counter("embassy_api_429",
                               "Bot API requests answered 429 Too Many Requests, by method.",
                               ["method"], registry=r)
        self.pending = Gauge("embassy_deliveries_pending",
                             "Deliveries pending or being sent in runs still sending.",
                             registry=r)

    def answered(self, outcome: str) -> None:
        self.answers.labels(outcome=outcome).inc()


class UpdateMetricsMiddleware(BaseMiddleware):
    """Counts every update by its kind (message, callback_query, ...)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = "unknown"
        if isinstance(event, Update):
            try:
                kind = event.event_type
            except Exception:  # noqa: BLE001 - aiogram's lookup error has no public type
                kind = "unknown"
        self.metrics.updates.labels(kind=kind).inc()
        return await handler(event, data)


class ApiMetricsMiddleware(BaseRequestMiddleware):
    """Counts each request sent to the Bot API and each 429; registered innermost, after the
    limiter, so a request the limiter sends again is counted again."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        name = method.__api_method__
        self.metrics.api_calls.labels(method=name).inc()
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.api_429.labels(method=name).inc()
            raise


async def attach_api_metrics(bot: Bot, metrics: Metrics) -> None:
    """Dispatcher start-up hook: count the bot's requests (once per bot session)."""
    if not any(isinstance(m, ApiMetricsMiddleware) for m in bot.session.middleware._middlewares):
        bot.session.middleware(ApiMetricsMiddleware(metrics))


class Health:
    """The three endpoints of one process."""

    def __init__(self, engine: AsyncEngine, bot: Bot, metrics: Metrics,
                 redis_url: str | None = None, getme_fresh: float = GETME_FRESH) -> None:
        self.engine, self.bot, self.metrics = engine, bot, metrics
        self.getme_fresh = getme_fresh
        self.redis: Any = None
        if redis_url:
            from redis.asyncio import Redis

            self.redis = Redis.from_url(redis_url, socket_timeout=CHECK_TIMEOUT,
                                        socket_connect_timeout=CHECK_TIMEOUT)
        self._getme_ok = float("-inf")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics_page)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(self, request: web.Request) -> web.Response:
        checks: dict[str, Callable[[], Awaitable[None]]] = {
            "database": self._database, "bot_api": self._bot_api}
        if self.redis is not None:
            checks["redis"] = self._redis
        results = await asyncio.gather(
            *(asyncio.wait_for(check(), CHECK_TIMEOUT) for check in checks.values()),
            return_exceptions=True)
        failed = {name: _why(result) for name, result in zip(checks, results, strict=True)
                  if isinstance(result, BaseException)}
        if failed:
            log.warning("not ready: %s", ", ".join(f"{k} ({v})" for k, v in failed.items()))
            return web.json_response({"ready": False, "failed": failed}, status=503)
        return web.json_response({"ready": True})

    async def metrics_page(self, request: web.Request) -> web.Response:
        try:
            self.metrics.pending.set(await asyncio.wait_for(self._pending(), CHECK_TIMEOUT))
        except Exception as exc:  # noqa: BLE001 - the counters are still worth serving
            log.warning("metrics: pending deliveries not counted (%s)", _why(exc))
        # The classic text format (0.0.4), which every Prometheus version reads.
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    async def _database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _redis(self) -> None:
        await self.redis.ping()

    async def _bot_api(self) -> None:
        if time.monotonic() - self._getme_ok < self.getme_fresh:
            return
        await self.bot(GetMe(), request_timeout=int(CHECK_TIMEOUT))
        self._getme_ok = time.monotonic()

    async def _pending(self) -> int:
        query = (select(func.count()).select_from(Delivery)
                 .join(PostRun, PostRun.id == Delivery.run_id)
                 .where(PostRun.status == "sending", Delivery.state.in_(("pending", "sending"))))
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def _why(exc: BaseException) -> str:
    """A short reason without URLs or secrets: the exception's kind."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return type(exc).__name__


async def serve_health(health: Health, host: str, port: int) -> web.AppRunner:
    """The three endpoints on their own listener (long polling with ``HEALTH_PORT``); a
    port it cannot listen on stops start-up with one line naming the setting."""
    from bot.errors import StartupError

    app = web.Application()
    health.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(f"Cannot listen on HEALTH_HOST:HEALTH_PORT {host}:{port}: "
                           f"{exc.strerror or type(exc).__name__}") from None
    except BaseException:
        await runner.cleanup()
        raise
    log.info("health endpoints on %s:%s", host, port)
    return runner
