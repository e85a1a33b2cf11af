"""Factories for the bot, the dispatcher and the whole application; ``bot.py`` stays thin."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.answers import teach
from bot.answers.service import AnswerService
from bot.answers.store import ContentStore, load_store
from bot.answers.teach import Teacher
from bot.appointments import service as appointments
from bot.appointments.service import APPOINTMENTS, SWEEP_EVERY, sweep_appointments
from bot.cases import service as cases
from bot.cases.service import CASE_NOTICES, NOTICE_EVERY, send_notices
from bot.config import Settings
from bot.feedback.question_log import QuestionLogBuffer
from bot.feedback.stats import ChartDrawer
from bot.navigation.commands import set_menus
from bot.officer import privacy as officer
from bot.officer.desk import Operators
from bot.officer.jobs import DialogueJobs
from bot.ops import Metrics, UpdateMetricsMiddleware, attach_api_metrics
from bot.outbound.budget import close_send_budget, create_send_budget
from bot.privacy import registry as privacy
from bot.privacy.registry import PrivacyRegistry
from bot.privacy.retention import PURGE_EVERY, RETENTION, purge_retained
from bot.publishing.publisher import Publisher
from bot.shared.i18n import create_i18n
from bot.shared.isolation import CONVERSATION_TTL, create_events_isolation
from bot.shared.jobs import Background, JobRunner
from bot.shared.middlewares import (
    ChosenLanguageMiddleware,
    DatabaseMiddleware,
    FloodMiddleware,
    LanguageCache,
    LocaleMiddleware,
)
from bot.shared.roles import bootstrap_admins
from bot.travel.alert_board import Board
from bot.travel.alerts import alert_lines
from bot.travel.jobs import BoardRefresher, BoardRefreshingTask, sender
from handlers import create_root_router
from storage.db import create_engine, create_session_factory
from storage.models.base import utcnow

log = logging.getLogger(__name__)


def create_bot(settings: Settings, token: str | None = None) -> Bot:
    """A bot talking to ``BOT_API_URL`` through aiogram's own aiohttp session."""
    secret = token or (settings.bot.token.get_secret_value() if settings.bot.token else None)
    if not secret:
        raise ValueError("BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.bot.api_url))
    return Bot(secret, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_fsm_storage(settings: Settings) -> BaseStorage:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url, state_ttl=CONVERSATION_TTL,
                                     data_ttl=CONVERSATION_TTL)
    return MemoryStorage()


def create_privacy_registry() -> PrivacyRegistry:
    """What /my_data shows and /forget_me erases, in that order; the taught examples before
    the question log, which unlinks the questions they are looked up by."""
    return PrivacyRegistry([*privacy.personal_data(), *teach.personal_data(),
                            *appointments.personal_data(), *cases.personal_data(),
                            *officer.personal_data()])


def create_dispatcher(
    settings: Settings,
    *,
    store: ContentStore,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    storage: BaseStorage | None = None,
    flood: FloodMiddleware | None = None,
    metrics: Metrics | None = None,
) -> Dispatcher:
    storage = storage or create_fsm_storage(settings)
    metrics = metrics or Metrics()
    alert_board = Board()
    dp = Dispatcher(
        storage=storage,
        events_isolation=create_events_isolation(storage),
        settings=settings,
        store=store,
        alert_board=alert_board,
        answers=AnswerService(store, settings.tz, alert_board),
        lang_cache=LanguageCache(),
        question_log=QuestionLogBuffer(session_factory, on_add=metrics.answered),
        session_factory=session_factory,
        i18n=i18n,
        charts=ChartDrawer(),
        operators=Operators(),
        metrics=metrics,
        send_budget=create_send_budget(settings.redis_url),
        jobs=JobRunner(session_factory),
        teacher=Teacher(store, session_factory),
        privacy=create_privacy_registry(),
    )
    dp.shutdown.register(dp["charts"].close)
    dp.update.outer_middleware(UpdateMetricsMiddleware(metrics))
    dp.update.outer_middleware(DatabaseMiddleware(session_factory, dp["question_log"]))
    dp.update.outer_middleware(ChosenLanguageMiddleware(dp["lang_cache"], session_factory))
    LocaleMiddleware(i18n).setup(dp)
    dp.message.outer_middleware(flood or FloodMiddleware())
    dp.include_router(create_root_router())
    dp.startup.register(bootstrap_admins)
    dp.startup.register(set_menus)  # after bootstrap_admins: ADMIN_IDS get their menus
    dp.startup.register(start_background)
    dp.startup.register(attach_api_metrics)  # after the Publisher: inside its limiter
    # Last: every feature has registered its jobs. At shutdown the features stop first (the
    # Publisher hands its runs back), then the runner, then the send budget they all used.
    dp.startup.register(dp["jobs"].start)
    dp.shutdown.register(stop_background)
    dp.shutdown.register(dp["jobs"].stop)
    dp.shutdown.register(close_send_budget)
    return dp


def create_background(dp: Dispatcher, bot: Bot) -> dict[str, Background]:
    """This process's background work, by the name handlers and tests find it under, in
    start order (stopped in the reverse one). Built when the bot is known, at start-up.

    Tests put a ``publisher`` of their own into the dispatcher beforehand (it is started
    instead of a new one), and ``travel_clock`` (a callable returning the time).
    """
    settings: Settings = dp["settings"]
    factory: async_sessionmaker[AsyncSession] = dp["session_factory"]
    store: ContentStore = dp["store"]
    i18n: I18n = dp["i18n"]
    jobs: JobRunner = dp["jobs"]
    clock = dp.workflow_data.get("travel_clock") or utcnow
    send = sender(bot)  # the reminders' sender: same limiter, same priority for all of them
    publisher = dp.workflow_data.get("publisher") or Publisher(
        bot, factory, settings, i18n, budget=dp["send_budget"], jobs=jobs)
    travellers = BoardRefreshingTask(factory, store, i18n, settings, send, clock=clock,
                                     alert_lines=alert_lines)
    travellers.publisher = publisher  # queued advisory changes go out through it
    travellers.board = dp["alert_board"]
    return {
        "question_log": dp["question_log"],
        "retention": jobs.every(RETENTION, PURGE_EVERY,
                                partial(purge_retained, factory, settings)),
        "publisher": publisher,
        "travellers": jobs.every(travellers.KEY, travellers.every, travellers.sweep),
        "alert_board_refresher": BoardRefresher(factory, dp["alert_board"], clock),
        "case_notices": jobs.every(CASE_NOTICES, NOTICE_EVERY, partial(
            send_notices, factory, store, i18n, settings, send)),
        "dialogue_jobs": DialogueJobs(bot, jobs, factory, settings, store, i18n),
        "appointment_reminders": jobs.every(APPOINTMENTS, SWEEP_EVERY, partial(
            sweep_appointments, factory, store, i18n, settings, send, clock)),
        "teacher": dp["teacher"],
    }


async def start_background(dispatcher: Dispatcher, bot: Bot) -> None:
    """Start-up hook: every feature's background work starts, in one order, and is put into
    the dispatcher under its name (handlers get ``publisher``, ``case_notices``)."""
    background = create_background(dispatcher, bot)
    for name, work in background.items():
        dispatcher[name] = work
        await work.start()
    dispatcher["background"] = list(background.values())


async def stop_background(dispatcher: Dispatcher) -> None:
    """Shutdown hook: the background work stops in the reverse order it started."""
    for work in reversed(dispatcher.workflow_data.pop("background", [])):
        await work.stop()


@dataclass
class App:
    """Everything a running bot needs, built once from settings."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    i18n: I18n
    store: ContentStore

    @classmethod
    async def create(cls, settings: Settings) -> App:
        db = settings.db
        engine = create_engine(db.url, pool_size=db.pool_size, max_overflow=db.max_overflow,
                               pool_timeout=db.pool_timeout)
        factory = create_session_factory(engine)
        i18n = create_i18n(settings.default_language)
        store = await load_store(factory, settings.cache_dir)  # with the taught examples
        if not store.topics:
            log.warning("the content store is empty: run `python bot.py content import`")
        return cls(settings, engine, factory, i18n, store)

    def dispatcher(self, **kwargs: object) -> Dispatcher:
        return create_dispatcher(
            self.settings, store=self.store, session_factory=self.session_factory,
            i18n=self.i18n, **kwargs,  # type: ignore[arg-type]
        )

    async def close(self) -> None:
        await self.engine.dispose()
