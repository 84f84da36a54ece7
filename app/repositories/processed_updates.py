"""Telegram update ids already handled: a redelivered update is acknowledged and ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import processed_updates


def _remember_statement(insert: Any) -> Any:
    return (
        insert(processed_updates)
        .values(
            update_id=bindparam("p_update_id"),
            processed_at=bindparam("p_now", type_=processed_updates.c.processed_at.type),
        )
        .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
        .returning(processed_updates.c.update_id)
    )


# Built once per dialect: it runs on every webhook update, and a reused statement object
# keeps its memoized cache key.
_REMEMBER = {
    "postgresql": _remember_statement(postgresql.insert),
    "sqlite": _remember_statement(sqlite.insert),
}


async def remember(conn: AsyncConnection, update_id: int, now: datetime) -> bool:
    """True the first time an update id is seen, False for a redelivery."""
    params = {"p_update_id": update_id, "p_now": now}
    return (await conn.execute(_REMEMBER[conn.dialect.name], params)).first() is not None


async def forget_before(conn: AsyncConnection, moment: datetime) -> int:
    result = await conn.execute(
        delete(processed_updates).where(processed_updates.c.processed_at < moment)
    )
    return result.rowcount or 0
