"""Update de-duplication: a redelivery is recognised, and ids Telegram can no longer
redeliver are forgotten on the pruning beat."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import processed_updates
from app.services import updates as updates_service
from app.services.updates import PRUNE_EVERY, REMEMBER_UPDATES_FOR


async def _stored(db: Database) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(processed_updates.c.update_id).order_by(processed_updates.c.update_id)
        )
        return list(rows.scalars())


async def test_a_redelivered_update_is_not_a_first_delivery(
    db: Database, clock: ManualClock
) -> None:
    assert await updates_service.first_delivery(db, 7, clock.now()) is True
    assert await updates_service.first_delivery(db, 7, clock.now()) is False
    assert await updates_service.first_delivery(db, 8, clock.now()) is True
    assert await _stored(db) == [7, 8]


async def test_old_ids_are_forgotten_on_the_pruning_beat_only(
    db: Database, clock: ManualClock
) -> None:
    old = clock.now()
    await updates_service.first_delivery(db, 1, old)
    later = old + REMEMBER_UPDATES_FOR + timedelta(seconds=1)
    # Not on the beat: the week-old id stays.
    await updates_service.first_delivery(db, PRUNE_EVERY + 1, later)
    assert await _stored(db) == [1, PRUNE_EVERY + 1]
    # On the beat: it goes, and nothing younger than the bound with it.
    await updates_service.first_delivery(db, 2 * PRUNE_EVERY, later)
    assert await _stored(db) == [PRUNE_EVERY + 1, 2 * PRUNE_EVERY]


async def test_an_id_younger_than_the_bound_survives_pruning(
    db: Database, clock: ManualClock
) -> None:
    start = clock.now()
    await updates_service.first_delivery(db, 1, start)
    await updates_service.first_delivery(db, PRUNE_EVERY, start + REMEMBER_UPDATES_FOR)
    assert await _stored(db) == [1, PRUNE_EVERY]
