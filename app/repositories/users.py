"""SQL for the users table. Receives a connection; never opens or commits a transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, RowMapping, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import scheduled_reminders, users
from app.domain.users import TelegramProfile, User


def _to_user(row: Row[Any]) -> User:
    return user_from(row._mapping)


OWNER_PREFIX = "owner_"
"""Prefix of the users columns when a query reads them beside another table's."""


def user_from(m: Mapping[str, Any] | RowMapping, prefix: str = "") -> User:
    """A User from the users columns of a result row, named `prefix` + column name."""
    return User(
        telegram_id=m[prefix + "telegram_id"],
        first_name=m[prefix + "first_name"],
        last_name=m[prefix + "last_name"],
        username=m[prefix + "username"],
        language_code=m[prefix + "language_code"],
        photo_url=m[prefix + "photo_url"],
        timezone=m[prefix + "timezone"],
        timezone_set_at=m[prefix + "timezone_set_at"],
        work_start=m[prefix + "work_start"],
        work_end=m[prefix + "work_end"],
        workdays=tuple(m[prefix + "workdays"]),
        reminders_paused=bool(m[prefix + "reminders_paused"]),
        paused_until=m[prefix + "paused_until"],
        blocked_at=m[prefix + "blocked_at"],
        created_at=m[prefix + "created_at"],
        updated_at=m[prefix + "updated_at"],
    )


# Built once: a statement object memoizes its cache key, so SQLAlchemy neither rebuilds nor
# re-hashes it per call (this read runs on most authenticated requests).
_GET = select(users).where(users.c.telegram_id == bindparam("p_telegram_id"))


async def get(conn: AsyncConnection, telegram_id: int) -> User | None:
    row = (await conn.execute(_GET, {"p_telegram_id": telegram_id})).first()
    return _to_user(row) if row is not None else None


async def upsert_profile(conn: AsyncConnection, profile: TelegramProfile, now: datetime) -> User:
    """Create the user, or refresh their Telegram profile; settings are left alone."""
    profile_values = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "username": profile.username,
        "language_code": profile.language_code,
        "photo_url": profile.photo_url,
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    new_row = insert(users).values(
        telegram_id=profile.telegram_id, created_at=now, updated_at=now, **profile_values
    )
    # One statement either way, so two first requests at the same moment cannot collide.
    stmt = new_row.on_conflict_do_update(
        index_elements=[users.c.telegram_id],
        set_={**profile_values, "updated_at": now},
    ).returning(*users.c)
    row = (await conn.execute(stmt)).one()
    return _to_user(row)


async def update_settings(
    conn: AsyncConnection, telegram_id: int, values: Mapping[str, Any], now: datetime
) -> User | None:
    stmt = (
        update(users)
        .where(users.c.telegram_id == telegram_id)
        .values(**values, updated_at=now)
        .returning(*users.c)
    )
    row = (await conn.execute(stmt)).first()
    return _to_user(row) if row is not None else None


async def by_ids(conn: AsyncConnection, telegram_ids: list[int]) -> list[User]:
    if not telegram_ids:
        return []
    rows = await conn.execute(select(users).where(users.c.telegram_id.in_(telegram_ids)))
    return [_to_user(row) for row in rows]


async def set_blocked(
    conn: AsyncConnection, telegram_id: int, blocked_at: datetime | None, now: datetime
) -> None:
    await conn.execute(
        update(users)
        .where(users.c.telegram_id == telegram_id)
        .values(blocked_at=blocked_at, updated_at=now)
    )


async def bump_plans_version(conn: AsyncConnection, telegram_id: int) -> None:
    """Call in every transaction that changes what GET /plans shows this user."""
    await conn.execute(
        update(users)
        .where(users.c.telegram_id == telegram_id)
        .values(plans_version=users.c.plans_version + 1)
    )


async def plans_version(conn: AsyncConnection, telegram_id: int) -> tuple[int, int] | None:
    """What a cached GET /plans answer is keyed on: the user's plans_version, and the sum of
    their reminders' reminder_count (which each dispatcher record raises, so the dispatcher
    does not take the users row beside the reminders it records)."""
    sent = (
        select(func.coalesce(func.sum(scheduled_reminders.c.reminder_count), 0))
        .where(scheduled_reminders.c.telegram_id == telegram_id)
        .scalar_subquery()
    )
    stmt = select(users.c.plans_version, sent).where(users.c.telegram_id == telegram_id)
    row = (await conn.execute(stmt)).first()
    return (int(row[0]), int(row[1])) if row is not None else None
