from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import calendar
from app.domain.calendar import (
    DEFAULT_SCHEDULE,
    WorkSchedule,
    _to_instant,
    due_at,
    is_working_time,
    local_date,
    next_local_midnight,
    next_working_moment,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
TOKYO = ZoneInfo("Asia/Tokyo")

ZONE_NAMES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "UTC",
]
WEEKDAYS = frozenset({1, 2, 3, 4, 5})
EVERY_DAY = frozenset(range(1, 8))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def schedule(
    zone: str,
    start: time = time(9),
    end: time = time(18),
    workdays: frozenset[int] = WEEKDAYS,
) -> WorkSchedule:
    return WorkSchedule(zone, start, end, workdays)


# --------------------------------------------------------------------------- validation


def test_default_schedule() -> None:
    expected = WorkSchedule("UTC", time(9), time(18), frozenset({1, 2, 3, 4, 5}))
    assert expected == DEFAULT_SCHEDULE
    assert DEFAULT_SCHEDULE.zone == ZoneInfo("UTC")


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "Europe/", "America", "x" * 300]
)
def test_rejects_unknown_timezone(zone: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        WorkSchedule(zone, time(9), time(18), WEEKDAYS)


@pytest.mark.parametrize(("start", "end"), [(time(18), time(9)), (time(9), time(9))])
def test_rejects_non_increasing_hours(start: time, end: time) -> None:
    with pytest.raises(ValueError, match="strictly before"):
        WorkSchedule("UTC", start, end, WEEKDAYS)


def test_rejects_aware_work_hours() -> None:
    with pytest.raises(ValueError, match="naive"):
        WorkSchedule("UTC", time(9, tzinfo=UTC), time(18), WEEKDAYS)


@pytest.mark.parametrize(
    "workdays",
    [frozenset(), frozenset({0}), frozenset({8}), frozenset({1, 7, 9}), frozenset({True})],
)
def test_rejects_bad_workdays(workdays: frozenset[int]) -> None:
    with pytest.raises(ValueError, match="workdays"):
        WorkSchedule("UTC", time(9), time(18), workdays)


def test_workdays_given_as_set_are_frozen_and_hashable() -> None:
    sched = WorkSchedule("UTC", time(9), time(18), {1, 2})  # type: ignore[arg-type]
    assert sched.workdays == frozenset({1, 2})
    assert isinstance(sched.workdays, frozenset)
    assert hash(sched) == hash(WorkSchedule("UTC", time(9), time(18), frozenset({1, 2})))


def test_schedule_is_immutable() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_SCHEDULE.timezone = "Asia/Tokyo"  # type: ignore[misc]


def test_zone_is_cached() -> None:
    assert schedule("Europe/Berlin").zone is schedule("Europe/Berlin").zone


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 6, 1, 10)
    with pytest.raises(ValueError, match="aware"):
        is_working_time(naive, DEFAULT_SCHEDULE)
    with pytest.raises(ValueError, match="aware"):
        next_working_moment(naive, DEFAULT_SCHEDULE)
    with pytest.raises(ValueError, match="aware"):
        due_at(naive, 1, DEFAULT_SCHEDULE)
    with pytest.raises(ValueError, match="aware"):
        local_date(naive, DEFAULT_SCHEDULE)


def test_negative_offset_is_rejected() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        due_at(utc(2026, 6, 1, 10), -1, DEFAULT_SCHEDULE)


# --------------------------------------------------------------------------- basics


def test_local_date_follows_schedule_zone() -> None:
    moment = utc(2026, 6, 1, 23, 30)
    assert local_date(moment, schedule("Asia/Tokyo")) == date(2026, 6, 2)
    assert local_date(moment, schedule("America/New_York")) == date(2026, 6, 1)
    assert local_date(moment, DEFAULT_SCHEDULE) == date(2026, 6, 1)


def test_is_working_time_window_is_half_open() -> None:
    berlin = schedule("Europe/Berlin")
    assert is_working_time(datetime(2026, 6, 10, 9, tzinfo=BERLIN), berlin)
    assert is_working_time(datetime(2026, 6, 10, 17, 59, 59, 999999, tzinfo=BERLIN), berlin)
    assert not is_working_time(datetime(2026, 6, 10, 18, tzinfo=BERLIN), berlin)
    assert not is_working_time(datetime(2026, 6, 10, 8, 59, 59, tzinfo=BERLIN), berlin)
    # Saturday
    assert not is_working_time(datetime(2026, 6, 13, 12, tzinfo=BERLIN), berlin)


