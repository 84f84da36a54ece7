"""SQL for lead_activity_log. Receives a connection; never opens or commits a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import lead_activity_log as log_table

ACTIVITY_TYPES = frozenset(
    {
        "plan_activated",
        "step_reminder_sent",
        "step_nudged",
        "step_completed",
        "step_skipped",
        "step_snoozed",
        "step_auto_snoozed",
        "plan_completed",
        "plan_paused",
        "plan_resumed",
        "plan_edited",
        "plan_reconciled",
        "note_added",
        "status_change",
        "plan_finished",
        "step_undone",
        "lead_edited",
    }
)


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    lead_id: int
    step_id: int | None
    activity_type: str
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewActivity:
    lead_id: int
    telegram_id: int
    activity_type: str
    created_at: datetime
    step_id: int | None = None
    details: dict[str, Any] | None = None
    undo_state: dict[str, Any] | None = None


ROW_COLUMNS = (
    "lead_id",
    "telegram_id",
    "step_id",
    "activity_type",
    "details",
    "created_at",
    "undo_state",
)


def row(entry: NewActivity) -> dict[str, Any]:
    """The entry as column values, ROW_COLUMNS in order."""
    if entry.activity_type not in ACTIVITY_TYPES:
        raise ValueError(f"unknown activity type {entry.activity_type!r}")
    return {
        "lead_id": entry.lead_id,
        "telegram_id": entry.telegram_id,
        "step_id": entry.step_id,
        "activity_type": entry.activity_type,
        "details": entry.details or {},
        "created_at": entry.created_at,
        "undo_state": entry.undo_state,
    }


async def add(conn: AsyncConnection, entries: list[NewActivity]) -> None:
    if entries:
        await conn.execute(insert(log_table), [row(e) for e in entries])


async def for_lead(conn: AsyncConnection, lead_id: int, limit: int = 200) -> list[Activity]:
    stmt = (
        select(log_table)
        .where(log_table.c.lead_id == lead_id)
        .order_by(log_table.c.created_at.desc(), log_table.c.id.desc())
        .limit(limit)
    )
    return [
        Activity(
            id=r.id,
            lead_id=r.lead_id,
            step_id=r.step_id,
            activity_type=r.activity_type,
            details=dict(r.details or {}),
            created_at=r.created_at,
        )
        for r in await conn.execute(stmt)
    ]


@dataclass(frozen=True, slots=True)
class UndoCandidate:
    id: int
    step_id: int | None
    activity_type: str
    details: dict[str, Any]
    created_at: datetime
    undo_state: dict[str, Any] | None


async def since(conn: AsyncConnection, lead_id: int, at: datetime) -> list[UndoCandidate]:
    """A lead's activity from `at` on, newest first, with what each action changed."""
    stmt = (
        select(log_table)
        .where(log_table.c.lead_id == lead_id, log_table.c.created_at >= at)
        # In the (lead_id, created_at) index's order, so that no planner reads the whole log.
        .order_by(log_table.c.created_at.desc(), log_table.c.id.desc())
    )
    return [
        UndoCandidate(
            id=r.id,
            step_id=r.step_id,
            activity_type=r.activity_type,
            details=dict(r.details or {}),
            created_at=r.created_at,
            undo_state=r.undo_state,
        )
        for r in await conn.execute(stmt)
    ]


async def add_one(conn: AsyncConnection, entry: NewActivity) -> Activity:
    if entry.activity_type not in ACTIVITY_TYPES:
        raise ValueError(f"unknown activity type {entry.activity_type!r}")
    row = (
        await conn.execute(
            insert(log_table)
            .values(
                lead_id=entry.lead_id,
                telegram_id=entry.telegram_id,
                step_id=entry.step_id,
                activity_type=entry.activity_type,
                details=entry.details or {},
                created_at=entry.created_at,
            )
            .returning(*log_table.c)
        )
    ).one()
    return Activity(
        id=row.id,
        lead_id=row.lead_id,
        step_id=row.step_id,
        activity_type=row.activity_type,
        details=dict(row.details or {}),
        created_at=row.created_at,
    )


async def latest_of_types(
    conn: AsyncConnection, lead_ids: list[int], types: frozenset[str]
) -> dict[int, datetime]:
    """Per lead, the newest activity of one of `types`."""
    if not lead_ids:
        return {}
    stmt = (
        select(log_table.c.lead_id, func.max(log_table.c.created_at))
        .where(log_table.c.lead_id.in_(lead_ids), log_table.c.activity_type.in_(sorted(types)))
        .group_by(log_table.c.lead_id)
    )
    return {lead_id: at for lead_id, at in await conn.execute(stmt) if at is not None}
