"""SQL for scheduled_reminders. Receives a connection; never opens or commits a transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Row,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import lead_activity_log as log_table
from app.db.tables import scheduled_reminders as sr
from app.db.types import UTCDateTime
from app.domain.plans import OPEN_STATUSES, ReminderStatus
from app.repositories import activity as activity_repo
from app.repositories.activity import NewActivity


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    lead_id: int
    telegram_id: int
    step_id: int
    position: int
    due_at: datetime
    planned_due_at: datetime
    status: ReminderStatus
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
# positionally is faster than by name, which GET /plans feels with 600 rows (BENCHMARKS.md,
# "Figures behind design choices").
if tuple(c.name for c in sr.c) != Reminder.__slots__:
    raise RuntimeError("Reminder's fields must mirror scheduled_reminders' columns, in order")


def to_reminder(row: Row[Any]) -> Reminder:
    return Reminder(*row)  # type: ignore[call-arg]


# Built once (see users_repo._GET): every step transition reads its lead's reminders.
_FOR_LEAD = (
    select(sr).where(sr.c.lead_id == bindparam("p_lead_id")).order_by(sr.c.position, sr.c.step_id)
)


async def for_lead(conn: AsyncConnection, lead_id: int) -> list[Reminder]:
    return [to_reminder(r) for r in await conn.execute(_FOR_LEAD, {"p_lead_id": lead_id})]


async def steps_of_leads(
    conn: AsyncConnection, after_lead: int, last_lead: int
) -> dict[int, dict[int, tuple[ReminderStatus, int]]]:
    """lead id → step id → (status, position) of the leads after_lead < id <= last_lead."""
    rows = await conn.execute(
        select(sr.c.lead_id, sr.c.step_id, sr.c.status, sr.c.position).where(
            sr.c.lead_id > after_lead, sr.c.lead_id <= last_lead
        )
    )
    found: dict[int, dict[int, tuple[ReminderStatus, int]]] = {}
    for lead_id, step_id, status, position in rows:
        found.setdefault(lead_id, {})[step_id] = (status, position)
    return found


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


async def update_one(conn: AsyncConnection, reminder_id: int, values: dict[str, Any]) -> None:
    await conn.execute(update(sr).where(sr.c.id == reminder_id).values(**values))


async def update_many(conn: AsyncConnection, changes: list[tuple[int, dict[str, Any]]]) -> None:
    for reminder_id, change in changes:
        await update_one(conn, reminder_id, change)


def _recorded_values(stage_after: Any, next_action_at: Any, message_id: Any) -> dict[str, Any]:
    return {
        "status": "sent",
        "nudge_stage": stage_after,
        "next_action_at": next_action_at,
        "reminder_count": sr.c.reminder_count + 1,
        "last_reminded_at": bindparam("p_now", type_=UTCDateTime()),
        "message_id": func.coalesce(message_id, sr.c.message_id),
        "claimed_by": None,
        "claimed_until": None,
        "updated_at": bindparam("p_now", type_=UTCDateTime()),
    }


def _still_claimed(stage_before: Any) -> list[Any]:
    return [
        sr.c.claimed_by == bindparam("p_worker"),
        sr.c.status.in_(OPEN_STATUSES),
        sr.c.nudge_stage == stage_before,
    ]


# Both statements are built once with bound parameters, so SQLAlchemy compiles each once: a
# VALUES list of literal rows is compiled anew on every call (see BENCHMARKS.md, "Figures
# behind design choices"), and the dispatcher records every 16 messages.
# PostgreSQL: the whole batch in one statement, joined to the arrays it arrives as: the
# reminders that still hold their claim move up the ladder, and the activity entries of
# exactly those are logged, in one round trip (run alone, it commits as it returns).
_delivered = select(
    func.unnest(
        bindparam("p_ids", type_=postgresql.ARRAY(BigInteger)),
        bindparam("p_before", type_=postgresql.ARRAY(Integer)),
        bindparam("p_after", type_=postgresql.ARRAY(Integer)),
        bindparam("p_next", type_=postgresql.ARRAY(DateTime(timezone=True))),
        bindparam("p_messages", type_=postgresql.ARRAY(BigInteger)),
        bindparam("p_lead_ids", type_=postgresql.ARRAY(BigInteger)),
        bindparam("p_telegram_ids", type_=postgresql.ARRAY(BigInteger)),
        bindparam("p_step_ids", type_=postgresql.ARRAY(Integer)),
        bindparam("p_types", type_=postgresql.ARRAY(Text)),
        bindparam("p_details", type_=postgresql.ARRAY(Text)),
        bindparam("p_logged_at", type_=postgresql.ARRAY(DateTime(timezone=True))),
    )
    .table_valued(
        "id",
        "stage_before",
        "stage_after",
        "next_action_at",
        "message_id",
        "lead_id",
        "telegram_id",
        "step_id",
        "activity_type",
        "details",
        "logged_at",
    )
    .render_derived(name="rows")
).cte("delivered")
_moved = (
    update(sr)
    .where(sr.c.id == _delivered.c.id, *_still_claimed(_delivered.c.stage_before))
    .values(
        **_recorded_values(
            _delivered.c.stage_after, _delivered.c.next_action_at, _delivered.c.message_id
        )
    )
    .returning(sr.c.id)
    .cte("moved")
)
_logged = (
    insert(log_table)
    .from_select(
        # A delivery is the dispatcher's, never a person's action: nothing to undo.
        ["lead_id", "telegram_id", "step_id", "activity_type", "details", "created_at"],
        select(
            _delivered.c.lead_id,
            _delivered.c.telegram_id,
            _delivered.c.step_id,
            _delivered.c.activity_type,
            cast(_delivered.c.details, postgresql.JSONB),
            _delivered.c.logged_at,
        )
        .join_from(_delivered, _moved, _moved.c.id == _delivered.c.id)
        .where(_delivered.c.activity_type.is_not(None)),
    )
    .cte("logged")
)
_RECORD_BATCH = select(_moved.c.id).add_cte(_delivered, _moved, _logged)
# SQLite (no arrays, and in-process, so a statement per row costs no round trip).
_RECORD_ONE = (
    update(sr)
    .where(sr.c.id == bindparam("p_id"), *_still_claimed(bindparam("p_before")))
    .values(
        **_recorded_values(
            bindparam("p_after"),
            bindparam("p_next", type_=UTCDateTime()),
            bindparam("p_message", type_=BigInteger()),
        )
    )
    .returning(sr.c.id)
)


@dataclass(frozen=True, slots=True)
class ReminderRecord:
    """One claimed reminder whose message went out: where its ladder goes next, and what
    the activity log says of it (only if it moves)."""

    reminder_id: int
    stage_before: int
    stage_after: int
    next_action_at: datetime
    message_id: int | None
    activity: NewActivity | None = None


async def record_reminded(
    conn: AsyncConnection, *, worker: str, records: list[ReminderRecord], now: datetime
) -> set[int]:
    """Move claimed reminders up their ladder, where the claim and the state each was
    claimed in still hold, and log the activity of those that moved; returns their ids.

    On PostgreSQL one statement, atomic on its own: the caller need not open a
    transaction."""
    if not records:
        return set()
    if conn.dialect.name == "postgresql":
        logged = [activity_repo.row(r.activity) if r.activity else None for r in records]
        rows = await conn.execute(
            _RECORD_BATCH,
            {
                "p_worker": worker,
                "p_now": now,
                "p_ids": [r.reminder_id for r in records],
                "p_before": [r.stage_before for r in records],
                "p_after": [r.stage_after for r in records],
                "p_next": [r.next_action_at for r in records],
                "p_messages": [r.message_id for r in records],
                "p_lead_ids": [e and e["lead_id"] for e in logged],
                "p_telegram_ids": [e and e["telegram_id"] for e in logged],
                "p_step_ids": [e and e["step_id"] for e in logged],
                "p_types": [e and e["activity_type"] for e in logged],
                "p_details": [e and json.dumps(e["details"]) for e in logged],
                "p_logged_at": [e and e["created_at"] for e in logged],
            },
        )
        return {row[0] for row in rows}
    moved: set[int] = set()
    for r in records:
        row = (
            await conn.execute(
                _RECORD_ONE,
                {
                    "p_worker": worker,
                    "p_now": now,
                    "p_id": r.reminder_id,
                    "p_before": r.stage_before,
                    "p_after": r.stage_after,
                    "p_next": r.next_action_at,
                    "p_message": r.message_id,
                },
            )
        ).first()
        if row is not None:
            moved.add(row[0])
    await activity_repo.add(
        conn, [r.activity for r in records if r.activity and r.reminder_id in moved]
    )
    return moved


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
        .where(sr.c.status.in_(OPEN_STATUSES), sr.c.next_action_at <= until)
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
