"""Plans and steps as pure data: the stored step format, delays, and what a step shows.

No I/O and no clock: callers pass `now` in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from app.domain.calendar import WorkSchedule, local_date
from app.domain.timing import ResolvedDelay, resolve_delay
from app.domain.users import User, parse_hhmm

Channel = Literal["linkedin", "email", "phone", "telegram", "other"]
CHANNELS: tuple[Channel, ...] = ("linkedin", "email", "phone", "telegram", "other")
MAX_STEPS = 20
MAX_DESCRIPTION = 1000
MAX_SUGGESTED_TEXT = 4000
MAX_TIMING = 200

# A reminder row's status (the scheduling record) ...
ReminderStatus = Literal["pending", "sent", "completed", "skipped", "auto_snoozed", "cancelled"]
# ... the status a step carries inside engagement_plan (the history record) ...
StepStatus = Literal["pending", "done", "skipped", "cancelled"]
# ... and a lead's plan as a whole.
PlanStatus = Literal["none", "active", "paused", "completed"]

REMINDER_STATUSES: tuple[ReminderStatus, ...] = get_args(ReminderStatus)
STEP_STATUSES: tuple[StepStatus, ...] = get_args(StepStatus)
PLAN_STATUSES: tuple[PlanStatus, ...] = get_args(PlanStatus)
# Statuses the dispatcher still has to act on (the partial due index covers exactly these).
OPEN_STATUSES: tuple[ReminderStatus, ...] = ("pending", "sent", "auto_snoozed")
OPEN: frozenset[ReminderStatus] = frozenset(OPEN_STATUSES)
CLOSED: frozenset[ReminderStatus] = frozenset({"completed", "skipped", "cancelled"})
# Closed by a person (done or skipped), as opposed to cancelled with the plan.
FINISHED: frozenset[ReminderStatus] = frozenset({"completed", "skipped"})
JSON_STATUS_OF: dict[ReminderStatus, StepStatus] = {
    "pending": "pending",
    "sent": "pending",
    "auto_snoozed": "pending",
    "completed": "done",
    "skipped": "skipped",
    "cancelled": "cancelled",
}
REMINDER_STATUS_OF_JSON: dict[StepStatus, ReminderStatus] = {
    "done": "completed",
    "skipped": "skipped",
}

DisplayStatus = Literal["done", "skipped", "due", "overdue", "upcoming", "snoozed", "paused"]


def schedule_of(user: User) -> WorkSchedule:
    """The user's working hours. Schedules are immutable and most users share a handful,
    so equal ones are one object: a dispatch pass over 100,000 users holds a few, not
    100,000 (see BENCHMARKS.md, "Figures behind design choices"), and a transition skips
    validating the zone again."""
    return _schedule(user.timezone, user.work_start, user.work_end, frozenset(user.workdays))


@functools.lru_cache(maxsize=4096)
def _schedule(
    timezone: str, work_start: str, work_end: str, workdays: frozenset[int]
) -> WorkSchedule:
    return WorkSchedule(
        timezone=timezone,
        work_start=parse_hhmm(work_start),
        work_end=parse_hhmm(work_end),
        workdays=workdays,
    )


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step as a plan describes it, before scheduling."""

    step_id: int
    description: str
    timing: str | None = None
    delay_days: Any = None  # as given: the plan's own value, validated or not
    channel: Channel = "other"
    suggested_text: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedStep:
    spec: StepSpec
    position: int
    delay: ResolvedDelay


def resolve_delays(specs: list[StepSpec]) -> list[ResolvedStep]:
    """Each step's delay in days; a later step never comes before an earlier one."""
    resolved: list[ResolvedStep] = []
    previous = 0
    for position, spec in enumerate(specs):
        delay = resolve_delay(spec.delay_days, spec.timing, previous)
        if delay.days < previous:
            # Parsed text can go backwards ("Week 2" then "Day 3"): steps run in order, so
            # the later one waits for the earlier rather than jumping ahead of it.
            delay = ResolvedDelay(previous, delay.source)
        resolved.append(ResolvedStep(spec=spec, position=position, delay=delay))
        previous = delay.days
    return resolved


@dataclass(frozen=True, slots=True)
class StepView:
    display: DisplayStatus
    overdue_days: int


def display_status(
    *,
    status: ReminderStatus,
    due_at: datetime,
    snooze_count: int,
    plan_paused: bool,
    now: datetime,
) -> StepView:
    """What a salesperson should read next to a step at `now`."""
    if status == "completed":
        return StepView("done", 0)
    if status in ("skipped", "cancelled"):
        return StepView("skipped", 0)
    if plan_paused:
        return StepView("paused", 0)
    if due_at > now:
        if status == "auto_snoozed" or snooze_count > 0:
            return StepView("snoozed", 0)
        return StepView("upcoming", 0)
    days = (now - due_at) // timedelta(days=1)
    if days >= 1:
        return StepView("overdue", days)
    return StepView("due", 0)


def display_changes_at(
    *, status: ReminderStatus, due_at: datetime, plan_paused: bool, now: datetime
) -> datetime | None:
    """The first instant after `now` at which display_status of this step reads otherwise
    with nothing else changed (upcoming turns due, overdue gains a day); None if never."""
    if status in CLOSED or plan_paused:
        return None
    if due_at > now:
        return due_at
    return due_at + timedelta(days=(now - due_at) // timedelta(days=1) + 1)


def days_between(earlier: datetime, later: datetime, schedule: WorkSchedule) -> int:
    """Whole calendar days between two instants, as the user's wall calendar counts them."""
    return (local_date(later, schedule) - local_date(earlier, schedule)).days