def test_is_working_time_uses_schedule_zone_not_input_zone() -> None:
    # 08:00 UTC on a Wednesday is 17:00 in Tokyo (working) and 04:00 in New York (not).
    moment = utc(2026, 6, 10, 8)
    assert is_working_time(moment, schedule("Asia/Tokyo"))
    assert not is_working_time(moment, schedule("America/New_York"))


def test_kolkata_half_hour_offset() -> None:
    kolkata = schedule("Asia/Kolkata")
    assert _to_instant(date(2026, 6, 1), time(9), KOLKATA) == utc(2026, 6, 1, 3, 30)
    assert due_at(datetime(2026, 6, 1, 8, tzinfo=KOLKATA), 0, kolkata) == utc(2026, 6, 1, 3, 30)
    assert next_working_moment(utc(2026, 6, 1, 3, 29), kolkata) == utc(2026, 6, 1, 3, 30)


def test_results_are_utc() -> None:
    result = due_at(datetime(2026, 6, 10, 11, tzinfo=BERLIN), 0, schedule("Europe/Berlin"))
    assert result.tzinfo is UTC
    result = next_working_moment(datetime(2026, 6, 10, 11, tzinfo=BERLIN), DEFAULT_SCHEDULE)
    assert result.tzinfo is UTC


# --------------------------------------------------------------------------- due_at


def test_zero_days_inside_hours_is_plan_start_itself() -> None:
    plan_start = datetime(2026, 6, 10, 11, 23, 45, 678901, tzinfo=BERLIN)
    result = due_at(plan_start, 0, schedule("Europe/Berlin"))
    assert result == plan_start
    assert result == utc(2026, 6, 10, 9, 23, 45, 678901)


def test_zero_days_before_hours_is_todays_start() -> None:
    plan_start = datetime(2026, 6, 9, 7, 15, tzinfo=NEW_YORK)  # Tuesday, EDT
    assert due_at(plan_start, 0, schedule("America/New_York")) == utc(2026, 6, 9, 13)


@pytest.mark.parametrize(
    ("plan_start", "expected"),
    [
        # Tuesday at work_end (exclusive) -> Wednesday 09:00 EDT
        (datetime(2026, 6, 9, 18, tzinfo=NEW_YORK), utc(2026, 6, 10, 13)),
        # Friday after hours -> Monday 09:00 EDT
        (datetime(2026, 6, 12, 18, 30, tzinfo=NEW_YORK), utc(2026, 6, 15, 13)),
    ],
)
def test_zero_days_after_hours_is_next_workday_start(
    plan_start: datetime, expected: datetime
) -> None:
    assert due_at(plan_start, 0, schedule("America/New_York")) == expected


@pytest.mark.parametrize(
    ("zone", "plan_start", "expected"),
    [
        # Plain case, no DST in Tokyo: Mon 2026-06-08 09:00 JST.
        ("Asia/Tokyo", datetime(2026, 6, 5, 20, tzinfo=TOKYO), utc(2026, 6, 8, 0)),
        # Weekend contains Berlin's spring-forward: Mon 2026-03-30 09:00 CEST.
        ("Europe/Berlin", datetime(2026, 3, 27, 19, tzinfo=BERLIN), utc(2026, 3, 30, 7)),
        # Weekend contains New York's fall-back: Mon 2026-11-02 09:00 EST.
        ("America/New_York", datetime(2026, 10, 30, 19, tzinfo=NEW_YORK), utc(2026, 11, 2, 14)),
        # Weekend contains Sydney's end of DST: Mon 2026-04-06 09:00 AEST.
        ("Australia/Sydney", datetime(2026, 4, 3, 18, tzinfo=SYDNEY), utc(2026, 4, 5, 23)),
        # Weekend contains Sydney's start of DST: Mon 2026-10-05 09:00 AEDT.
        ("Australia/Sydney", datetime(2026, 10, 2, 18, tzinfo=SYDNEY), utc(2026, 10, 4, 22)),
    ],
)
def test_friday_evening_plus_one_day_is_monday_morning(
    zone: str, plan_start: datetime, expected: datetime
) -> None:
    result = due_at(plan_start, 1, schedule(zone))
    assert result == expected
    assert result.astimezone(ZoneInfo(zone)).time() == time(9)
    assert result.astimezone(ZoneInfo(zone)).isoweekday() == 1


