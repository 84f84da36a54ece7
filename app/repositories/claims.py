"""The dispatcher's claims on due reminders. Receives a connection; never commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CursorResult,
    Integer,
    Update,
    and_,
    bindparam,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import Exists

from app.db.tables import OPEN_REMINDER_STATUSES, lead_registry, users
from app.db.tables import scheduled_reminders as sr
from app.repositories.reminders import Reminder, to_reminder

_earlier = aliased(sr, name="earlier")

# The statements of every pass, built once with named parameters and reused: a pass that
# finds nothing due is a handful of these, and building them (and their cache keys) again
# on each call was a large share of its CPU (see BENCHMARKS.md, "Figures behind design
# choices").
_NOW: BindParameter[Any] = bindparam("now")


def _waiting_for_an_earlier_step() -> Exists:
    return exists().where(
        _earlier.c.lead_id == sr.c.lead_id,
        _earlier.c.position < sr.c.position,
        _earlier.c.status.in_(OPEN_REMINDER_STATUSES),
    )


def _actionable() -> ColumnElement[bool]:
    """Open, due, free (no live lease), in an active plan, of a reachable, unpaused user,
    and not waiting for an earlier open step. Rechecked at claim time, so a step closed a
    moment ago is never taken."""
    return and_(
        sr.c.status.in_(OPEN_REMINDER_STATUSES),
        sr.c.next_action_at <= _NOW,
        or_(sr.c.claimed_until.is_(None), sr.c.claimed_until < _NOW),
        exists().where(lead_registry.c.id == sr.c.lead_id, lead_registry.c.plan_status == "active"),
        exists().where(
            users.c.telegram_id == sr.c.telegram_id,
            users.c.blocked_at.is_(None),
            users.c.reminders_paused == false(),
            or_(users.c.paused_until.is_(None), users.c.paused_until <= _NOW),
        ),
        not_(_waiting_for_an_earlier_step()),
    )


def _claim_statement(skip_locked: bool) -> Update:
    candidates = (
        select(sr.c.id)
        .where(_actionable())
        .order_by(sr.c.next_action_at, sr.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True, of=sr)
    return (
        update(sr)
        .where(sr.c.id.in_(candidates.scalar_subquery()))
        .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until"))
        .returning(*sr.c)
    )


_CLAIM = {"postgresql": _claim_statement(skip_locked=True), "sqlite": _claim_statement(False)}


async def claim(
    conn: AsyncConnection, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[Reminder]:
    """Take up to `limit` actionable reminders, oldest first (lowest id first among those
    due at the same moment, so claims freed by a dead worker go next), under a lease.

    PostgreSQL: the candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent
    claimers (other passes, other replicas) each get different rows without waiting.
    SQLite: the whole statement runs inside BEGIN IMMEDIATE, one writer at a time.
    """
    result = await conn.execute(
        _CLAIM[conn.dialect.name],
        {"now": now, "worker": worker, "until": now + lease, "limit": limit},
    )
    rows = [to_reminder(row) for row in result]
    rows.sort(key=lambda r: (r.next_action_at, r.id))
    return rows


async def extend(conn: AsyncConnection, *, worker: str, ids: list[int], until: datetime) -> None:
    if ids:
        await conn.execute(
            update(sr)
            .where(sr.c.id.in_(ids), sr.c.claimed_by == worker)
            .values(claimed_until=until)
        )


async def release(
    conn: AsyncConnection, *, worker: str, ids: list[int], retry_at: datetime | None = None
) -> None:
    """Give claims back. With `retry_at`, nobody takes them before then: a send that failed
    for now is retried by a later pass, not hammered by the same one."""
    if ids:
        await conn.execute(
            update(sr)
            .where(sr.c.id.in_(ids), sr.c.claimed_by == worker)
            .values(claimed_by=None, claimed_until=retry_at)
        )


_PARK = (
    update(sr)
    .where(
        sr.c.id.in_(
            select(sr.c.id)
            .where(
                sr.c.status.in_(OPEN_REMINDER_STATUSES),
                sr.c.next_action_at <= _NOW,
                _waiting_for_an_earlier_step(),
            )
            .limit(bindparam("limit", type_=Integer))
            .scalar_subquery()
        )
    )
    .values(next_action_at=bindparam("until"))
)


async def park_waiting(conn: AsyncConnection, *, now: datetime, until: datetime, limit: int) -> int:
    """Due steps that wait for an earlier open step are looked at again only at `until`
    (closing the earlier step brings them back at once), so they do not cost every pass."""
    result = await conn.execute(_PARK, {"now": now, "until": until, "limit": limit})
    return result.rowcount or 0


_NEXT_DUE = (
    select(func.min(sr.c.next_action_at))
    .where(sr.c.status.in_(OPEN_REMINDER_STATUSES), sr.c.next_action_at > _NOW)
    .scalar_subquery()
)
# A due reminder under someone's lease (a worker killed mid-pass, or a send given back to be
# retried later) wants attention when the lease runs out. Few rows: the due ones only.
_NEXT_FREED = (
    select(func.min(sr.c.claimed_until))
    .where(
        sr.c.status.in_(OPEN_REMINDER_STATUSES),
        sr.c.next_action_at <= _NOW,
        sr.c.claimed_until > _NOW,
    )
    .scalar_subquery()
)
_NEXT_ACTION = select(_NEXT_DUE, _NEXT_FREED)


async def next_action_after(conn: AsyncConnection, now: datetime) -> datetime | None:
    """When the next open reminder wants attention: the next one coming due, or a due one
    whose lease runs out (both served by the partial index on open reminders)."""
    due, freed = (await conn.execute(_NEXT_ACTION, {"now": now})).one()
    moments = [moment for moment in (due, freed) if moment is not None]
    return min(moments) if moments else None


async def release_all(conn: AsyncConnection, *, worker: str, now: datetime) -> int:
    """Every claim `worker` holds on a due open reminder, given back."""
    result: CursorResult[Any] = await conn.execute(
        update(sr)
        .where(
            sr.c.status.in_(OPEN_REMINDER_STATUSES),
            sr.c.next_action_at <= now,
            sr.c.claimed_by == worker,
        )
        .values(claimed_by=None, claimed_until=None)
    )
    return int(result.rowcount or 0)


_LIVE_CLAIMERS = (
    select(sr.c.claimed_by)
    .distinct()
    .where(
        sr.c.status.in_(OPEN_REMINDER_STATUSES),
        sr.c.next_action_at <= _NOW,
        sr.c.claimed_by.is_not(None),
        sr.c.claimed_until > _NOW,
    )
)


async def live_claimers(conn: AsyncConnection, now: datetime) -> set[str]:
    """The workers that hold unexpired leases on open reminders."""
    rows = await conn.execute(_LIVE_CLAIMERS, {"now": now})
    return {worker for worker in rows.scalars() if worker is not None}


_BACKLOG = (
    select(func.count())
    .select_from(sr)
    .where(sr.c.status.in_(OPEN_REMINDER_STATUSES), sr.c.next_action_at <= _NOW)
)


async def backlog(conn: AsyncConnection, now: datetime) -> int:
    return int((await conn.execute(_BACKLOG, {"now": now})).scalar_one())
