"""What a lead's reminders, plan and log need, decided without I/O: when a plan is replaced
(`replace_plan`), and when the two records drifted apart (`repair_drift`).

Each returns a list of changes; app/services/steps.py applies them, in the caller's
transaction, through the one transition path. No clock: callers pass `now` in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain import calendar
from app.domain.calendar import WorkSchedule
from app.domain.plans import (
    FINISHED,
    JSON_STATUS_OF,
    OPEN,
    REMINDER_STATUS_OF_JSON,
    PlanStatus,
    ReminderStatus,
    ResolvedStep,
    StepSpec,
    StepStatus,
    days_between,
    resolve_delays,
)
from app.domain.steps import Plan, PlanStep


@dataclass(frozen=True, slots=True)
class ReminderState:
    """What the decisions read of a reminder row."""

    id: int
    step_id: int
    position: int
    status: ReminderStatus
    due_at: datetime
    planned_due_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryIn:
    """A step imported as already closed (status done/skipped in the posted plan)."""

    status: StepStatus
    completed_at: datetime | None


# --- Changes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewReminder:
    """A step scheduled from scratch: a new row or, with `reuses`, the step's cancelled row
    started over (the row is unique per lead and step)."""

    step_id: int
    position: int
    planned_due_at: datetime
    due_at: datetime
    status: ReminderStatus
    completed_at: datetime | None
    reuses: int | None = None


@dataclass(frozen=True, slots=True)
class Move:
    reminder_id: int
    position: int


@dataclass(frozen=True, slots=True)
class Redate:
    """An open step whose delay changed; a new date restarts its escalation ladder."""

    reminder_id: int
    position: int
    due_at: datetime
    planned_due_at: datetime


@dataclass(frozen=True, slots=True)
class Close:
    """An open reminder closed; its claim, if any, released."""

    reminder_id: int
    status: ReminderStatus
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class Restatus:
    """A closed reminder closed the other way (done rather than skipped, or back)."""

    reminder_id: int
    status: ReminderStatus


@dataclass(frozen=True, slots=True)
class Reopen:
    """A cancelled reminder open again from its own date (or the next working moment)."""

    reminder_id: int
    position: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Cancel:
    reminder_id: int


@dataclass(frozen=True, slots=True)
class SetStep:
    """The plan's entry at `position` rewritten as `step`."""

    position: int
    step: PlanStep


@dataclass(frozen=True, slots=True)
class SetPlan:
    plan: Plan


@dataclass(frozen=True, slots=True)
class SetPlanStatus:
    status: PlanStatus


@dataclass(frozen=True, slots=True)
class SetPlanStart:
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Log:
    """An entry for lead_activity_log; empty details are stored as none."""

    activity_type: str
    details: Mapping[str, Any] = field(default_factory=dict)


Change = (
    NewReminder
    | Move
    | Redate
    | Close
    | Restatus
    | Reopen
    | Cancel
    | SetStep
    | SetPlan
    | SetPlanStatus
    | SetPlanStart
    | Log
)


def statuses_after(
    reminders: Iterable[ReminderState], changes: Iterable[Change]
) -> dict[int, ReminderStatus]:
    """Each step's reminder status (step id → status) once the changes are applied."""
    step_of = {r.id: r.step_id for r in reminders}
    after = {r.step_id: r.status for r in reminders}
    for change in changes:
        if isinstance(change, NewReminder):
            after[change.step_id] = change.status
        elif isinstance(change, Close | Restatus):
            after[step_of[change.reminder_id]] = change.status
        elif isinstance(change, Reopen):
            after[step_of[change.reminder_id]] = "pending"
        elif isinstance(change, Cancel):
            after[step_of[change.reminder_id]] = "cancelled"
    return after


def _any_open(after: Mapping[int, ReminderStatus], step_ids: Iterable[int]) -> bool:
    return any(after.get(s) in OPEN for s in step_ids)


# --- A plan replaced -----------------------------------------------------------------------