def test_plan_start_zone_does_not_matter() -> None:
    sched = schedule("Europe/Berlin")
    local = datetime(2026, 6, 10, 20, tzinfo=BERLIN)
    for zone in (UTC, NEW_YORK, TOKYO, KOLKATA):
        assert due_at(local.astimezone(zone), 3, sched) == due_at(local, 3, sched)


def test_offset_counts_local_calendar_days_not_utc_days() -> None:
    # Tue 2026-06-09 23:30 UTC is already Wednesday in Tokyo, so +1 day is Thursday there.
    assert due_at(utc(2026, 6, 9, 23, 30), 1, schedule("Asia/Tokyo")) == utc(2026, 6, 11, 0)


def test_weekend_only_workdays() -> None:
    weekend = schedule("UTC", workdays=frozenset({6, 7}))
    monday = utc(2026, 6, 8, 10)
    assert due_at(monday, 0, weekend) == utc(2026, 6, 13, 9)  # Saturday
    assert due_at(monday, 5, weekend) == utc(2026, 6, 13, 9)
    assert due_at(monday, 6, weekend) == utc(2026, 6, 14, 9)  # Sunday
    assert due_at(monday, 7, weekend) == utc(2026, 6, 20, 9)  # following Saturday
    assert due_at(utc(2026, 6, 14, 18), 0, weekend) == utc(2026, 6, 20, 9)


def test_one_day_workweek() -> None:
    wednesdays = schedule("Europe/Berlin", workdays=frozenset({3}))
    thursday = datetime(2026, 6, 11, 10, tzinfo=BERLIN)
    assert due_at(thursday, 0, wednesdays) == utc(2026, 6, 17, 7)
    wednesday_evening = datetime(2026, 6, 17, 18, tzinfo=BERLIN)
    assert due_at(wednesday_evening, 0, wednesdays) == utc(2026, 6, 24, 7)
    # Worst case: from just after the window, the next one is almost 7 days away.
    assert next_working_moment(wednesday_evening, wednesdays) == utc(2026, 6, 24, 7)


def test_snooze_is_due_at_from_now() -> None:
    now = datetime(2026, 6, 10, 15, tzinfo=BERLIN)  # Wednesday
    assert due_at(now, 2, schedule("Europe/Berlin")) == utc(2026, 6, 12, 7)  # Friday 09:00


# --------------------------------------------------------------------------- DST gaps


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected"),
    [
        # Spring-forward 02:00 -> 03:00: 02:30 is shifted to 03:30 local.
        (NEW_YORK, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30)),
        (BERLIN, date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 30)),
        (SYDNEY, date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 16, 15)),
        # The first instant of the gap itself is shifted to the first instant after it.
        (NEW_YORK, date(2026, 3, 8), time(2), utc(2026, 3, 8, 7)),
        # Just outside the gap nothing is shifted.
        (NEW_YORK, date(2026, 3, 8), time(1, 59), utc(2026, 3, 8, 6, 59)),
        (NEW_YORK, date(2026, 3, 8), time(3), utc(2026, 3, 8, 7)),
    ],
)
def test_to_instant_in_gap(zone: ZoneInfo, day: date, wall: time, expected: datetime) -> None:
    assert _to_instant(day, wall, zone) == expected


def test_work_start_inside_gap_is_shifted_by_gap_length() -> None:
    early = schedule("America/New_York", time(2, 30), time(5), EVERY_DAY)
    saturday = datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)
    result = due_at(saturday, 1, early)
    assert result == utc(2026, 3, 8, 7, 30)
    assert result.astimezone(NEW_YORK).time() == time(3, 30)
    # The next day is ordinary again.
    assert due_at(saturday, 2, early) == utc(2026, 3, 9, 6, 30)


