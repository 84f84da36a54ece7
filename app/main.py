"""The application factory and its lifespan. Wiring only: no logic lives here."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.clock import Clock, SystemClock
from app.container import Container
from app.db import migrate
from app.db.database import Database
from app.logs import configure_logging
from app.routers import health, leads, me, plans, reminders
from app.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own clock and an already-open database."""
    settings = settings if settings is not None else load_settings()
    clock = clock if clock is not None else SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        db = database if database is not None else Database.from_url(settings.database)
        try:
            if settings.auto_migrate:
                await migrate.upgrade(db)
            app.state.container = Container(settings=settings, clock=clock, db=db)
            log.info(
                "started: database=%s mode=%s",
                db.dialect,
                "local" if settings.local_mode else "telegram",
            )
            yield
        finally:
            if database is None:
                await db.dispose()

    app = FastAPI(
        title="Engagement Plan Executor",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(leads.router)
    app.include_router(plans.router)
    app.include_router(reminders.router)
    return app


def _default_app() -> FastAPI:
    try:
        return create_app()
    except SettingsError as exc:
        # A clear one-line reason beats a traceback when a deploy is misconfigured.
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


app = _default_app()
