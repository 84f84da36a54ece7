"""Storage rules every later feature relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Insert, func, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from app.db.database import Database
from app.db.tables import lead_activity_log, lead_registry, scheduled_reminders, users

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def step_one_reminder(lead_id: int, telegram_id: int) -> Insert:
    return insert(scheduled_reminders).values(
        lead_id=lead_id,
        telegram_id=telegram_id,
        step_id=1,
        due_at=NOW,
        planned_due_at=NOW,
        next_action_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


async def seed_lead(db: Database, telegram_id: int = 1) -> int:
    async with db.transaction() as conn:
        await conn.execute(
            insert(users).values(
                telegram_id=telegram_id, first_name="A", created_at=NOW, updated_at=NOW
            )
        )
        lead_id: int = (
            await conn.execute(
                insert(lead_registry)
                .values(
                    telegram_id=telegram_id,
                    name="Lead",
                    engagement_plan=[{"step_id": 1, "description": "Say hi"}],
                    created_at=NOW,
                    updated_at=NOW,
                )
                .returning(lead_registry.c.id)
            )
        ).scalar_one()
        await conn.execute(step_one_reminder(lead_id, telegram_id))
        await conn.execute(
            insert(lead_activity_log).values(
                lead_id=lead_id,
                telegram_id=telegram_id,
                activity_type="plan_activated",
                created_at=NOW,
            )
        )
    return lead_id


async def count(db: Database, table: object) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_deleting_a_lead_cascades(db: Database) -> None:
    lead_id = await seed_lead(db)
    async with db.transaction() as conn:
        await conn.execute(lead_registry.delete().where(lead_registry.c.id == lead_id))
    assert await count(db, scheduled_reminders) == 0
    assert await count(db, lead_activity_log) == 0


async def test_deleting_a_user_cascades(db: Database) -> None:
    await seed_lead(db)
    async with db.transaction() as conn:
        await conn.execute(users.delete())
    assert await count(db, lead_registry) == 0
    assert await count(db, scheduled_reminders) == 0


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                insert(lead_registry).values(
                    telegram_id=999, name="orphan", created_at=NOW, updated_at=NOW
                )
            )


async def test_one_reminder_per_step(db: Database) -> None:
    lead_id = await seed_lead(db)
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(step_one_reminder(lead_id, 1))


async def test_unknown_status_is_refused(db: Database) -> None:
    await seed_lead(db)
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(scheduled_reminders.update().values(status="forgotten"))


async def test_transaction_rolls_back_as_a_whole(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                insert(users).values(telegram_id=5, first_name="A", created_at=NOW, updated_at=NOW)
            )
            raise RuntimeError("boom")
    assert await count(db, users) == 0


async def test_plan_json_round_trips(db: Database) -> None:
    lead_id = await seed_lead(db)
    plan = [{"step_id": 1, "description": 'Привет 👋 "quoted"', "delay_days": 0}]
    async with db.transaction() as conn:
        await conn.execute(
            lead_registry.update().where(lead_registry.c.id == lead_id).values(engagement_plan=plan)
        )
    async with db.read() as conn:
        stored = (await conn.execute(select(lead_registry.c.engagement_plan))).scalar_one()
    assert stored == plan


async def test_datetimes_come_back_aware_utc(db: Database) -> None:
    await seed_lead(db)
    berlin = datetime(2026, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction() as conn:
        await conn.execute(scheduled_reminders.update().values(due_at=berlin))
    async with db.read() as conn:
        due = (await conn.execute(select(scheduled_reminders.c.due_at))).scalar_one()
        earlier = (
            await conn.execute(
                select(func.count())
                .select_from(scheduled_reminders)
                .where(scheduled_reminders.c.due_at < datetime(2026, 7, 1, 7, 1, tzinfo=UTC))
            )
        ).scalar_one()
    assert due == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert due.tzinfo is not None
    assert due.utcoffset() == timedelta(0)
    assert earlier == 1  # compared as instants, not as text in another offset


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive"):
        async with db.transaction() as conn:
            await conn.execute(
                insert(users).values(
                    telegram_id=6,
                    first_name="A",
                    created_at=datetime(2026, 1, 1),
                    updated_at=NOW,
                )
            )


async def test_sqlite_runs_in_wal_with_a_busy_timeout(db: Database) -> None:
    if db.is_postgres:
        pytest.skip("SQLite pragmas")
    async with db.read() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000


async def test_due_index_is_partial(db: Database) -> None:
    async with db.read() as conn:
        if db.is_postgres:
            definition = (
                await conn.execute(
                    text(
                        "SELECT indexdef FROM pg_indexes "
                        "WHERE indexname = 'ix_scheduled_reminders_due_open'"
                    )
                )
            ).scalar_one()
        else:
            definition = (
                await conn.execute(
                    text(
                        "SELECT sql FROM sqlite_master "
                        "WHERE name = 'ix_scheduled_reminders_due_open'"
                    )
                )
            ).scalar_one()
    assert "WHERE" in definition.upper()
    assert "pending" in definition


async def test_writers_wait_for_each_other_instead_of_failing(db: Database) -> None:
    """Two write transactions at once: the second waits for the first (busy timeout on
    SQLite, row locks on PostgreSQL) rather than erroring."""
    import asyncio

    await seed_lead(db)

    async def bump(delay: float) -> None:
        async with db.transaction() as conn:
            await conn.execute(
                scheduled_reminders.update().values(
                    reminder_count=scheduled_reminders.c.reminder_count + 1
                )
            )
            await asyncio.sleep(delay)

    await asyncio.gather(bump(0.2), bump(0.0), bump(0.1))
    async with db.read() as conn:
        total = (await conn.execute(select(scheduled_reminders.c.reminder_count))).scalar_one()
    assert total == 3