def test_work_start_inside_gap_berlin_and_sydney() -> None:
    berlin = schedule("Europe/Berlin", time(2, 30), time(6), EVERY_DAY)
    assert due_at(datetime(2026, 3, 28, 12, tzinfo=BERLIN), 1, berlin) == utc(2026, 3, 29, 1, 30)
    sydney = schedule("Australia/Sydney", time(2, 15), time(6), EVERY_DAY)
    assert due_at(datetime(2026, 10, 3, 12, tzinfo=SYDNEY), 1, sydney) == utc(2026, 10, 3, 16, 15)


def test_next_working_moment_finds_first_instant_after_gap() -> None:
    # With work_start 02:30 the wall clock jumps 01:59:59 -> 03:00, and 03:00 is already
    # inside the window, so it is the earliest working instant.
    early = schedule("America/New_York", time(2, 30), time(5), EVERY_DAY)
    before_gap = datetime(2026, 3, 8, 1, tzinfo=NEW_YORK)
    result = next_working_moment(before_gap, early)
    assert result == utc(2026, 3, 8, 7)
    assert result.astimezone(NEW_YORK).time() == time(3)
    assert not is_working_time(result - timedelta(microseconds=1), early)


def test_window_entirely_inside_gap_skips_the_day() -> None:
    in_gap = schedule("America/New_York", time(2, 10), time(2, 50), EVERY_DAY)
    midnight = datetime(2026, 3, 8, 0, tzinfo=NEW_YORK)
    assert next_working_moment(midnight, in_gap) == utc(2026, 3, 9, 6, 10)
    assert due_at(datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), 1, in_gap) == utc(2026, 3, 9, 6, 10)


def test_window_entirely_inside_gap_on_only_workday_waits_a_week() -> None:
    sundays = schedule("America/New_York", time(2, 10), time(2, 50), frozenset({7}))
    saturday = datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)
    assert next_working_moment(saturday, sundays) == utc(2026, 3, 15, 6, 10)
    assert due_at(saturday, 0, sundays) == utc(2026, 3, 15, 6, 10)


def test_window_partly_inside_gap() -> None:
    # Berlin jumps 02:00 -> 03:00; only 03:00-03:30 of the 02:30-03:30 window exists.
    partial = schedule("Europe/Berlin", time(2, 30), time(3, 30), EVERY_DAY)
    midnight = datetime(2026, 3, 29, 0, tzinfo=BERLIN)
    result = next_working_moment(midnight, partial)
    assert result == utc(2026, 3, 29, 1)
    assert result.astimezone(BERLIN).time() == time(3)
    assert is_working_time(utc(2026, 3, 29, 1, 29), partial)
    assert not is_working_time(utc(2026, 3, 29, 1, 30), partial)
    # due_at starts the day at the shifted work_start (03:30), which is already work_end,
    # so the step rolls to the next day's 02:30 CEST.
    assert due_at(datetime(2026, 3, 28, 12, tzinfo=BERLIN), 1, partial) == utc(2026, 3, 30, 0, 30)


def test_moment_inside_gap_day() -> None:
    sched = schedule("America/New_York", time(9), time(17), EVERY_DAY)
    # 07:30 UTC is 03:30 EDT on the spring-forward day.
    assert next_working_moment(utc(2026, 3, 8, 7, 30), sched) == utc(2026, 3, 8, 13)
    # A wall time that does not exist, given directly as input, is still a valid instant.
    nonexistent = datetime(2026, 3, 8, 2, 30, tzinfo=NEW_YORK)
    assert due_at(nonexistent, 0, sched) == utc(2026, 3, 8, 13)


# --------------------------------------------------------------------------- DST folds


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected"),
    [
        # Fall-back: the ambiguous wall time resolves to its first (DST) occurrence.
        (NEW_YORK, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        (BERLIN, date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        (SYDNEY, date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 15, 30)),
        (NEW_YORK, date(2026, 11, 1), time(1), utc(2026, 11, 1, 5)),
        (NEW_YORK, date(2026, 11, 1), time(2), utc(2026, 11, 1, 7)),
    ],
)
def test_to_instant_in_fold_takes_first_occurrence(
    zone: ZoneInfo, day: date, wall: time, expected: datetime
) -> None:
    assert _to_instant(day, wall, zone) == expected


