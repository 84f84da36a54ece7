"""The writes of one step transition, sent together.

A transition changes some reminder rows, the lead's plan JSON and the activity log, and may
wake the dispatchers. On PostgreSQL these go as one statement of data-modifying CTEs, one
round trip instead of three or four, inside the caller's transaction as before; SQLite is
in-process, where separate statements cost nothing extra (and it has no DML in CTEs).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import CTE

from app.db.signals import notify_call, schedule_changed, wake_after_commit
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
    ctes: list[CTE] = [users_repo.bump_plans_version_statement(telegram_id).cte("version")]
    ctes.extend(
        reminders_repo.update_statement(reminder_id, values).cte(f"reminder_{index}")
        for index, (reminder_id, values) in enumerate(reminder_updates)
    )
    if lead_values:
        ctes.append(leads_repo.update_statement(lead_id, lead_values).cte("lead"))
    # The order of sibling CTEs is unspecified, and the log is read in id order; so one
    # entry (nearly every transition) goes along, several go after, in order.
    if len(activity) == 1:
        ctes.append(activity_repo.insert_statement(activity[0]).cte("activity"))
    # Data-modifying CTEs run whether or not the outer SELECT reads them; NOTIFY in the same
    # statement is delivered at commit, exactly like a NOTIFY statement of its own.
    if wake:
        wake_after_commit(conn)
        await conn.execute(select(notify_call()).add_cte(*ctes))
    else:
        await conn.execute(select(1).add_cte(*ctes))
    if len(activity) > 1:
        await activity_repo.add(conn, activity)
