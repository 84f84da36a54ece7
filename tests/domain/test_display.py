"""A step's display status, and the instant it next changes with time alone (what lets a
GET /plans answer be served again until then)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.plans import (
    REMINDER_STATUSES,
    ReminderStatus,
    display_changes_at,
    display_status,
)

STATUSES = REMINDER_STATUSES
BASE = datetime(2026, 3, 2, 10, tzinfo=UTC)

instants = st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=40)).map(
    lambda shift: BASE + shift
)


def test_examples() -> None:
    due = BASE
    assert display_status(
        status="pending", due_at=due, snooze_count=0, plan_paused=False, now=due
    ).display == ("due")
    late = display_status(
        status="sent",
        due_at=due,
        snooze_count=0,
        plan_paused=False,
        now=due + timedelta(days=2, hours=1),
    )
    assert (late.display, late.overdue_days) == ("overdue", 2)
    assert display_changes_at(status="pending", due_at=due, plan_paused=False, now=BASE) == (
        due + timedelta(days=1)
    )
    assert display_changes_at(
        status="pending", due_at=due, plan_paused=False, now=BASE - timedelta(hours=3)
    ) == (due)
    assert display_changes_at(status="completed", due_at=due, plan_paused=False, now=BASE) is None
    assert display_changes_at(status="pending", due_at=due, plan_paused=True, now=BASE) is None


@settings(max_examples=400, deadline=None)
@given(
    status=st.sampled_from(STATUSES),
    due_at=instants,
    now=instants,
    snoozes=st.integers(0, 3),
    paused=st.booleans(),
    fraction=st.floats(0, 1, exclude_max=True),
)
def test_the_status_holds_until_the_change_and_differs_at_it(
    status: ReminderStatus,
    due_at: datetime,
    now: datetime,
    snoozes: int,
    paused: bool,
    fraction: float,
) -> None:
    def shown(at: datetime) -> tuple[str, int]:
        view = display_status(
            status=status, due_at=due_at, snooze_count=snoozes, plan_paused=paused, now=at
        )
        return view.display, view.overdue_days

    change = display_changes_at(status=status, due_at=due_at, plan_paused=paused, now=now)
    if change is None:
        for later in (timedelta(hours=1), timedelta(days=3), timedelta(days=400)):
            assert shown(now + later) == shown(now)
        return
    assert change > now
    span = (change - now) // timedelta(microseconds=1)
    between = now + timedelta(microseconds=min(int(span * fraction), span - 1))
    assert shown(between) == shown(now)
    assert shown(change - timedelta(microseconds=1)) == shown(now)
    assert shown(change) != shown(now)