def test_work_start_inside_fold_uses_first_occurrence() -> None:
    sched = schedule("America/New_York", time(1, 30), time(9), EVERY_DAY)
    saturday = datetime(2026, 10, 31, 12, tzinfo=NEW_YORK)
    result = due_at(saturday, 1, sched)
    assert result == utc(2026, 11, 1, 5, 30)
    assert result.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize(
    ("fold", "expected"),
    [(0, utc(2026, 11, 1, 5, 30)), (1, utc(2026, 11, 1, 6, 30))],
)
def test_plan_start_during_fold_hour_inside_hours(fold: int, expected: datetime) -> None:
    sched = schedule("America/New_York", time(1), time(9), EVERY_DAY)
    plan_start = datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=NEW_YORK)
    assert due_at(plan_start, 0, sched) == expected


@pytest.mark.parametrize("fold", [0, 1])
def test_plan_start_during_fold_hour_outside_hours(fold: int) -> None:
    sched = schedule("America/New_York", time(9), time(17), EVERY_DAY)
    plan_start = datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=NEW_YORK)
    assert due_at(plan_start, 0, sched) == utc(2026, 11, 1, 14)
    assert due_at(plan_start, 1, sched) == utc(2026, 11, 2, 14)


def test_fold_reenters_window_on_the_repeated_hour() -> None:
    # Window 01:00-01:30; 01:40 EDT is past it, but the clock falls back to 01:00 EST
    # twenty minutes later, which is working time again.
    sched = schedule("America/New_York", time(1), time(1, 30), EVERY_DAY)
    after_first_pass = datetime(2026, 11, 1, 1, 40, fold=0, tzinfo=NEW_YORK)
    assert next_working_moment(after_first_pass, sched) == utc(2026, 11, 1, 6)


def test_sydney_fall_back_window() -> None:
    # Sydney leaves DST on 2026-04-05: 03:00 AEDT -> 02:00 AEST.
    sched = schedule("Australia/Sydney", time(2, 30), time(2, 45), EVERY_DAY)
    before = datetime(2026, 4, 5, 1, tzinfo=SYDNEY)
    first = next_working_moment(before, sched)
    assert first == utc(2026, 4, 4, 15, 30)
    second = next_working_moment(first + timedelta(minutes=15), sched)
    assert second == utc(2026, 4, 4, 16, 30)  # the repeated 02:30, now AEST


# --------------------------------------------------------------------------- properties

MAX_EXAMPLES = 250

# UTC instants of the DST transitions named in the project notes; moments are drawn close
# to them often, since that is where wall-clock arithmetic breaks.
TRANSITIONS = [
    utc(2026, 3, 8, 7),  # New York spring forward
    utc(2026, 11, 1, 6),  # New York fall back
    utc(2026, 3, 29, 1),  # Berlin spring forward
    utc(2026, 10, 25, 1),  # Berlin fall back
    utc(2026, 4, 4, 16),  # Sydney end of DST
    utc(2026, 10, 3, 16),  # Sydney start of DST
]

zone_names = st.sampled_from(ZONE_NAMES)
zones = zone_names.map(ZoneInfo)


@st.composite
def work_schedules(draw: st.DrawFn) -> WorkSchedule:
    last_minute = 24 * 60 - 1
    # Small-hours windows are drawn often so they overlap DST gaps and folds.
    start = draw(st.integers(0, last_minute - 1) | st.integers(60, 200))
    end = draw(st.integers(start + 1, last_minute) | st.integers(start + 1, min(start + 90, 1439)))
    workdays = draw(st.frozensets(st.integers(1, 7), min_size=1))
    return WorkSchedule(
        draw(zone_names),
        time(start // 60, start % 60),
        time(end // 60, end % 60),
        workdays,
    )


uniform_moments = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2030, 12, 31, 23, 59, 59),
    timezones=zones | st.just(UTC),
)


@st.composite
def near_transition_moments(draw: st.DrawFn) -> datetime:
    transition = draw(st.sampled_from(TRANSITIONS))
    shift = draw(st.timedeltas(min_value=timedelta(days=-4), max_value=timedelta(days=4)))
    return (transition + shift).astimezone(draw(zones | st.just(UTC)))


