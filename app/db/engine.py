"""Engine construction: one place that knows how each engine must be configured."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 5000
# Switching a new database file to WAL needs it to itself for a moment, and SQLite can
# answer "database is locked" to the switch while another connection holds the file:
# several replicas opening a fresh file together (seen in the migration race test, under
# load, with the busy timeout already set). The mode is stored in the file, so the switch
# is retried briefly, and is done once any connection has made it. A blocking sleep: this
# runs inside the driver's connect, only while a fresh file is being shared out.
_WAL_ATTEMPTS = 50
_WAL_RETRY_SECONDS = 0.02

# Execution option a read-only unit of work sets, so SQLite opens a deferred transaction
# instead of taking the write lock at BEGIN.
READ_ONLY_OPTION = "eplan_read_only"

# A statement's parameters are what people typed (names, notes, contexts). SQLAlchemy puts
# them into its exception messages, and those reach log lines; with this it says only
# that they were hidden.
HIDE_PARAMETERS = True


def create_engine(url: URL, *, echo: bool = False) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, echo=echo)
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=HIDE_PARAMETERS,
        pool_size=10,
        max_overflow=10,
        # No pre-ping: it costs three round trips per checkout. A connection that died with
        # the server fails its first statement, SQLAlchemy then drops the whole pool, and
        # the next unit of work connects afresh.
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"server_settings": {"application_name": "engagement-plan-executor"}},
    )


def _create_sqlite_engine(url: URL, *, echo: bool) -> AsyncEngine:
    database = url.database
    if database:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=HIDE_PARAMETERS,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=5,
        max_overflow=5,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver so BEGIN is ours to choose below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the lock at BEGIN: a deferred one that upgrades later can
        # fail with SQLITE_BUSY at once, without honouring the busy timeout.
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor: Any) -> None:
    for attempt in range(_WAL_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, through the async adapter
            if "locked" not in str(exc) or attempt + 1 == _WAL_ATTEMPTS:
                raise
        cursor.execute("PRAGMA journal_mode")
        row = cursor.fetchone()
        if row is not None and str(row[0]).lower() == "wal":
            return
        time.sleep(_WAL_RETRY_SECONDS)