def replace_plan(
    *,
    plan: Plan,
    plan_status: PlanStatus,
    plan_started_at: datetime | None,
    reminders: Sequence[ReminderState],
    steps: Sequence[ResolvedStep],
    history: Mapping[int, HistoryIn],
    schedule: WorkSchedule,
    now: datetime,
) -> list[Change]:
    """Make the reminders follow `steps` (validated, delays resolved).

    Open reminders follow the new plan (re-dated only when their delay changed, keeping any
    snooze or lateness drift); closed ones keep their history; steps no longer in the plan
    are cancelled, not deleted. Applying the same plan again changes only positions (to
    what they are) and writes the same JSON: it logs nothing."""
    plan_start = plan_started_at or now
    existing = {r.step_id: r for r in reminders}
    old_delays = {s.step_id: s.delay_days for s in plan.steps}
    floor = calendar.next_working_moment(now, schedule)
    changes: list[Change] = []
    plan_steps: list[PlanStep] = []
    added: list[int] = []
    redated: list[int] = []

    for step in steps:
        spec = step.spec
        planned = calendar.due_at(plan_start, step.delay.days, schedule)
        ex = existing.get(spec.step_id)
        if ex is not None and ex.status in FINISHED:
            changes.append(Move(ex.id, step.position))
            plan_steps.append(
                PlanStep.scheduled(
                    step, status=JSON_STATUS_OF[ex.status], completed_at=ex.completed_at
                )
            )
            continue
        if ex is not None and ex.status in OPEN:
            if old_delays.get(spec.step_id) != step.delay.days:
                drift = max(0, days_between(ex.planned_due_at, ex.due_at, schedule))
                due = max(calendar.due_at(plan_start, step.delay.days + drift, schedule), floor)
                changes.append(Redate(ex.id, step.position, due, planned))
                redated.append(spec.step_id)
            else:
                changes.append(Move(ex.id, step.position))
            plan_steps.append(PlanStep.scheduled(step, status="pending", completed_at=None))
            continue
        status: ReminderStatus = "pending"
        completed_at: datetime | None = None
        imported = history.get(spec.step_id)
        if imported is not None:
            status = REMINDER_STATUS_OF_JSON[imported.status]
            completed_at = imported.completed_at or now
        changes.append(
            NewReminder(
                step_id=spec.step_id,
                position=step.position,
                planned_due_at=planned,
                due_at=max(planned, floor),
                status=status,
                completed_at=completed_at,
                # A cancelled step put back into the plan.
                reuses=None if ex is None else ex.id,
            )
        )
        added.append(spec.step_id)
        plan_steps.append(
            PlanStep.scheduled(step, status=JSON_STATUS_OF[status], completed_at=completed_at)
        )

    kept = {step.spec.step_id for step in steps}
    removed: list[int] = []
    old_ids = {s.step_id for s in plan.steps}
    for ex in existing.values():
        if ex.step_id in kept:
            continue
        if ex.status in OPEN:
            changes.append(Cancel(ex.id))
            removed.append(ex.step_id)
        elif ex.step_id in old_ids:
            removed.append(ex.step_id)  # closed: leaves the plan, keeps its reminder row

    new_status: PlanStatus
    if not steps:
        new_status = "none"
    elif not _any_open(statuses_after(reminders, changes), kept):
        new_status = "completed"
    elif plan_status == "paused":
        new_status = "paused"
    else:
        new_status = "active"
    changes.append(SetPlan(Plan(tuple(plan_steps))))
    changes.append(SetPlanStatus(new_status))
    changes.append(SetPlanStart(plan_start if steps else None))
    first_activation = not plan and not reminders
    if first_activation:
        changes.append(Log("plan_activated", {"steps": len(steps)}))
    elif (
        added
        or removed
        or redated
        or [e.step_id if isinstance(e, PlanStep) else None for e in plan.entries]
        != [s.spec.step_id for s in steps]
    ):
        changes.append(Log("plan_edited", {"added": added, "removed": removed, "redated": redated}))
    if new_status == "completed" and plan_status != "completed" and not first_activation:
        changes.append(Log("plan_completed"))
    return changes


# --- A drifted plan repaired ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One disagreement repaired, as reconcile reports and logs it."""

    step_id: int
    what: str


