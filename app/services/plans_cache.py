"""Finished GET /plans answers, kept per user until something they show could differ.

An answer depends on the user's leads and steps (keyed by `users_repo.plans_version`, which
every change moves, on any replica), on their working schedule (time zone: what "today" is),
and on the time: an upcoming step turns due, an overdue one gains a day, a new local day
changes "due today". Each entry therefore also holds the instant its answer expires,
computed from the steps themselves when it was built. Between those moments the same bytes
are served again: the TMA reloads the list on every screen, and building 100 leads' worth of
JSON costs far more than sending it does (BENCHMARKS.md, "Figures behind design choices").
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from app.domain.calendar import WorkSchedule

DEFAULT_MAX_BYTES = 32_000_000

CacheKey = tuple[int, str | None, str]
"""(telegram_id, filter, sort)"""


@dataclass(frozen=True, slots=True)
class CachedPlans:
    version: tuple[int, int]
    schedule: WorkSchedule
    built_at: datetime
    valid_until: datetime | None
    """None: nothing shown changes with time alone."""
    body: bytes

    def serves(self, version: tuple[int, int], schedule: WorkSchedule, now: datetime) -> bool:
        return (
            self.version == version
            and self.schedule == schedule
            and self.built_at <= now
            and (self.valid_until is None or now < self.valid_until)
        )


class PlansCache:
    """Least recently used answers first out once they hold more than `max_bytes`."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._size = 0
        self._entries: OrderedDict[CacheKey, CachedPlans] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(
        self, key: CacheKey, version: tuple[int, int], schedule: WorkSchedule, now: datetime
    ) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or not entry.serves(version, schedule, now):
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.body

    def put(self, key: CacheKey, entry: CachedPlans) -> None:
        if len(entry.body) > self._max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._size -= len(old.body)
        self._entries[key] = entry
        self._size += len(entry.body)
        while self._size > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted.body)

    @property
    def size_bytes(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._entries)
