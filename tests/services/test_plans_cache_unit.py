"""The GET /plans cache on its own: what an entry serves, and its memory bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.calendar import DEFAULT_SCHEDULE, WorkSchedule
from app.services.plans_cache import CachedPlans, PlansCache

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
BERLIN = WorkSchedule(
    "Europe/Berlin",
    DEFAULT_SCHEDULE.work_start,
    DEFAULT_SCHEDULE.work_end,
    DEFAULT_SCHEDULE.workdays,
)


def entry(body: bytes, version: tuple[int, int] = (1, 0), hours: int = 5) -> CachedPlans:
    return CachedPlans(version, DEFAULT_SCHEDULE, NOW, NOW + timedelta(hours=hours), body)


def test_an_entry_serves_only_its_version_schedule_and_time_window() -> None:
    cache = PlansCache()
    cache.put((1, None, "next_due"), entry(b"doc"))
    key = (1, None, "next_due")
    assert cache.get(key, (1, 0), DEFAULT_SCHEDULE, NOW) == b"doc"
    assert cache.get(key, (1, 0), DEFAULT_SCHEDULE, NOW + timedelta(hours=4)) == b"doc"
    assert cache.get(key, (2, 0), DEFAULT_SCHEDULE, NOW) is None  # a change was committed
    assert cache.get(key, (1, 1), DEFAULT_SCHEDULE, NOW) is None  # a reminder went out
    assert cache.get(key, (1, 0), BERLIN, NOW) is None  # another time zone
    assert cache.get(key, (1, 0), DEFAULT_SCHEDULE, NOW + timedelta(hours=5)) is None
    assert cache.get(key, (1, 0), DEFAULT_SCHEDULE, NOW - timedelta(seconds=1)) is None
    assert cache.get((1, "overdue", "next_due"), (1, 0), DEFAULT_SCHEDULE, NOW) is None
    assert (cache.hits, cache.misses) == (2, 6)


def test_least_recently_used_answers_leave_first_within_the_byte_budget() -> None:
    cache = PlansCache(max_bytes=10)
    for user in (1, 2, 3):
        cache.put((user, None, "next_due"), entry(b"abcd"))
    # 12 bytes > 10: user 1, the oldest, went.
    assert len(cache) == 2
    assert cache.size_bytes == 8
    assert cache.get((1, None, "next_due"), (1, 0), DEFAULT_SCHEDULE, NOW) is None
    assert cache.get((2, None, "next_due"), (1, 0), DEFAULT_SCHEDULE, NOW) == b"abcd"
    cache.put((4, None, "next_due"), entry(b"abcd"))  # user 3 is now the least recent
    assert cache.get((3, None, "next_due"), (1, 0), DEFAULT_SCHEDULE, NOW) is None
    assert cache.get((2, None, "next_due"), (1, 0), DEFAULT_SCHEDULE, NOW) == b"abcd"
    cache.put((2, None, "next_due"), entry(b"ab"))  # replacing frees the old bytes
    assert cache.size_bytes == 6
    cache.put((5, None, "next_due"), entry(b"x" * 11))  # larger than the budget: not kept
    assert cache.size_bytes == 6
    assert len(cache) == 2
