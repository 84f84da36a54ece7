"""`schedule_of`: equal working hours are one shared, immutable schedule object."""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

import pytest

from app.domain.plans import schedule_of
from app.domain.users import User
from tests.support.users import domain_user


def _user(telegram_id: int, **changes: Any) -> User:
    return domain_user(telegram_id, **{"timezone": "Europe/Berlin", **changes})


def test_users_with_equal_hours_share_one_schedule() -> None:
    first = schedule_of(_user(1))
    # The order of workdays does not make a different schedule.
    second = schedule_of(_user(2, workdays=(5, 4, 3, 2, 1)))
    assert second is first
    assert first.timezone == "Europe/Berlin"
    assert (first.work_start, first.work_end) == (time(9), time(18))
    assert first.workdays == frozenset({1, 2, 3, 4, 5})


@pytest.mark.parametrize(
    "changes",
    [
        {"timezone": "Asia/Tokyo"},
        {"work_start": "08:30"},
        {"work_end": "17:00"},
        {"workdays": (1, 2, 3)},
    ],
)
def test_any_difference_gives_its_own_schedule(changes: dict[str, object]) -> None:
    other = schedule_of(_user(3, **changes))
    assert other is not schedule_of(_user(1))
    assert other != schedule_of(_user(1))
    for name, value in changes.items():
        if name == "workdays":
            assert isinstance(value, tuple)
            assert other.workdays == frozenset(value)
        elif name == "timezone":
            assert other.timezone == value
        else:
            assert getattr(other, name).strftime("%H:%M") == value


def test_a_schedule_cannot_be_changed_through_one_user() -> None:
    shared = schedule_of(_user(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        shared.timezone = "Asia/Tokyo"  # type: ignore[misc]
