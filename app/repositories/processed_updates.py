"""Telegram update ids already handled: a redelivered update is acknowledged and ignored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import processed_updates


async def remember(conn: AsyncConnection, update_id: int, now: datetime) -> bool:
    """True the first time an update id is seen, False for a redelivery."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(processed_updates)
        .values(update_id=update_id, processed_at=now)
        .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
        .returning(processed_updates.c.update_id)
    )
    return (await conn.execute(stmt)).first() is not None


async def forget_before(conn: AsyncConnection, moment: datetime) -> int:
    result = await conn.execute(
        delete(processed_updates).where(processed_updates.c.processed_at < moment)
    )
    return result.rowcount or 0
