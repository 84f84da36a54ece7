"""One migration history for both engines: up to head, schema equals the code, down to base."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from app.db import migrate
from app.db.database import Database
from app.db.tables import metadata
from tests.conftest import ENGINES, PG_ADMIN_URL

APP_TABLES = {t.name for t in metadata.sorted_tables}


@pytest.fixture(params=ENGINES)
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[URL]:
    if request.param == "sqlite":
        yield make_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        return
    admin = make_url(PG_ADMIN_URL)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"eplan_mig_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    yield admin.set(database=name)
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def table_names(db: Database) -> set[str]:
    async with db.read() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def schema_diff(db: Database) -> list[object]:
    async with db.read() as conn:
        return await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), metadata
            )
        )


async def test_upgrade_to_head_then_down_to_base(empty_url: URL) -> None:
    db = Database.from_url(empty_url)
    try:
        assert await migrate.current_revision(db) is None
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
        assert await table_names(db) >= APP_TABLES
        assert await schema_diff(db) == []
        await migrate.downgrade(db, "base")
        assert await migrate.current_revision(db) is None
        assert await table_names(db) & APP_TABLES == set()
        # And back up again: downgrade left nothing behind that blocks a re-run.
        await migrate.upgrade(db)
        assert await schema_diff(db) == []
    finally:
        await db.dispose()


async def test_upgrade_twice_is_a_no_op(empty_url: URL) -> None:
    db = Database.from_url(empty_url)
    try:
        await migrate.upgrade(db)
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
    finally:
        await db.dispose()


async def test_replicas_starting_together_migrate_once(empty_url: URL) -> None:
    """Four "replicas" race to migrate the same empty database; all must succeed."""
    replicas = [Database.from_url(empty_url) for _ in range(4)]
    try:
        # Every replica runs to its end before any is disposed, and the first failure, if
        # any, is the one reported.
        outcomes = await asyncio.gather(
            *(migrate.upgrade(db) for db in replicas), return_exceptions=True
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]
        assert await migrate.current_revision(replicas[0]) == migrate.head_revision()
        assert await schema_diff(replicas[0]) == []
    finally:
        for db in replicas:
            await db.dispose()


def test_migrate_command(empty_url: URL) -> None:
    env = {**os.environ, "DATABASE_URL": empty_url.render_as_string(hide_password=False)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    up = run("migrate")
    assert up.returncode == 0, up.stderr
    assert f"database at {migrate.head_revision()}" in up.stdout
    assert run("current").stdout.strip() == migrate.head_revision()
    down = run("downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert run("current").stdout.strip() == "empty"
