"""The application factory and its lifespan. Wiring only: no logic lives here."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram import Bot
from aiogram import Dispatcher as BotDispatcher
from fastapi import FastAPI

from app.body_limit import BodyLimitMiddleware
from app.bot import handlers as bot_handlers
from app.bot.lifecycle import start_bot, stop_bot
from app.clock import Clock, SystemClock
from app.container import Container
from app.db.database import Database
from app.links import Links
from app.llm.client import LLMClient
from app.llm.writer import Writer
from app.logs import configure_logging
from app.routers import dev, health, internal, leads, me, plans, reminders, telegram, webapp
from app.routers.errors import (
    install_database_unavailable,
    install_request_validation_error,
    install_service_errors,
)
from app.routers.methods import install_allow
from app.scheduler.drafts import DraftPrefetchLoop
from app.scheduler.loop import DispatchLoop
from app.scheduler.metrics import DispatchMetrics
from app.scheduler.reconcile import ReconcileLoop
from app.scheduler.tick import Dispatcher
from app.services.drafts import DraftService
from app.services.users import UserCache
from app.settings import Settings, SettingsError, load_settings
from app.telegram.json_session import telegram_bot
from app.telegram.outbox import Outbox, OutboxSession
from app.telegram.response_models import hold_response_models
from app.telegram.sender import BotTransport, PacedMessages, Sender

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
    *,
    freeze_heap: bool = False,
) -> FastAPI:
    """Build the app. Tests pass their own clock and an already-open database.

    `freeze_heap` is for the server process (`app.main:app`): once started, it moves every
    object alive then (the pydantic models, SQLAlchemy's tables, the routes, the modules)
    out of the garbage collector's view. They live as long as the process anyway, and
    without this every full collection walks them all, stalling the event loop long enough
    to be the webhook's p99 (see BENCHMARKS.md, "Figures behind design choices"). Not in
    tests, which build many apps in one process and would keep each one's objects for
    good."""
    settings = settings if settings is not None else load_settings()
    clock = clock if clock is not None else SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        db = database if database is not None else Database.from_url(settings.database)
        container: Container | None = None
        polling: asyncio.Task[None] | None = None
        try:
            if settings.auto_migrate:
                # Imported here: alembic costs start-up time and memory, and a deploy that
                # migrates in a release step (AUTO_MIGRATE=false) never needs it.
                from app.db import migrate

                await migrate.upgrade(db)
            container = build_container(settings, clock, db)
            app.state.container = container
            if container.loop is not None:
                container.loop.start()
            if container.prefetch is not None:
                container.prefetch.start()
            if container.reconcile is not None:
                container.reconcile.start()
            polling = await start_bot(container)
            log.info(
                "started: database=%s mode=%s scheduler=%s",
                db.dialect,
                "local" if settings.local_mode else "telegram",
                "on" if container.loop is not None else "off",
            )
            log.info(
                "writer: %s",
                f"model {settings.llm_model}" if settings.llm_configured else "offline templates",
            )
            if freeze_heap:
                gc.collect()
                gc.freeze()
            yield
        finally:
            if container is not None:
                await stop_bot(container, polling)
                await container.background.close()
                if container.reconcile is not None:
                    await container.reconcile.stop()
                if container.prefetch is not None:
                    await container.prefetch.stop()
                if container.loop is not None:
                    await container.loop.stop()
                await container.drafts.close()
                await container.writer.close()
                if container.bot is not None:
                    await container.bot.session.close()
            if database is None:
                await db.dispose()

    app = FastAPI(
        title="Engagement Plan Executor",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    install_database_unavailable(app)
    install_request_validation_error(app)
    install_service_errors(app)
    install_allow(app)
    # Routes are matched in order: the webhook, the busiest path, is tried first.
    app.include_router(telegram.router)
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(leads.router)
    app.include_router(plans.router)
    app.include_router(reminders.router)
    app.include_router(internal.router)
    app.include_router(
        webapp.build_router(Path(settings.webapp_dist) if settings.webapp_dist else None)
    )
    if settings.local_mode:
        # Only without a token: none of /dev/* exists once a real bot is configured.
        app.include_router(dev.router)
    return app


def build_container(settings: Settings, clock: Clock, db: Database) -> Container:
    metrics = DispatchMetrics()
    outbox: Outbox | None = None
    if settings.telegram_bot_token is None:
        # Local mode: the same Bot, dispatcher and handlers, talking to an in-memory outbox.
        outbox = Outbox()
        bot = hold_response_models(
            Bot(settings.initdata_token, session=OutboxSession(outbox, clock))
        )
    else:
        bot = telegram_bot(
            settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base
        )
    transport = BotTransport(bot)
    sender = Sender(
        transport,
        clock,
        global_rate=settings.send_rate_global,
        per_chat_rate=settings.send_rate_per_chat,
        on_retry_after=lambda _seconds: metrics.retry_after.inc(),
    )
    # The handlers' replies go out through the same Bot: they take this sender's pacer too.
    bot.session.middleware(PacedMessages(sender))
    user_cache = UserCache()
    links = Links.from_settings(settings)
    dispatcher = Dispatcher(
        db=db,
        clock=clock,
        sender=sender,
        metrics=metrics,
        per_user_cap=settings.reminders_per_user_per_tick,
        links=links,
        user_cache=user_cache,
    )
    loop = (
        DispatchLoop(
            dispatcher,
            db,
            clock,
            max_sleep=settings.scheduler_max_sleep,
            database_url=settings.database,
        )
        if settings.scheduler_enabled
        else None
    )
    writer = build_writer(settings, clock)
    drafts = DraftService(db, clock, writer, wait=settings.llm_timeout)
    container = Container(
        settings=settings,
        clock=clock,
        db=db,
        metrics=metrics,
        links=links,
        dispatcher=dispatcher,
        writer=writer,
        drafts=drafts,
        prefetch=DraftPrefetchLoop(drafts) if settings.scheduler_enabled else None,
        reconcile=(
            ReconcileLoop(db, clock, interval=settings.reconcile_interval)
            if settings.scheduler_enabled and settings.reconcile_interval > 0
            else None
        ),
        outbox=outbox,
        bot=bot,
        loop=loop,
        user_cache=user_cache,
    )
    # No conversation states anywhere (every handler acts on one update), so no FSM
    # middleware resolving a context for each update.
    bot_dispatcher = BotDispatcher(disable_fsm=True)
    bot_dispatcher.include_router(bot_handlers.build_router())
    bot_dispatcher["container"] = container
    container.bot_dispatcher = bot_dispatcher
    return container


def build_writer(settings: Settings, clock: Clock) -> Writer:
    """The model when LLM_BASE_URL and LLM_MODEL are set; the offline writer regardless."""
    if settings.llm_base_url is None or settings.llm_model is None:
        return Writer(None)
    return Writer(
        LLMClient(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            timeout=settings.llm_timeout,
            max_concurrency=settings.llm_max_concurrency,
            clock=clock,
        )
    )


def _default_app() -> FastAPI:
    try:
        return create_app(freeze_heap=True)
    except SettingsError as exc:
        # A clear one-line reason beats a traceback when a deploy is misconfigured.
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


app = _default_app()
