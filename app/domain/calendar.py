"""Working-hours calendar arithmetic for reminder scheduling.

Pure functions only: callers pass the current moment in, so everything here is
deterministic and safe to property-test.

Conventions:
* every datetime argument must be timezone-aware (naive ones raise ``ValueError``);
* every datetime returned is aware and in UTC;
* "working time" is judged on the local wall clock of the schedule's zone, whereas all
  instant arithmetic is done in UTC, because adding to or comparing datetimes that share a
  ``ZoneInfo`` tzinfo is wall-clock arithmetic in Python and silently wrong across DST.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_SCHEDULE",
    "WorkSchedule",
    "due_at",
    "is_working_time",
    "local_date",
    "next_working_moment",
]

_ISO_WEEKDAYS = frozenset(range(1, 8))

# Offsets are sampled this often to find DST transitions: real tz rules never put two
# transitions within an hour of each other, so a change between samples cannot be missed.
_PROBE_STEP = timedelta(hours=1)
_RESOLUTION = timedelta(microseconds=1)

# A non-empty workweek yields a working instant within 8 days, unless the only windows fall
# entirely inside a DST gap, which can cost one extra week. The horizon is far beyond that so
# exhausting it can only mean a bug, and it still bounds the loop.
_SEARCH_HORIZON = timedelta(weeks=8)


# Unbounded is fine: failed lookups raise and are not cached, and valid zone names are a
# small finite set.
@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    # Odd keys fail in odd ways (a directory name like "America" raises IsADirectoryError,
    # an overlong one OSError); callers should only ever see ValueError.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown IANA timezone {name!r}") from exc


@dataclass(frozen=True, slots=True)
class WorkSchedule:
    """When a salesperson may be nudged: local working hours on chosen ISO weekdays."""

    timezone: str
    work_start: time
    work_end: time
    workdays: frozenset[int]

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str) or not self.timezone:
            raise ValueError("timezone must be a non-empty IANA zone name")
        _zone(self.timezone)
        for name, value in (("work_start", self.work_start), ("work_end", self.work_end)):
            if not isinstance(value, time):
                raise ValueError(f"{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive local time, got {value!r}")
        if self.work_start >= self.work_end:
            raise ValueError(
                f"work_start ({self.work_start}) must be strictly before work_end "
                f"({self.work_end}); overnight shifts are not supported"
            )
        # Accept any iterable of ints so callers can pass a set or list; the stored value
        # must be a frozenset to keep the dataclass hashable.
        try:
            days = frozenset(self.workdays)
        except TypeError as exc:
            raise ValueError(
                f"workdays must be a collection of ints, got {self.workdays!r}"
            ) from exc
        if not days:
            raise ValueError("workdays must contain at least one ISO weekday (1=Mon..7=Sun)")
        # bool is an int subclass; True/False as weekdays is certainly a caller bug.
        if any(type(day) is not int for day in days) or not days <= _ISO_WEEKDAYS:
            raise ValueError(
                f"workdays must be ISO weekdays 1=Mon..7=Sun, got {sorted(days, key=repr)}"
            )
        object.__setattr__(self, "workdays", days)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


DEFAULT_SCHEDULE = WorkSchedule("UTC", time(9), time(18), frozenset({1, 2, 3, 4, 5}))


def _require_aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")
    # Normalise through UTC: astimezone() into the datetime's own zone is a no-op, which
    # would keep a wall time that does not exist (inside a DST gap) as if it did.
    return moment.astimezone(UTC)


def _utc_offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # ZoneInfo always yields an offset for aware datetimes
    return offset


def _to_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """Map a local wall time to an instant (aware UTC), resolving DST gaps and folds.

    A wall time in a gap does not exist; it is shifted forward by the gap length
    (02:30 on a spring-forward day becomes 03:30). An ambiguous wall time in a fold
    resolves to its first occurrence.
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None))
    earlier_rule = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later_rule = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if earlier_rule.astimezone(zone).replace(tzinfo=None) == naive:
        # The wall time exists, at one or two instants; min() picks the first occurrence
        # without relying on which fold value zoneinfo maps to which offset.
        return min(earlier_rule, later_rule)
    # Gap: reading the wall time with the pre-transition offset lands after the gap,
    # shifted by exactly its length, and that is always the later of the two readings.
    return max(earlier_rule, later_rule)


@dataclass(frozen=True, slots=True)
class _Stretch:
    """Probed once: the offset is the same from `start` up to `until`, where it changes if
    `changes`; otherwise it is the same through `until` too."""

    start: datetime
    until: datetime
    changes: bool


# A zone's offset changes a few times a year at most, and the reminders of one dispatch pass
# ask about the same few days in the same few zones: probing those days an hour at a time
# for each reminder showed in a dispatch worker's profile (BENCHMARKS.md, "Figures behind
# design choices"). Each zone keeps the last stretch it probed (a week ahead, or as far as
# asked), and answers from it while the question fits. The answer is the same with or
# without it: a memo, not state. One stretch per zone in use, a small finite set.
_STRETCH_AHEAD = timedelta(days=7)
_stretches: dict[ZoneInfo, _Stretch] = {}


