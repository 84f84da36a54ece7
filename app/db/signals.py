"""Waking the dispatch loop when a schedule changes, in this process and across replicas:
both ends, the NOTIFY a transaction sends and the LISTEN a loop keeps open."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import func, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.functions import FunctionElement

from app.db.database import after_commit

log = logging.getLogger(__name__)

WAKE_CHANNEL = "eplan_wake"


class WakeSignal:
    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def fire(self) -> None:
        for listener in list(self._listeners):
            listener()


# Process-wide: every dispatch loop in this process listens; a wake is only a hint to look.
wake_signal = WakeSignal()


async def schedule_changed(conn: AsyncConnection) -> None:
    """Call inside a transaction that created or re-dated reminders. Loops in this process
    wake once it commits; on PostgreSQL, NOTIFY (delivered at commit) wakes other replicas."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
    wake_after_commit(conn)


def wake_after_commit(conn: AsyncConnection) -> None:
    """The in-process half of schedule_changed, for a caller that sends its NOTIFY as part
    of another statement (`notify_call`)."""
    after_commit(conn, wake_signal.fire)


def notify_call() -> FunctionElement[Any]:
    """`pg_notify` on the wake channel, as an expression (PostgreSQL only)."""
    return func.pg_notify(WAKE_CHANNEL, "")


def asyncpg_dsn(url: URL) -> str:
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


class WakeListener:
    """LISTEN on the wake channel (PostgreSQL only): `on_wake` runs for every NOTIFY, from
    this replica or another. A connection of its own, outside the pool, since a listening
    connection must stay open and idle."""

    def __init__(self, database_url: URL, on_wake: Callable[[], None]) -> None:
        self.database_url = database_url
        self.on_wake = on_wake
        self._conn: Any = None

    async def ensure(self) -> None:
        """Listening from now on if the database can be reached; if not, the next call
        tries again (the caller runs on its own timer meanwhile)."""
        if self._conn is not None and not self._conn.is_closed():
            return
        try:
            self._conn = await asyncpg.connect(asyncpg_dsn(self.database_url), timeout=5)
            await self._conn.add_listener(WAKE_CHANNEL, self._on_notify)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("LISTEN %s unavailable: %s", WAKE_CHANNEL, type(exc).__name__)
            self._conn = None

    def _on_notify(self, *_args: object) -> None:
        self.on_wake()

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
