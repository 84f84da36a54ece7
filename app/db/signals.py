"""Waking the dispatch loop when a schedule changes, in this process and across replicas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.functions import FunctionElement

from app.db.database import after_commit

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
