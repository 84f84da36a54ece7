"""Waking the dispatch loop when a schedule changes, in this process and across replicas."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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
    after_commit(conn, wake_signal.fire)