def repair_drift(
    *,
    plan: Plan,
    plan_status: PlanStatus,
    plan_started_at: datetime | None,
    reminders: Sequence[ReminderState],
    schedule: WorkSchedule,
    now: datetime,
) -> tuple[list[Finding], list[Change]]:
    """What disagrees between the plan (history) and its reminders (scheduling), and the
    changes that repair it; ([], []) when they agree.

    The reminder table is the authority for scheduling (when, and whether a step is still
    open), the JSON for history (what was done or skipped, and when). A step closed in
    either record stays closed. Where a step_id repeats, the first step with it counts.
    app/services/reconcile.py's `_disagrees` is the same rules, cheaper; they must agree."""
    by_step = {r.step_id: r for r in reminders}
    plan_start = plan_started_at or now
    floor = calendar.next_working_moment(now, schedule)
    specs = [
        StepSpec(
            step_id=s.step_id, description=s.description, timing=s.timing, delay_days=s.delay_days
        )
        for s in plan.steps
    ]
    delays = {r.spec.step_id: r.delay.days for r in resolve_delays(specs)}
    findings: list[Finding] = []
    changes: list[Change] = []
    seen: set[int] = set()
    for position, step in plan.positioned():
        step_id = step.step_id
        if step_id in seen:
            continue
        seen.add(step_id)
        json_status = step.status
        reminder = by_step.get(step_id)
        if reminder is None:
            planned = calendar.due_at(plan_start, delays.get(step_id, 0), schedule)
            status = REMINDER_STATUS_OF_JSON.get(json_status, "pending")
            changes.append(
                NewReminder(
                    step_id=step_id,
                    position=position,
                    planned_due_at=planned,
                    due_at=max(planned, floor),
                    status=status,
                    completed_at=None if status == "pending" else step.completed_at or now,
                )
            )
            findings.append(Finding(step_id, f"had no reminder; created one ({status})"))
            continue
        if reminder.status in OPEN and json_status in REMINDER_STATUS_OF_JSON:
            changes.append(
                Close(reminder.id, REMINDER_STATUS_OF_JSON[json_status], step.completed_at or now)
            )
            findings.append(
                Finding(
                    step_id, f"plan says {json_status}, reminder was {reminder.status}; closed it"
                )
            )
        elif reminder.status in FINISHED and json_status != JSON_STATUS_OF[reminder.status]:
            if json_status in REMINDER_STATUS_OF_JSON:
                # Both closed, differently: the JSON is the history's authority.
                changes.append(Restatus(reminder.id, REMINDER_STATUS_OF_JSON[json_status]))
                findings.append(
                    Finding(step_id, f"reminder {reminder.status} → plan's {json_status}")
                )
            else:
                closed = replace(
                    step,
                    status=JSON_STATUS_OF[reminder.status],
                    completed_at=reminder.completed_at or now,
                )
                changes.append(SetStep(position, closed))
                findings.append(
                    Finding(
                        step_id,
                        f"plan said {json_status}, reminder is {reminder.status}; plan updated",
                    )
                )
        elif reminder.status == "cancelled" and json_status not in REMINDER_STATUS_OF_JSON:
            changes.append(Reopen(reminder.id, position, max(reminder.due_at, floor)))
            findings.append(Finding(step_id, "step is in the plan again; reopened its reminder"))
        if reminder.position != position and reminder.status != "cancelled":
            changes.append(Move(reminder.id, position))
            findings.append(Finding(step_id, f"position {reminder.position} → {position}"))
    for step_id, reminder in by_step.items():
        if step_id not in seen and reminder.status in OPEN:
            changes.append(Cancel(reminder.id))
            findings.append(Finding(step_id, "step is gone from the plan; cancelled its reminder"))
    if not findings:
        return [], []
    any_open = _any_open(statuses_after(reminders, changes), seen)
    if plan_status == "active" and not any_open and seen:
        changes.append(SetPlanStatus("completed"))
    elif plan_status in ("completed", "none") and any_open:
        changes.append(SetPlanStatus("active"))
        changes.append(SetPlanStart(plan_start))
    changes.append(
        Log(
            "plan_reconciled",
            {"repairs": [{"step_id": f.step_id, "what": f.what} for f in findings]},
        )
    )
    return findings, changes
