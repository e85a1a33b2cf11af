"""Running the bot: long polling, webhook, or the local sandbox when no token is set."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.config import Settings
from bot.errors import check_bot_api, check_database
from bot.factory import App, create_bot
from bot.ops import Health, serve_health

log = logging.getLogger(__name__)


def _health(app: App, bot: Bot, dp: Dispatcher) -> Health:
    return Health(app.engine, bot, dp["metrics"], app.settings.redis_url)


async def run_polling(app: App, bot: Bot, dp: Dispatcher) -> None:
    """Long polling until SIGTERM or SIGINT; both stop it cleanly. With ``HEALTH_PORT``,
    the health endpoints (:mod:`bot.ops`) are served on it meanwhile."""
    health = runner = None
    if app.settings.health_port:
        health = _health(app, bot, dp)
        runner = await serve_health(health, app.settings.health_host, app.settings.health_port)
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=False, close_bot_session=True,
                               allowed_updates=dp.resolve_used_update_types())
    finally:
        if runner is not None:
            await runner.cleanup()
        if health is not None:
            await health.close()


async def run_webhook(app: App, bot: Bot, dp: Dispatcher) -> None:
    from aiogram.webhook.aiohttp_server import setup_application

    from bot.webhook import UpdateRequestHandler, create_seen_updates

    hook = app.settings.webhook
    secret = hook.secret.get_secret_value() if hook.secret else None
    seen = create_seen_updates(app.settings.redis_url)
    health = _health(app, bot, dp)
    web_app = web.Application()
    UpdateRequestHandler(dp, bot, seen, secret_token=secret).register(web_app, hook.path)
    health.add_routes(web_app)
    setup_application(web_app, dp, bot=bot)
    runner = web.AppRunner(web_app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, hook.host, hook.port)
        await site.start()
        await bot.set_webhook(f"{hook.url}{hook.path}", secret_token=secret,
                              allowed_updates=dp.resolve_used_update_types())
        log.info("webhook listening on %s:%s%s", hook.host, hook.port, hook.path)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await seen.close()
        await health.close()


async def serve(settings: Settings) -> None:
    """Run until SIGTERM; a database or Bot API server it cannot reach stops it at once
    with :class:`~bot.errors.StartupError` (one line naming the setting)."""
    await check_database(settings.db.url)
    bot = create_bot(settings)
    try:
        assert settings.bot.token is not None
        await check_bot_api(bot, settings.bot.api_url, settings.bot.token.get_secret_value())
        app = await App.create(settings)
    except BaseException:
        await bot.session.close()
        raise
    dp = app.dispatcher()
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: task.cancel() if task else None)
    try:
        if settings.webhook.url:
            await run_webhook(app, bot, dp)
        else:
            await run_polling(app, bot, dp)
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        await dp.storage.close()
        await bot.session.close()
        await app.close()
