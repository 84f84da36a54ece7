"""SQL for scheduled_reminders. Receives a connection; never opens or commits a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Row,
    Update,
    cast,
    column,
    func,
    insert,
    select,
    update,
    values,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import scheduled_reminders as sr
from app.db.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    lead_id: int
    telegram_id: int
    step_id: int
    position: int
    due_at: datetime
    planned_due_at: datetime
    status: str
    nudge_stage: int
    next_action_at: datetime
    snooze_count: int
    reminder_count: int
    last_reminded_at: datetime | None
    message_id: int | None
    draft_text: str | None
    draft_source: str | None
    draft_generated_at: datetime | None
    completed_at: datetime | None
    claimed_by: str | None
    claimed_until: datetime | None
    created_at: datetime
    updated_at: datetime


# Rows come from select(sr), whose columns are the table's in order; building the dataclass
# positionally is several times faster than by name, which GET /plans feels with 600 rows.
if tuple(c.name for c in sr.c) != Reminder.__slots__:
    raise RuntimeError("Reminder's fields must mirror scheduled_reminders' columns, in order")


def to_reminder(row: Row[Any]) -> Reminder:
    return Reminder(*row)  # type: ignore[call-arg]


async def for_lead(conn: AsyncConnection, lead_id: int) -> list[Reminder]:
    stmt = select(sr).where(sr.c.lead_id == lead_id).order_by(sr.c.position, sr.c.step_id)
    return [to_reminder(r) for r in await conn.execute(stmt)]


async def for_user(conn: AsyncConnection, telegram_id: int) -> list[Reminder]:
    stmt = select(sr).where(sr.c.telegram_id == telegram_id).order_by(sr.c.lead_id, sr.c.position)
    return [to_reminder(r) for r in await conn.execute(stmt)]


async def get_owned(conn: AsyncConnection, reminder_id: int, telegram_id: int) -> Reminder | None:
    stmt = select(sr).where(sr.c.id == reminder_id, sr.c.telegram_id == telegram_id)
    row = (await conn.execute(stmt)).first()
    return to_reminder(row) if row is not None else None


async def insert_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(sr), rows)


def update_statement(reminder_id: int, values: dict[str, Any]) -> Update:
    return update(sr).where(sr.c.id == reminder_id).values(**values)


async def update_one(conn: AsyncConnection, reminder_id: int, values: dict[str, Any]) -> None:
    await conn.execute(update_statement(reminder_id, values))


async def update_many(conn: AsyncConnection, changes: list[tuple[int, dict[str, Any]]]) -> None:
    for reminder_id, change in changes:
        await update_one(conn, reminder_id, change)


@dataclass(frozen=True, slots=True)
class ReminderRecord:
    """One claimed reminder whose message went out: where its ladder goes next."""

    reminder_id: int
    stage_before: int
    stage_after: int
    next_action_at: datetime
    message_id: int | None


async def record_reminded(
    conn: AsyncConnection, *, worker: str, records: list[ReminderRecord], now: datetime
) -> set[int]:
    """Move claimed reminders up their ladder in one statement, where the claim and the
    state each was claimed in still hold; returns the ids that moved.

    One UPDATE ... FROM a VALUES list instead of one UPDATE per row: a pass records up to
    a claim batch at a time, and per-row statements were most of its database time.
    """
    if not records:
        return set()
    batch = (
        values(
            column("id", BigInteger),
            column("stage_before", Integer),
            column("stage_after", Integer),
            column("next_action_at", UTCDateTime()),
            column("message_id", BigInteger),
            name="delivered",
        )
        .data(
            [
                (r.reminder_id, r.stage_before, r.stage_after, r.next_action_at, r.message_id)
                for r in records
            ]
        )
        .cte("delivered")
    )
    stmt = (
        update(sr)
        .where(
            sr.c.id == batch.c.id,
            sr.c.claimed_by == worker,
            sr.c.status.in_(("pending", "sent", "auto_snoozed")),
            sr.c.nudge_stage == batch.c.stage_before,
        )
        .values(
            status="sent",
            nudge_stage=batch.c.stage_after,
            next_action_at=batch.c.next_action_at,
            reminder_count=sr.c.reminder_count + 1,
            last_reminded_at=now,
            message_id=func.coalesce(cast(batch.c.message_id, BigInteger), sr.c.message_id),
            claimed_by=None,
            claimed_until=None,
            updated_at=now,
        )
        .returning(sr.c.id)
    )
    return {row[0] for row in await conn.execute(stmt)}


async def by_ids(conn: AsyncConnection, ids: list[int]) -> list[Reminder]:
    if not ids:
        return []
    return [to_reminder(r) for r in await conn.execute(select(sr).where(sr.c.id.in_(ids)))]


async def by_message(conn: AsyncConnection, telegram_id: int, message_id: int) -> Reminder | None:
    """The reminder whose latest Telegram message is `message_id` in this user's chat."""
    row = (
        await conn.execute(
            select(sr).where(sr.c.telegram_id == telegram_id, sr.c.message_id == message_id)
        )
    ).first()
    return to_reminder(row) if row is not None else None


async def get(conn: AsyncConnection, reminder_id: int) -> Reminder | None:
    row = (await conn.execute(select(sr).where(sr.c.id == reminder_id))).first()
    return to_reminder(row) if row is not None else None


async def open_acting_before(conn: AsyncConnection, until: datetime, limit: int) -> list[Reminder]:
    """Open reminders whose next action (reminder or nudge) comes before `until`."""
    stmt = (
        select(sr)
        .where(sr.c.status.in_(("pending", "sent", "auto_snoozed")), sr.c.next_action_at <= until)
        .order_by(sr.c.next_action_at)
        .limit(limit)
    )
    return [to_reminder(r) for r in await conn.execute(stmt)]


async def store_draft(
    conn: AsyncConnection,
    reminder_id: int,
    *,
    text: str,
    source: str,
    generated_at: datetime,
    expected_generated_at: datetime | None,
) -> bool:
    """Write a draft only if nobody wrote one since we read the row (compare-and-set), so
    replicas generating the same draft at once cannot overwrite a newer one."""
    unchanged = (
        sr.c.draft_generated_at.is_(None)
        if expected_generated_at is None
        else sr.c.draft_generated_at == expected_generated_at
    )
    result = await conn.execute(
        update(sr)
        .where(sr.c.id == reminder_id, unchanged)
        .values(draft_text=text, draft_source=source, draft_generated_at=generated_at)
    )
    return (result.rowcount or 0) == 1