moments = uniform_moments | near_transition_moments()
offsets = st.integers(0, 365)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(sched=work_schedules(), plan_start=moments, offset_days=offsets)
def test_due_at_properties(sched: WorkSchedule, plan_start: datetime, offset_days: int) -> None:
    result = due_at(plan_start, offset_days, sched)
    assert result.tzinfo is UTC
    assert is_working_time(result, sched)
    assert result >= plan_start
    target = local_date(plan_start, sched) + timedelta(days=offset_days)
    assert local_date(result, sched) >= target


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(
    sched=work_schedules(),
    plan_start=moments,
    first=offsets,
    extra=st.integers(0, 10) | offsets,
)
def test_due_at_is_monotonic_in_offset(
    sched: WorkSchedule, plan_start: datetime, first: int, extra: int
) -> None:
    assert due_at(plan_start, first, sched) <= due_at(plan_start, first + extra, sched)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(
    sched=work_schedules(),
    moment=moments,
    probes=st.lists(st.floats(0, 1, exclude_max=True), max_size=20),
)
def test_next_working_moment_properties(
    sched: WorkSchedule, moment: datetime, probes: list[float]
) -> None:
    result = next_working_moment(moment, sched)
    assert result.tzinfo is UTC
    assert result >= moment
    assert is_working_time(result, sched)
    assert next_working_moment(result, sched) == result
    if is_working_time(moment, sched):
        # Compared in UTC: PEP 495 makes a wall time inside a DST gap compare unequal to
        # every instant of another zone, even the one it denotes.
        assert result == moment.astimezone(UTC)
    else:
        # Earliest: working time is a union of intervals closed on the left, so the result
        # is a left edge, and nothing sampled between moment and result is working time.
        assert not is_working_time(result - timedelta(microseconds=1), sched)
        # Instant arithmetic must go through UTC: adding to a ZoneInfo-aware datetime is
        # wall-clock arithmetic.
        start = moment.astimezone(UTC)
        for fraction in probes:
            probe = start + (result - start) * fraction
            if probe < result:  # rounding to microseconds can land on result itself
                assert not is_working_time(probe, sched)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(sched=work_schedules(), moment=moments, gap=st.timedeltas(timedelta(0), timedelta(days=9)))
def test_next_working_moment_is_monotonic(
    sched: WorkSchedule, moment: datetime, gap: timedelta
) -> None:
    later = moment.astimezone(UTC) + gap
    assert next_working_moment(moment, sched) <= next_working_moment(later, sched)


def _brute_force_next_working_minute(moment: datetime, sched: WorkSchedule) -> datetime:
    # Every tested zone changes offset on whole minutes and every window edge is a whole
    # minute, so from a whole-minute start the answer is on the minute grid.
    candidate = moment.astimezone(UTC)
    while not is_working_time(candidate, sched):
        candidate += timedelta(minutes=1)
    return candidate


@settings(max_examples=40, deadline=None)
@given(
    sched=work_schedules(),
    transition=st.sampled_from(TRANSITIONS),
    minutes=st.integers(-3 * 24 * 60, 2 * 24 * 60),
)
def test_next_working_moment_matches_brute_force(
    sched: WorkSchedule, transition: datetime, minutes: int
) -> None:
    moment = transition + timedelta(minutes=minutes)
    assert next_working_moment(moment, sched) == _brute_force_next_working_minute(moment, sched)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(
    zone=zones,
    day=st.dates(date(2024, 1, 1), date(2030, 12, 31))
    | st.sampled_from([t.date() + timedelta(days=d) for t in TRANSITIONS for d in (-1, 0, 1)]),
    wall=st.times(),
)
def test_to_instant_round_trips_or_shifts_across_gap(zone: ZoneInfo, day: date, wall: time) -> None:
    instant = _to_instant(day, wall, zone)
    assert instant.tzinfo is UTC
    naive = datetime.combine(day, wall)
    back = instant.astimezone(zone).replace(tzinfo=None)
    if back != naive:
        # Only a nonexistent wall time may move, forward by at most the gap length.
        assert (
            datetime.combine(day, wall.replace(fold=0), tzinfo=zone)
            .astimezone(UTC)
            .astimezone(zone)
            .replace(tzinfo=None)
            != naive
        )
        assert timedelta(0) < back - naive <= timedelta(hours=1)
    else:
        # First occurrence: an hour earlier (the fold length here) the wall clock was behind.
        earlier = (instant - timedelta(hours=1)).astimezone(zone).replace(tzinfo=None)
        assert earlier < naive


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(sched=work_schedules(), moment=moments)
def test_next_local_midnight_is_where_the_local_date_changes(
    sched: WorkSchedule, moment: datetime
) -> None:
    midnight = next_local_midnight(moment, sched)
    assert midnight.tzinfo is UTC
    assert midnight > moment
    today = local_date(moment, sched)
    assert local_date(midnight, sched) == today + timedelta(days=1)
    assert local_date(midnight - timedelta(microseconds=1), sched) == today


