"""Telegram's update ids already handled, so a redelivered update is acknowledged and not
handled twice; and forgetting them once Telegram can no longer redeliver."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.db.database import Database
from app.repositories import processed_updates

# Telegram redelivers for at most about a day; a week is a generous bound.
REMEMBER_UPDATES_FOR = timedelta(days=7)
# Update ids rise one by one, so this prunes about once per PRUNE_EVERY updates, without
# a timer or a count to keep.
PRUNE_EVERY = 1000


async def first_delivery(db: Database, update_id: int, now: datetime) -> bool:
    """Remembers `update_id`: True the first time it arrives, False for a redelivery."""
    async with db.single_write() as conn:
        first_time = await processed_updates.remember(conn, update_id, now)
    if update_id % PRUNE_EVERY == 0:
        async with db.single_write() as conn:
            await processed_updates.forget_before(conn, now - REMEMBER_UPDATES_FOR)
    return first_time
