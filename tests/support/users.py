"""A domain `User` with ordinary settings, for tests of pure code that take one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from app.domain.users import User

_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def domain_user(telegram_id: int, *, at: datetime = _AT, **changes: object) -> User:
    """Working hours 09:00-18:00 on weekdays in UTC, not paused, reachable; `changes`
    replaces any field."""
    user = User(
        telegram_id=telegram_id,
        first_name="A",
        last_name=None,
        username=None,
        language_code=None,
        photo_url=None,
        timezone="UTC",
        timezone_set_at=None,
        work_start="09:00",
        work_end="18:00",
        workdays=(1, 2, 3, 4, 5),
        reminders_paused=False,
        paused_until=None,
        blocked_at=None,
        created_at=at,
        updated_at=at,
    )
    return dataclasses.replace(user, **changes)  # type: ignore[arg-type]
