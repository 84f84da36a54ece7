from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.clock import ManualClock, SystemClock


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC


async def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2026, 1, 1, 10, tzinfo=UTC)
    clock.advance(timedelta(hours=1))
    await clock.sleep(30)
    assert clock.now() == datetime(2026, 1, 1, 11, 0, 30, tzinfo=UTC)


def test_manual_clock_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2026, 1, 1))