def _first_offset_change(start: datetime, end: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant in (start, end] whose UTC offset differs from the one at start."""
    if end <= start:
        return None
    known = _stretches.get(zone)
    if (
        known is None
        or not known.start <= start < known.until
        or (not known.changes and end > known.until)
    ):
        horizon = max(end, start + _STRETCH_AHEAD)
        change = _probe_offset_change(start, horizon, zone)
        known = _Stretch(start, change or horizon, changes=change is not None)
        _stretches[zone] = known
    return known.until if known.changes and end >= known.until else None


def _probe_offset_change(start: datetime, end: datetime, zone: ZoneInfo) -> datetime | None:
    """`_first_offset_change`, worked out by sampling the offset every _PROBE_STEP."""
    base = _utc_offset(start, zone)
    low = start
    while low < end:
        high = min(low + _PROBE_STEP, end)
        if _utc_offset(high, zone) != base:
            # Invariant: offset(low) == base != offset(high); transitions sit on whole
            # seconds, so bisecting to microsecond resolution lands exactly on one.
            while high - low > _RESOLUTION:
                middle = low + (high - low) / 2
                if _utc_offset(middle, zone) == base:
                    low = middle
                else:
                    high = middle
            return high
        low = high
    return None


def _next_working_wall(wall: datetime, schedule: WorkSchedule) -> datetime:
    """Earliest naive local wall time >= ``wall`` inside a working window, ignoring DST."""
    for days_ahead in range(8):
        day = wall.date() + timedelta(days=days_ahead)
        if day.isoweekday() not in schedule.workdays:
            continue
        window_end = datetime.combine(day, schedule.work_end)
        if wall < window_end:
            return max(wall, datetime.combine(day, schedule.work_start))
    raise AssertionError("unreachable: a non-empty workweek has a window within 8 days")


def local_date(moment: datetime, schedule: WorkSchedule) -> date:
    """The calendar date of ``moment`` on the schedule's local wall clock."""
    return _require_aware(moment, "moment").astimezone(schedule.zone).date()


def next_local_midnight(moment: datetime, schedule: WorkSchedule) -> datetime:
    """The first instant after ``moment`` whose local date is a later one (aware UTC).

    Where midnight itself falls in a DST gap the new day starts when the gap ends.
    """
    moment = _require_aware(moment, "moment")
    tomorrow = local_date(moment, schedule) + timedelta(days=1)
    return _to_instant(tomorrow, time(0), schedule.zone)


def is_working_time(moment: datetime, schedule: WorkSchedule) -> bool:
    """Whether ``moment``'s local wall time is on a workday within [work_start, work_end)."""
    local = _require_aware(moment, "moment").astimezone(schedule.zone)
    if local.isoweekday() not in schedule.workdays:
        return False
    return schedule.work_start <= local.time() < schedule.work_end


def next_working_moment(moment: datetime, schedule: WorkSchedule) -> datetime:
    """The earliest instant >= ``moment`` that is working time, as aware UTC.

    Returns ``moment`` itself (converted to UTC) when it already is working time, so the
    function is idempotent.
    """
    zone = schedule.zone
    cursor = _require_aware(moment, "moment").astimezone(UTC)
    horizon = cursor + _SEARCH_HORIZON
    # Between DST transitions the offset is constant, so wall time is a plain shift of the
    # instant and the earliest working wall time maps straight back to the earliest working
    # instant. When a transition intervenes, no working instant precedes it (otherwise its
    # wall time would have been found first), so the search restarts from the transition.
    while cursor <= horizon:
        offset = _utc_offset(cursor, zone)
        wall = (cursor + offset).replace(tzinfo=None)
        candidate = (_next_working_wall(wall, schedule) - offset).replace(tzinfo=UTC)
        transition = _first_offset_change(cursor, candidate, zone)
        if transition is None:
            return candidate
        cursor = transition
    raise AssertionError(f"no working time within {_SEARCH_HORIZON} of {moment.isoformat()}")


def due_at(plan_start: datetime, offset_days: int, schedule: WorkSchedule) -> datetime:
    """When a plan step ``offset_days`` after ``plan_start`` is due, as aware UTC.

    The step falls on the local calendar day ``offset_days`` after the plan started, at the
    start of working hours, pushed forward to the next working moment when that day (or
    the rest of it, for day 0) is not working time. Day 0 inside working hours is
    ``plan_start`` itself. A snooze of N days from ``now`` is ``due_at(now, N, schedule)``.
    """
    start = _require_aware(plan_start, "plan_start").astimezone(UTC)
    if isinstance(offset_days, bool) or not isinstance(offset_days, int):
        raise ValueError(f"offset_days must be an int, got {offset_days!r}")
    if offset_days < 0:
        raise ValueError(f"offset_days must be >= 0, got {offset_days}")
    target = local_date(start, schedule) + timedelta(days=offset_days)
    day_start = _to_instant(target, schedule.work_start, schedule.zone)
    return next_working_moment(max(day_start, start), schedule)
