"""Applying migrations: at start-up, from `python -m app migrate`, or from the alembic CLI.

Every path takes the same lock, so replicas starting at the same moment apply each
migration once: on PostgreSQL a transaction-scoped advisory lock, on SQLite the write lock
that BEGIN IMMEDIATE takes. The whole upgrade is one transaction on both engines (their DDL
is transactional), so a crash half-way leaves the schema as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
# An arbitrary constant every replica agrees on ("eplan" in ASCII).
MIGRATION_LOCK_KEY = 0x65706C616E


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _locked(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.transaction() as conn:
        await _locked(conn)
        await conn.run_sync(_run_command, "upgrade", revision)
    log.info("database at migration %s", await current_revision(db))


async def downgrade(db: Database, revision: str) -> None:
    async with db.transaction() as conn:
        await _locked(conn)
        await conn.run_sync(_run_command, "downgrade", revision)


async def current_revision(db: Database) -> str | None:
    async with db.read() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def _run_command(connection: Connection, name: str, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    getattr(command, name)(cfg, revision)


async def run_alembic_standalone(cfg: Config, run: Callable[[Connection], None]) -> None:
    from app.settings import load_settings

    db = Database.from_url(load_settings().database)
    try:
        async with db.transaction() as conn:
            await _locked(conn)
            await conn.run_sync(run)
    finally:
        await db.dispose()
