"""Fixtures shared by every test: both database engines, an app client, a movable clock.

Every storage-touching test runs twice, on SQLite and on the real PostgreSQL of this
machine. Each engine gets one throw-away database per run, built by the migrations
themselves, and every test starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from app.clock import ManualClock
from app.db import migrate
from app.db.database import Database
from app.db.tables import metadata
from app.main import create_app
from app.settings import Settings
from tests.support import initdata

ENGINES = [e.strip() for e in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",")]
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, inside default working hours


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[URL]:
    admin = make_url(PG_ADMIN_URL)
    name = f"eplan_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(admin), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {admin.render_as_string()} ({exc}). Start it, "
            "set TEST_POSTGRES_URL, or run with TEST_DATABASES=sqlite to skip it."
        )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = admin.set(database=name)
    db = Database.from_url(url)
    await migrate.upgrade(db)
    await db.dispose()
    yield url
    conn = await asyncpg.connect(_asyncpg_dsn(admin), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> URL:
    path = tmp_path_factory.mktemp("sqlite") / "test.db"
    url = make_url(f"sqlite+aiosqlite:///{path}")
    db = Database.from_url(url)
    await migrate.upgrade(db)
    await db.dispose()
    return url


_databases: dict[str, Database] = {}


async def clean(db: Database) -> None:
    """Every table emptied: each test starts from nothing."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with db.transaction() as conn:
        if db.is_postgres:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest) -> URL:
    engine = request.param
    if engine == "sqlite":
        url: URL = request.getfixturevalue("sqlite_url")
    elif engine == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        raise ValueError(f"unknown engine in TEST_DATABASES: {engine}")
    return url


@pytest.fixture
async def db(db_url: URL) -> Database:
    key = db_url.render_as_string(hide_password=False)
    if key not in _databases:
        _databases[key] = Database.from_url(db_url)
    database = _databases[key]
    await clean(database)
    return database


@pytest.fixture(scope="session", autouse=True)
async def _dispose_databases() -> AsyncIterator[None]:
    yield
    for database in _databases.values():
        await database.dispose()
    _databases.clear()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def make_settings(db_url: URL) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": db_url.render_as_string(hide_password=False),
            "telegram_bot_token": initdata.TEST_BOT_TOKEN,
            # Nothing listens on port 9: a test that forgets its fake fails fast, offline.
            "telegram_api_base": "http://127.0.0.1:9",
            "auto_migrate": False,
            "scheduler_enabled": False,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def client(
    settings: Settings, clock: ManualClock, db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
def auth(clock: ManualClock) -> Callable[..., dict[str, str]]:
    """Headers for a TMA request signed for the test bot, as of the test clock's now."""

    def headers(telegram_id: int = 1001, **user: Any) -> dict[str, str]:
        raw = initdata.sign(
            user=initdata.default_user(telegram_id, **user),
            auth_date=int(clock.now().timestamp()),
        )
        return {"Authorization": f"tma {raw}"}

    return headers


def tests_root() -> Path:
    return Path(__file__).parent