def test_next_local_midnight_inside_a_dst_gap_is_the_end_of_the_gap() -> None:
    # Chile springs forward at midnight: on 2026-09-06 the wall clock goes 00:00 -> 01:00,
    # so the new day begins at 01:00 local, 04:00 UTC (UTC-3 after the change).
    chile = schedule("America/Santiago")
    midnight = next_local_midnight(utc(2026, 9, 5, 20), chile)
    assert midnight == utc(2026, 9, 6, 4)
    assert local_date(midnight, chile) == date(2026, 9, 6)


@st.composite
def offset_questions(draw: st.DrawFn) -> list[tuple[datetime, datetime]]:
    """A run of (start, end] questions as a dispatch pass asks them: near each other, mostly
    moving forward, sometimes back, spanning up to a few days, some across a transition."""
    cursor = draw(moments).astimezone(UTC)
    questions = []
    for _ in range(draw(st.integers(1, 12))):
        cursor += draw(st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=3)))
        span = draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)))
        questions.append((cursor, cursor + span))
    return questions


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(zone=zones, questions=offset_questions())
def test_the_remembered_stretch_answers_as_probing_does(
    zone: ZoneInfo, questions: list[tuple[datetime, datetime]]
) -> None:
    calendar._stretches.clear()
    for start, end in questions:
        expected = calendar._probe_offset_change(start, end, zone)
        assert calendar._first_offset_change(start, end, zone) == expected, (start, end)


def test_a_transition_found_once_answers_later_questions_in_its_stretch() -> None:
    calendar._stretches.clear()
    week_before = utc(2026, 3, 2, 12)  # New York springs forward on 2026-03-08 07:00 UTC
    assert (
        calendar._first_offset_change(week_before, week_before + timedelta(days=1), NEW_YORK)
        is None
    )
    [stretch] = calendar._stretches.values()
    assert (stretch.until, stretch.changes) == (utc(2026, 3, 8, 7), True)
    later = utc(2026, 3, 7, 20)
    assert calendar._first_offset_change(later, later + timedelta(days=2), NEW_YORK) == utc(
        2026, 3, 8, 7
    )
    assert calendar._stretches[NEW_YORK] is stretch  # answered without probing again
    # Ending exactly on the change includes it; starting exactly on it is past it.
    spring = utc(2026, 3, 8, 7)
    assert calendar._first_offset_change(later, spring, NEW_YORK) == spring
    assert (
        calendar._first_offset_change(later, spring - timedelta(microseconds=1), NEW_YORK) is None
    )
    assert calendar._first_offset_change(spring, spring + timedelta(days=3), NEW_YORK) is None


def test_a_question_reaching_past_the_stretch_or_starting_before_it_probes_again() -> None:
    spring = utc(2026, 3, 8, 7)
    calendar._stretches.clear()
    probed_from = spring - calendar._STRETCH_AHEAD - timedelta(hours=1)
    assert calendar._first_offset_change(probed_from, probed_from, NEW_YORK) is None
    assert (
        calendar._first_offset_change(probed_from, probed_from + timedelta(hours=1), NEW_YORK)
        is None
    )
    # No change through the week probed, which ends an hour before the change.
    assert not calendar._stretches[NEW_YORK].changes
    day_later = probed_from + timedelta(days=1)
    assert (
        calendar._first_offset_change(day_later, spring + timedelta(minutes=30), NEW_YORK) == spring
    )

    calendar._stretches.clear()
    after = spring + timedelta(hours=1)
    assert calendar._first_offset_change(after, after + timedelta(days=1), NEW_YORK) is None
    before = spring - timedelta(hours=1)
    assert calendar._first_offset_change(before, spring + timedelta(hours=2), NEW_YORK) == spring
