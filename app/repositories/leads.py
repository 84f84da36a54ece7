"""SQL for lead_registry. Receives a connection; never opens or commits a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import lead_registry, users
from app.db.tables import scheduled_reminders as sr
from app.domain.outcomes import LeadStatus, Outcome
from app.domain.plans import PlanStatus, StepStatus
from app.domain.steps import Plan, outline, parse_plan
from app.domain.users import User
from app.repositories import users as users_repo


@dataclass(frozen=True, slots=True)
class Lead:
    id: int
    telegram_id: int
    name: str
    company: str | None
    title: str | None
    channel: str | None
    context: str | None
    status: LeadStatus
    # engagement_plan, parsed: the one place it is read (plan_to_json writes it back).
    plan: Plan
    plan_status: PlanStatus
    plan_started_at: datetime | None
    plan_paused_at: datetime | None
    created_at: datetime
    updated_at: datetime
    plan_outcome: Outcome | None = None
    status_reason: str | None = None


def to_lead(row: Row[Any]) -> Lead:
    m = row._mapping
    return Lead(
        id=m["id"],
        telegram_id=m["telegram_id"],
        name=m["name"],
        company=m["company"],
        title=m["title"],
        channel=m["channel"],
        context=m["context"],
        status=m["status"],
        plan=parse_plan(m["engagement_plan"]),
        plan_status=m["plan_status"],
        plan_started_at=m["plan_started_at"],
        plan_paused_at=m["plan_paused_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        plan_outcome=m["plan_outcome"],
        status_reason=m["status_reason"],
    )


async def insert_lead(conn: AsyncConnection, values: dict[str, Any]) -> Lead:
    row = (
        await conn.execute(insert(lead_registry).values(**values).returning(*lead_registry.c))
    ).one()
    return to_lead(row)


async def get_for_update(conn: AsyncConnection, lead_id: int, telegram_id: int) -> Lead | None:
    """The caller's lead, locked for the rest of the transaction (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers). Every step change locks the lead first,
    so the read-modify-write of engagement_plan never loses a concurrent update.

    FOR NO KEY UPDATE, not FOR UPDATE: it excludes every other step change of the lead just
    the same, but not the KEY SHARE lock an insert referencing the lead takes for its
    foreign key. The dispatcher's record updates a reminder and then inserts its activity;
    a press locks the lead and then updates that reminder. Under FOR UPDATE the two could
    wait on each other (a deadlock, seen in the soak test)."""
    stmt = select(lead_registry).where(
        lead_registry.c.id == lead_id, lead_registry.c.telegram_id == telegram_id
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)
    row = (await conn.execute(stmt)).first()
    return to_lead(row) if row is not None else None


def _lock_by_reminder_statement(*, for_update: bool, with_owner: bool) -> Select[Any]:
    owner = (
        select(sr.c.lead_id)
        .where(sr.c.id == bindparam("p_reminder_id"), sr.c.telegram_id == bindparam("p_owner"))
        .scalar_subquery()
    )
    conditions = [lead_registry.c.id == owner, lead_registry.c.telegram_id == bindparam("p_owner")]
    stmt = select(lead_registry)
    if with_owner:
        # The owner's row beside the lead's (read, not locked).
        stmt = stmt.add_columns(
            *(c.label(users_repo.OWNER_PREFIX + c.name) for c in users.c)
        ).join_from(lead_registry, users, users.c.telegram_id == lead_registry.c.telegram_id)
    stmt = stmt.where(*conditions)
    return stmt.with_for_update(of=lead_registry, key_share=True) if for_update else stmt


# Built once per dialect: every step transition starts here, and a statement object reused
# keeps its memoized cache key, so SQLAlchemy neither rebuilds nor re-hashes it per call.
_LOCK_BY_REMINDER = {
    (dialect, with_owner): _lock_by_reminder_statement(
        for_update=dialect == "postgresql", with_owner=with_owner
    )
    for dialect in ("postgresql", "sqlite")
    for with_owner in (False, True)
}


async def lock_by_reminder(
    conn: AsyncConnection, reminder_id: int, telegram_id: int
) -> Lead | None:
    """The lead a reminder belongs to, locked like get_for_update, in one round trip."""
    stmt = _LOCK_BY_REMINDER[conn.dialect.name, False]
    params = {"p_reminder_id": reminder_id, "p_owner": telegram_id}
    row = (await conn.execute(stmt, params)).first()
    return to_lead(row) if row is not None else None


async def lock_by_reminder_with_owner(
    conn: AsyncConnection, reminder_id: int, telegram_id: int
) -> tuple[Lead, User] | None:
    """`lock_by_reminder`, and the owner read in the same round trip."""
    stmt = _LOCK_BY_REMINDER[conn.dialect.name, True]
    params = {"p_reminder_id": reminder_id, "p_owner": telegram_id}
    row = (await conn.execute(stmt, params)).first()
    if row is None:
        return None
    return to_lead(row), users_repo.user_from(row._mapping, users_repo.OWNER_PREFIX)


async def get(conn: AsyncConnection, lead_id: int, telegram_id: int) -> Lead | None:
    stmt = select(lead_registry).where(
        lead_registry.c.id == lead_id, lead_registry.c.telegram_id == telegram_id
    )
    row = (await conn.execute(stmt)).first()
    return to_lead(row) if row is not None else None


async def list_for_user(conn: AsyncConnection, telegram_id: int) -> list[Lead]:
    stmt = (
        select(lead_registry)
        .where(lead_registry.c.telegram_id == telegram_id)
        .order_by(lead_registry.c.id)
    )
    return [to_lead(row) for row in await conn.execute(stmt)]


async def list_all_ids(conn: AsyncConnection) -> list[tuple[int, int]]:
    rows = await conn.execute(select(lead_registry.c.id, lead_registry.c.telegram_id))
    return [(r.id, r.telegram_id) for r in rows]


async def plans_after(
    conn: AsyncConnection, after_id: int, limit: int
) -> list[tuple[int, int, tuple[tuple[int, int, StepStatus], ...]]]:
    """(id, telegram_id, the plan's steps outlined) of the next `limit` leads by id, for a
    scan (see app.domain.steps.outline)."""
    rows = await conn.execute(
        select(lead_registry.c.id, lead_registry.c.telegram_id, lead_registry.c.engagement_plan)
        .where(lead_registry.c.id > after_id)
        .order_by(lead_registry.c.id)
        .limit(limit)
    )
    return [(r.id, r.telegram_id, outline(r.engagement_plan)) for r in rows]


async def update_lead(conn: AsyncConnection, lead_id: int, values: dict[str, Any]) -> None:
    await conn.execute(update(lead_registry).where(lead_registry.c.id == lead_id).values(**values))


async def delete_lead(conn: AsyncConnection, lead_id: int, telegram_id: int) -> bool:
    result = await conn.execute(
        delete(lead_registry).where(
            lead_registry.c.id == lead_id, lead_registry.c.telegram_id == telegram_id
        )
    )
    return (result.rowcount or 0) > 0


async def by_ids(conn: AsyncConnection, lead_ids: list[int]) -> list[Lead]:
    if not lead_ids:
        return []
    rows = await conn.execute(select(lead_registry).where(lead_registry.c.id.in_(lead_ids)))
    return [to_lead(row) for row in rows]
