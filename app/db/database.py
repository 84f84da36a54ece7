"""The database handle and the one transaction helper every unit of work goes through."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.engine import READ_ONLY_OPTION, SQLITE_BUSY_TIMEOUT_MS, create_engine

AFTER_COMMIT = "eplan_after_commit"

# How long a health probe waits for SQLite's write lock: under the health check's 2 s.
SQLITE_WRITE_PROBE_SECONDS = 1.5


def after_commit(conn: AsyncConnection, callback: Callable[[], None]) -> None:
    """Run `callback` when the transaction `conn` is in commits (never if it rolls back)."""
    conn.info.setdefault(AFTER_COMMIT, []).append(callback)


class Database:
    """Owns the engine. Services open units of work here; repositories only receive them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writer: asyncio.Lock | None = None
        self._writer_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_url(cls, url: URL, *, echo: bool = False) -> Database:
        return cls(create_engine(url, echo=echo))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        Callbacks registered with `after_commit` run once the commit succeeded.
        """
        if self.is_postgres:
            async with self._transaction() as conn:
                yield conn
            return
        async with self._sqlite_writer(), self._transaction() as conn:
            yield conn

    @asynccontextmanager
    async def _sqlite_writer(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time. This process's writers queue here, in order,
        instead of each polling SQLite's lock through the busy handler, whose growing
        sleeps (up to 100 ms each) gave concurrent writers a long tail of waits and left
        the lock idle between sleeps (see BENCHMARKS.md, "Figures behind design choices").
        Writers in other processes still meet the busy timeout at BEGIN IMMEDIATE; a writer
        of this process waits as long, then fails the same way."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer_loop is not loop:
            self._writer, self._writer_loop = asyncio.Lock(), loop
        lock = self._writer
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await lock.acquire()
        except TimeoutError:
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            ) from None
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            try:
                async with conn.begin():
                    yield conn
            except BaseException:
                conn.info.pop(AFTER_COMMIT, None)
                raise
            for callback in conn.info.pop(AFTER_COMMIT, []):
                callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only unit of work: a consistent snapshot that takes no write lock."""
        async with self.engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY_OPTION: True})
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def single_read(self) -> AsyncIterator[AsyncConnection]:
        """For exactly one SELECT: on PostgreSQL it runs in autocommit, saving the BEGIN and
        COMMIT round trips a transaction costs (one statement is consistent on its own)."""
        async with self._single_statement(self.read) as conn:
            yield conn

    @asynccontextmanager
    async def single_write(self) -> AsyncIterator[AsyncConnection]:
        """For exactly one statement that writes: on PostgreSQL in autocommit (the statement
        is atomic on its own, and commits as it returns), one round trip instead of three;
        on SQLite a transaction as usual."""
        async with self._single_statement(self.transaction) as conn:
            yield conn

    @asynccontextmanager
    async def _single_statement(
        self, otherwise: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    ) -> AsyncIterator[AsyncConnection]:
        if not self.is_postgres:
            async with otherwise() as conn:
                yield conn
            return
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    async def ping(self) -> None:
        """Raises unless the database answers and, on SQLite, can take a write.

        In WAL mode reads go on while another connection holds SQLite's write lock, but
        nothing can be recorded: no press, no reminder. Healthy means able to do the work,
        so the probe also takes the write lock (and gives it back at once), on a connection
        of its own with a short timeout, leaving the pool's connections as they are."""
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))
        path = self.engine.url.database
        if not self.is_postgres and path and path != ":memory:":
            await asyncio.to_thread(_sqlite_write_probe, path, SQLITE_WRITE_PROBE_SECONDS)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_write_probe(path: str, timeout: float) -> None:
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()
