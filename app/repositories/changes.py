"""The writes of one step transition, sent together.

A transition changes some reminder rows, the lead's plan JSON and the activity log, and may
wake the dispatchers. On PostgreSQL these go as one statement of data-modifying CTEs, one
round trip instead of three or four, inside the caller's transaction as before; SQLite is
in-process, where separate statements cost nothing extra (and it has no DML in CTEs).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, bindparam, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import CTE

from app.db.signals import notify_call, schedule_changed, wake_after_commit
from app.db.tables import lead_activity_log as log_table
from app.db.tables import lead_registry, users
from app.db.tables import scheduled_reminders as sr
from app.repositories import activity as activity_repo
from app.repositories import leads as leads_repo
from app.repositories import reminders as reminders_repo
from app.repositories import users as users_repo
from app.repositories.activity import NewActivity


async def write(
    conn: AsyncConnection,
    *,
    reminder_updates: list[tuple[int, dict[str, Any]]],
    telegram_id: int,
    lead_id: int,
    lead_values: dict[str, Any],
    activity: list[NewActivity],
    wake: bool,
) -> None:
    """Apply the updates, each reminder at most once, and add the activity entries; with
    `wake`, dispatchers look again once the transaction commits. The user's plans_version
    goes up with them, which is what tells every replica its cached GET /plans is stale."""
    if conn.dialect.name != "postgresql":
        if wake:
            await schedule_changed(conn)
        await reminders_repo.update_many(conn, reminder_updates)
        if lead_values:
            await leads_repo.update_lead(conn, lead_id, lead_values)
        await activity_repo.add(conn, activity)
        await users_repo.bump_plans_version(conn, telegram_id)
        return
    # No deadlock with the dispatcher, whatever order PostgreSQL runs these in: it records
    # reminders without taking the users row (see users_repo.plans_version), and every other
    # writer of a user's steps holds the lead's lock, taken first, as this one does.
    # The order of sibling CTEs is unspecified, and the log is read in id order; so one
    # entry (nearly every transition) goes along, several go after, in order.
    along = activity[0] if len(activity) == 1 else None
    shape = _Shape(
        reminders=tuple(tuple(sorted(values)) for _, values in reminder_updates),
        lead=tuple(sorted(lead_values)),
        activity=along is not None,
        wake=wake,
    )
    params: dict[str, Any] = {"p_telegram_id": telegram_id, "p_lead_id": lead_id}
    for index, (reminder_id, values) in enumerate(reminder_updates):
        params[f"r{index}_id"] = reminder_id
        params.update((f"r{index}_{column}", value) for column, value in values.items())
    params.update((f"l_{column}", value) for column, value in lead_values.items())
    if along is not None:
        params.update((f"a_{column}", value) for column, value in activity_repo.row(along).items())
    if wake:
        wake_after_commit(conn)
    await conn.execute(_statement(shape), params)
    if len(activity) > 1:
        await activity_repo.add(conn, activity)


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which columns a transition writes: transitions of one kind share a statement."""

    reminders: tuple[tuple[str, ...], ...]
    lead: tuple[str, ...]
    activity: bool
    wake: bool


@functools.lru_cache(maxsize=512)
def _statement(shape: _Shape) -> Select[Any]:
    """One statement of data-modifying CTEs for every transition of this shape, its values
    bound by name. Built once per shape and reused, so SQLAlchemy neither rebuilds it nor
    re-hashes it for its compiled cache on every transition; only the values travel."""

    def bound(table: Table, prefix: str, columns: tuple[str, ...]) -> dict[str, Any]:
        return {c: bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns}

    ctes: list[CTE] = [
        update(users)
        .where(users.c.telegram_id == bindparam("p_telegram_id"))
        .values(plans_version=users.c.plans_version + 1)
        .cte("version")
    ]
    ctes.extend(
        update(sr)
        .where(sr.c.id == bindparam(f"r{index}_id"))
        .values(bound(sr, f"r{index}_", columns))
        .cte(f"reminder_{index}")
        for index, columns in enumerate(shape.reminders)
    )
    if shape.lead:
        ctes.append(
            update(lead_registry)
            .where(lead_registry.c.id == bindparam("p_lead_id"))
            .values(bound(lead_registry, "l_", shape.lead))
            .cte("lead")
        )
    if shape.activity:
        columns = tuple(activity_repo.ROW_COLUMNS)
        ctes.append(insert(log_table).values(bound(log_table, "a_", columns)).cte("activity"))
    # Data-modifying CTEs run whether or not the outer SELECT reads them; NOTIFY in the same
    # statement is delivered at commit, exactly like a NOTIFY statement of its own.
    return select(notify_call() if shape.wake else literal(1)).add_cte(*ctes)
