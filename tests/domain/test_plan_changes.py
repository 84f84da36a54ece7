"""The decisions behind a plan edit and a reconcile repair, checked on every shape of plan and
reminder rows hypothesis can draw: the changes are applied to a model of the rows here (as
app/services/steps.apply_changes applies them to the tables) and the result is checked."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import calendar
from app.domain.calendar import DEFAULT_SCHEDULE, WorkSchedule
from app.domain.plan_changes import (
    Cancel,
    Change,
    Close,
    Finding,
    HistoryIn,
    Log,
    Move,
    NewReminder,
    Redate,
    ReminderState,
    Reopen,
    Restatus,
    SetPlan,
    SetPlanStart,
    SetPlanStatus,
    SetStep,
    repair_drift,
    replace_plan,
    statuses_after,
)
from app.domain.plans import (
    CLOSED,
    FINISHED,
    JSON_STATUS_OF,
    OPEN,
    PLAN_STATUSES,
    REMINDER_STATUS_OF_JSON,
    REMINDER_STATUSES,
    STEP_STATUSES,
    PlanStatus,
    ReminderStatus,
    ResolvedStep,
    StepSpec,
    StepStatus,
    resolve_delays,
)
from app.domain.steps import NotAStep, Plan, PlanEntry, PlanStep, outline, plan_to_json
from app.services.reconcile import _disagrees

MAX_EXAMPLES = 250
NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # a Monday
SCHEDULES = [
    DEFAULT_SCHEDULE,
    WorkSchedule("Europe/Berlin", time(9), time(18), frozenset({1, 2, 3, 4, 5})),
    WorkSchedule("Asia/Tokyo", time(8, 30), time(17), frozenset(range(1, 8))),
]


# --------------------------------------------------------------------------- the model


@dataclass
class Lead:
    """A lead's rows as the tables hold them, for applying changes to."""

    plan: Plan
    plan_status: PlanStatus
    plan_started_at: datetime | None
    reminders: dict[int, ReminderState]  # by id
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def by_step(self) -> dict[int, ReminderState]:
        return {r.step_id: r for r in self.reminders.values()}


def apply(lead: Lead, changes: list[Change]) -> Lead:
    plan = lead.plan
    status, started = lead.plan_status, lead.plan_started_at
    rows = dict(lead.reminders)
    log = list(lead.log)
    next_id = max(rows, default=0) + 1
    for change in changes:
        if isinstance(change, NewReminder):
            rid = change.reuses
            if rid is None:
                rid, next_id = next_id, next_id + 1
            else:
                assert rows[rid].status == "cancelled"
                assert rows[rid].step_id == change.step_id
            rows[rid] = ReminderState(
                rid,
                change.step_id,
                change.position,
                change.status,
                change.due_at,
                change.planned_due_at,
                change.completed_at,
            )
        elif isinstance(change, Move):
            rows[change.reminder_id] = replace(rows[change.reminder_id], position=change.position)
        elif isinstance(change, Redate):
            rows[change.reminder_id] = replace(
                rows[change.reminder_id],
                position=change.position,
                due_at=change.due_at,
                planned_due_at=change.planned_due_at,
            )
        elif isinstance(change, Close):
            assert rows[change.reminder_id].status in OPEN
            rows[change.reminder_id] = replace(
                rows[change.reminder_id], status=change.status, completed_at=change.completed_at
            )
        elif isinstance(change, Restatus):
            rows[change.reminder_id] = replace(rows[change.reminder_id], status=change.status)
        elif isinstance(change, Reopen):
            assert rows[change.reminder_id].status == "cancelled"
            rows[change.reminder_id] = replace(
                rows[change.reminder_id],
                status="pending",
                position=change.position,
                due_at=change.due_at,
            )
        elif isinstance(change, Cancel):
            assert rows[change.reminder_id].status in OPEN
            rows[change.reminder_id] = replace(rows[change.reminder_id], status="cancelled")
        elif isinstance(change, SetStep):
            plan = plan.replace_at(change.position, change.step)
        elif isinstance(change, SetPlan):
            plan = change.plan
        elif isinstance(change, SetPlanStatus):
            status = change.status
        elif isinstance(change, SetPlanStart):
            started = change.at
        else:
            log.append((change.activity_type, dict(change.details)))
    return Lead(plan, status, started, rows, log)


def logs(changes: list[Change]) -> list[tuple[str, dict[str, Any]]]:
    return [(c.activity_type, dict(c.details)) for c in changes if isinstance(c, Log)]


# --------------------------------------------------------------------------- strategies

moments = st.integers(-40 * 24, 40 * 24).map(lambda hours: NOW + timedelta(hours=hours))
step_ids = st.integers(1, 6)


@st.composite
def plan_steps(draw: st.DrawFn, step_id: int) -> PlanStep:
    status = draw(st.sampled_from(STEP_STATUSES))
    return PlanStep(
        step_id=step_id,
        description=f"step {step_id}",
        timing=draw(st.none() | st.sampled_from(["Day 3", "Week 2", "tomorrow", "soon"])),
        delay_days=draw(st.none() | st.integers(0, 30)),
        status=status,
        completed_at=draw(st.none() | moments),
    )


@st.composite
def drifted_plans(draw: st.DrawFn) -> Plan:
    """Anything an outside writer may leave: repeated ids, objects that are not steps."""
    entries: list[PlanEntry] = []
    for _ in range(draw(st.integers(0, 7))):
        if draw(st.integers(0, 9)) == 0:
            entries.append(NotAStep({"note": "kept"}))
        else:
            entries.append(draw(plan_steps(draw(step_ids))))
    return Plan(tuple(entries))


@st.composite
def reminder_rows(draw: st.DrawFn) -> list[ReminderState]:
    rows = []
    ids = draw(st.lists(step_ids, unique=True, max_size=6))
    for index, step_id in enumerate(ids):
        status = draw(st.sampled_from(REMINDER_STATUSES))
        planned = draw(moments)
        rows.append(
            ReminderState(
                id=100 + index,
                step_id=step_id,
                position=draw(st.integers(0, 7)),
                status=status,
                due_at=planned + timedelta(days=draw(st.integers(0, 20))),
                planned_due_at=planned,
                completed_at=draw(moments) if status in CLOSED else None,
            )
        )
    return rows


@st.composite
def new_plans(draw: st.DrawFn) -> tuple[list[ResolvedStep], dict[int, HistoryIn]]:
    """A plan as PUT /plans/{id}/steps accepts it (validate_specs): unique ids, delays that
    never go back."""
    ids = draw(st.lists(step_ids, unique=True, max_size=6))
    delays = sorted(draw(st.lists(st.integers(0, 30), min_size=len(ids), max_size=len(ids))))
    specs = [
        StepSpec(
            step_id=step_id,
            description=f"step {step_id}",
            timing=draw(st.none() | st.just("Day 2")),
            delay_days=delay if draw(st.booleans()) else None,
        )
        for step_id, delay in zip(ids, delays, strict=True)
    ]
    history = {
        spec.step_id: HistoryIn(
            status=draw(st.sampled_from(["done", "skipped"])),
            completed_at=draw(st.none() | moments.filter(lambda m: m <= NOW)),
        )
        for spec in specs
        if draw(st.integers(0, 3)) == 0
    }
    return resolve_delays(specs), history


random_leads = st.builds(
    Lead,
    plan=drifted_plans(),
    plan_status=st.sampled_from(PLAN_STATUSES),
    plan_started_at=st.none() | moments,
    reminders=reminder_rows().map(lambda rows: {r.id: r for r in rows}),
)

# The reminder status that agrees with each JSON status (reconcile's rules).
AGREEING: dict[StepStatus, list[ReminderStatus]] = {
    "pending": ["pending", "sent", "auto_snoozed"],
    "cancelled": ["pending", "sent", "auto_snoozed"],
    "done": ["completed", "cancelled"],
    "skipped": ["skipped", "cancelled"],
}


@st.composite
def nearly_agreeing_leads(draw: st.DrawFn) -> Lead:
    """Rows that agree with their plan but for at most one thing, the drift an outside
    writer typically leaves: random rows almost never agree, and a rule that misses a
    single disagreement would go unseen."""
    plan = draw(drifted_plans())
    rows: dict[int, ReminderState] = {}
    seen: set[int] = set()
    for position, step in plan.positioned():
        if step.step_id in seen:
            continue
        seen.add(step.step_id)
        status = draw(st.sampled_from(AGREEING[step.status]))
        due = draw(moments)
        rows[100 + step.step_id] = ReminderState(
            100 + step.step_id,
            step.step_id,
            position if status != "cancelled" else draw(st.integers(0, 7)),
            status,
            due,
            due,
            step.completed_at if status in CLOSED else None,
        )
    for step_id in draw(st.lists(st.integers(7, 9), unique=True, max_size=2)):
        due = draw(moments)
        status = draw(st.sampled_from(sorted(CLOSED)))
        rows[100 + step_id] = ReminderState(
            100 + step_id, step_id, draw(st.integers(0, 9)), status, due, due, due
        )
    if rows:
        rid = draw(st.sampled_from(sorted(rows)))
        drift = draw(st.sampled_from(["none", "position", "status", "gone"]))
        if drift == "position":
            rows[rid] = replace(rows[rid], position=rows[rid].position + 1)
        elif drift == "status":
            rows[rid] = replace(rows[rid], status=draw(st.sampled_from(REMINDER_STATUSES)))
        elif drift == "gone":
            del rows[rid]
    return Lead(
        plan,
        draw(st.sampled_from(PLAN_STATUSES)),
        draw(st.none() | moments),
        rows,
    )


leads = random_leads | nearly_agreeing_leads()
schedules = st.sampled_from(SCHEDULES)
nows = moments


def replaced(
    lead: Lead,
    steps: list[ResolvedStep],
    history: dict[int, HistoryIn],
    schedule: WorkSchedule,
    now: datetime,
) -> list[Change]:
    return replace_plan(
        plan=lead.plan,
        plan_status=lead.plan_status,
        plan_started_at=lead.plan_started_at,
        reminders=list(lead.reminders.values()),
        steps=steps,
        history=history,
        schedule=schedule,
        now=now,
    )


def repaired(
    lead: Lead, schedule: WorkSchedule, now: datetime
) -> tuple[list[Finding], list[Change]]:
    return repair_drift(
        plan=lead.plan,
        plan_status=lead.plan_status,
        plan_started_at=lead.plan_started_at,
        reminders=list(lead.reminders.values()),
        schedule=schedule,
        now=now,
    )


# --------------------------------------------------------------------------- replace_plan


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(lead=leads, new=new_plans(), schedule=schedules, now=nows)
def test_a_replaced_plan_is_followed_by_its_reminders(
    lead: Lead,
    new: tuple[list[ResolvedStep], dict[int, HistoryIn]],
    schedule: WorkSchedule,
    now: datetime,
) -> None:
    steps, history = new
    changes = replaced(lead, steps, history, schedule, now)
    after = apply(lead, changes)
    rows = after.by_step()
    before = lead.by_step()
    floor = calendar.next_working_moment(now, schedule)
    kept = {s.spec.step_id for s in steps}
    # Every step of the new plan has one reminder, at its position, and the JSON records it.
    assert [s.step_id for s in after.plan.steps] == [s.spec.step_id for s in steps]
    for step, stored in zip(steps, after.plan.steps, strict=True):
        row = rows[step.spec.step_id]
        assert row.position == step.position
        assert stored.delay_days == step.delay.days
        assert stored.status == JSON_STATUS_OF[row.status]
        assert stored.completed_at == (row.completed_at if row.status in CLOSED else None)
    for change in changes:
        if isinstance(change, NewReminder):
            # Nothing is scheduled before the plan's own date, or in the past.
            assert change.due_at == max(change.planned_due_at, floor)
            assert change.step_id not in before or before[change.step_id].status == "cancelled"
            imported = history.get(change.step_id)
            expected = "pending" if imported is None else REMINDER_STATUS_OF_JSON[imported.status]
            assert change.status == expected
        if isinstance(change, Redate):
            assert change.due_at >= floor
            assert change.due_at >= change.planned_due_at or change.due_at == floor
    # History is kept: a closed step stays closed with its date; nothing is deleted.
    for step_id, row in before.items():
        if row.status in FINISHED:
            assert rows[step_id].status == row.status
            assert rows[step_id].completed_at == row.completed_at
        if step_id not in kept:
            expected = "cancelled" if row.status in OPEN else row.status
            assert rows[step_id].status == expected
            assert rows[step_id].due_at == row.due_at
    # Only a changed delay re-dates an open step.
    old_delays = {s.step_id: s.delay_days for s in lead.plan.steps}
    redated = {c.reminder_id for c in changes if isinstance(c, Redate)}
    for step in steps:
        found = before.get(step.spec.step_id)
        if found is not None and found.status in OPEN:
            assert (found.id in redated) == (old_delays.get(step.spec.step_id) != step.delay.days)
            if found.id not in redated:
                assert rows[step.spec.step_id].due_at == found.due_at
    # The plan's status follows its steps; a pause survives an edit.
    any_open = any(rows[s].status in OPEN for s in kept)
    if not steps:
        assert after.plan_status == "none"
        assert after.plan_started_at is None
    else:
        assert after.plan_started_at == (lead.plan_started_at or now)
        if not any_open:
            assert after.plan_status == "completed"
        else:
            assert after.plan_status == ("paused" if lead.plan_status == "paused" else "active")


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(lead=leads, new=new_plans(), schedule=schedules, now=nows)
def test_a_replacement_logs_what_it_changed(
    lead: Lead,
    new: tuple[list[ResolvedStep], dict[int, HistoryIn]],
    schedule: WorkSchedule,
    now: datetime,
) -> None:
    steps, history = new
    changes = replaced(lead, steps, history, schedule, now)
    entries = logs(changes)
    first = not lead.plan and not lead.reminders
    completed: tuple[str, dict[str, Any]] = ("plan_completed", {})
    after = apply(lead, changes)
    if after.plan_status == "completed" and lead.plan_status != "completed" and not first:
        assert entries[-1] == completed
        entries = entries[:-1]
    else:
        assert completed not in entries
    if first:
        assert entries == [("plan_activated", {"steps": len(steps)})]
        return
    added = [c.step_id for c in changes if isinstance(c, NewReminder)]
    kept = {s.spec.step_id for s in steps}
    old_ids = {s.step_id for s in lead.plan.steps}
    removed = [
        r.step_id
        for r in lead.reminders.values()
        if r.step_id not in kept and (r.status in OPEN or r.step_id in old_ids)
    ]
    order_before = [e.step_id if isinstance(e, PlanStep) else None for e in lead.plan.entries]
    if added or removed or any(isinstance(c, Redate) for c in changes):
        assert entries == [
            (
                "plan_edited",
                {
                    "added": added,
                    "removed": removed,
                    "redated": [
                        lead.reminders[c.reminder_id].step_id
                        for c in changes
                        if isinstance(c, Redate)
                    ],
                },
            )
        ]
    elif order_before != [s.spec.step_id for s in steps]:
        assert entries == [("plan_edited", {"added": [], "removed": [], "redated": []})]
    else:
        assert entries == []


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(
    lead=leads,
    new=new_plans(),
    schedule=schedules,
    now=nows,
    later=st.integers(0, 24 * 60),
)
def test_replacing_a_plan_with_itself_changes_nothing(
    lead: Lead,
    new: tuple[list[ResolvedStep], dict[int, HistoryIn]],
    schedule: WorkSchedule,
    now: datetime,
    later: int,
) -> None:
    steps, history = new
    once = apply(lead, replaced(lead, steps, history, schedule, now))
    again = replaced(once, steps, history, schedule, now + timedelta(minutes=later))
    twice = apply(once, again)
    if not steps and not once.reminders:
        # An empty plan on a lead with no reminders leaves nothing behind, so each
        # application reads as a first activation (of no steps) again, as it always has.
        assert logs(again) == [("plan_activated", {"steps": 0})]
    else:
        assert logs(again) == []
    assert twice.reminders == once.reminders
    assert plan_to_json(twice.plan) == plan_to_json(once.plan)
    assert (twice.plan_status, twice.plan_started_at) == (once.plan_status, once.plan_started_at)


def test_an_open_step_re_timed_keeps_its_snooze_drift() -> None:
    # Planned for Monday 9:00 (day 7 from a Monday start), snoozed two days to Wednesday;
    # moved to day 14, it lands on the Wednesday a week later.
    start = datetime(2026, 2, 23, 9, 0, tzinfo=UTC)
    planned = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    row = ReminderState(7, 1, 0, "pending", planned + timedelta(days=2), planned, None)
    plan = Plan((PlanStep(1, "call", delay_days=7),))
    steps = resolve_delays([StepSpec(1, "call", delay_days=14)])
    changes = replace_plan(
        plan=plan,
        plan_status="active",
        plan_started_at=start,
        reminders=[row],
        steps=steps,
        history={},
        schedule=DEFAULT_SCHEDULE,
        now=NOW,
    )
    assert changes[0] == Redate(
        7, 0, datetime(2026, 3, 11, 9, 0, tzinfo=UTC), datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    )
    assert changes[-1] == Log("plan_edited", {"added": [], "removed": [], "redated": [1]})


# --------------------------------------------------------------------------- repair_drift


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(lead=leads, schedule=schedules, now=nows)
def test_the_cheap_scan_finds_exactly_the_leads_that_need_repair(
    lead: Lead, schedule: WorkSchedule, now: datetime
) -> None:
    # reconcile only repairs what _disagrees flags: a lead it missed would stay drifted.
    findings, changes = repaired(lead, schedule, now)
    scanned = {r.step_id: (r.status, r.position) for r in lead.reminders.values()}
    assert _disagrees(outline(plan_to_json(lead.plan)), scanned) == bool(findings)
    assert bool(changes) == bool(findings)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(lead=leads, schedule=schedules, now=nows, later=st.integers(0, 24 * 60))
def test_a_repaired_lead_needs_no_more_repair(
    lead: Lead, schedule: WorkSchedule, now: datetime, later: int
) -> None:
    findings, changes = repaired(lead, schedule, now)
    after = apply(lead, changes)
    assert repaired(after, schedule, now + timedelta(minutes=later)) == ([], [])
    if findings:
        assert logs(changes) == [
            (
                "plan_reconciled",
                {"repairs": [{"step_id": f.step_id, "what": f.what} for f in findings]},
            )
        ]


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(lead=leads, schedule=schedules, now=nows)
def test_a_repair_never_throws_history_away(
    lead: Lead, schedule: WorkSchedule, now: datetime
) -> None:
    _, changes = repaired(lead, schedule, now)
    after = apply(lead, changes)
    rows = after.by_step()
    floor = calendar.next_working_moment(now, schedule)
    first_steps: dict[int, PlanStep] = {}
    for step in lead.plan.steps:
        first_steps.setdefault(step.step_id, step)
    # A step closed in either record stays closed; the JSON says how.
    for step_id, row in lead.by_step().items():
        in_plan = first_steps.get(step_id)
        if row.status in FINISHED:
            assert rows[step_id].status in FINISHED
            if in_plan is not None and in_plan.status in REMINDER_STATUS_OF_JSON:
                assert rows[step_id].status == REMINDER_STATUS_OF_JSON[in_plan.status]
        if in_plan is None:
            # Gone from the plan: cancelled if open, otherwise untouched.
            assert rows[step_id] == (
                replace(row, status="cancelled") if row.status in OPEN else row
            )
    for step_id, step in first_steps.items():
        if step.status in REMINDER_STATUS_OF_JSON:
            assert rows[step_id].status in CLOSED
        else:
            # Open in the JSON (pending, or cancelled by an outside writer): the reminder
            # decides, and the JSON follows a closed one.
            row = rows[step_id]
            if row.status in FINISHED:
                # A row closed from outside without a date is dated by the repair.
                assert after.plan.step(step_id) == replace(
                    step, status=JSON_STATUS_OF[row.status], completed_at=row.completed_at or now
                )
            else:
                assert row.status in OPEN
                assert after.plan.step(step_id) == step
    # Everything the pass (re)opens or creates is due no earlier than the next working moment.
    for change in changes:
        if isinstance(change, Reopen):
            assert change.due_at >= floor
        if isinstance(change, NewReminder):
            assert change.due_at >= floor
            assert change.reuses is None
    # Only the JSON of a step closed by its reminder is rewritten, with the reminder's date.
    for change in changes:
        if isinstance(change, SetStep):
            row = lead.by_step()[change.step.step_id]
            assert change.step.status == JSON_STATUS_OF[row.status]
            assert change.step.completed_at == (row.completed_at or now)
            entry = lead.plan.entries[change.position]
            assert isinstance(entry, PlanStep)
            assert entry.status not in REMINDER_STATUS_OF_JSON
            assert change.step == replace(
                entry, status=change.step.status, completed_at=change.step.completed_at
            )


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(lead=leads, schedule=schedules, now=nows)
def test_a_repair_sets_the_plan_status_its_steps_call_for(
    lead: Lead, schedule: WorkSchedule, now: datetime
) -> None:
    findings, changes = repaired(lead, schedule, now)
    after = apply(lead, changes)
    if not findings:
        assert after == lead
        return
    in_plan = {s.step_id for s in lead.plan.steps}
    any_open = any(
        status in OPEN
        for step_id, status in statuses_after(lead.reminders.values(), changes).items()
        if step_id in in_plan
    )
    if lead.plan_status == "active" and in_plan and not any_open:
        assert (after.plan_status, after.plan_started_at) == ("completed", lead.plan_started_at)
    elif lead.plan_status in ("completed", "none") and any_open:
        assert after.plan_status == "active"
        assert after.plan_started_at == (lead.plan_started_at or now)
    else:
        assert (after.plan_status, after.plan_started_at) == (
            lead.plan_status,
            lead.plan_started_at,
        )


def test_each_kind_of_drift_is_reported_as_reconcile_always_reported_it() -> None:
    done_at = NOW - timedelta(days=3)
    plan = Plan(
        (
            PlanStep(1, "a", delay_days=1, status="done", completed_at=done_at),
            NotAStep({"note": "kept"}),
            PlanStep(2, "b", delay_days=2),
            PlanStep(3, "c", delay_days=3, status="skipped"),
            PlanStep(4, "d", delay_days=4),
            PlanStep(5, "e", delay_days=5),
        )
    )
    due = NOW + timedelta(days=1)
    rows = [
        ReminderState(11, 1, 0, "sent", due, due, None),
        ReminderState(12, 2, 2, "completed", due, due, done_at),
        ReminderState(13, 3, 4, "completed", due, due, done_at),
        ReminderState(14, 4, 3, "cancelled", due, due, None),
        ReminderState(16, 6, 5, "pending", due, due, None),
    ]
    findings, changes = repair_drift(
        plan=plan,
        plan_status="completed",
        plan_started_at=None,
        reminders=rows,
        schedule=DEFAULT_SCHEDULE,
        now=NOW,
    )
    assert findings == [
        Finding(1, "plan says done, reminder was sent; closed it"),
        Finding(2, "plan said pending, reminder is completed; plan updated"),
        Finding(3, "reminder completed → plan's skipped"),
        Finding(3, "position 4 → 3"),
        Finding(4, "step is in the plan again; reopened its reminder"),
        Finding(5, "had no reminder; created one (pending)"),
        Finding(6, "step is gone from the plan; cancelled its reminder"),
    ]
    planned_5 = calendar.due_at(NOW, 5, DEFAULT_SCHEDULE)
    assert changes == [
        Close(11, "completed", done_at),
        SetStep(2, replace(plan.entries[2], status="done", completed_at=done_at)),  # type: ignore[arg-type]
        Restatus(13, "skipped"),
        Move(13, 3),
        Reopen(14, 4, due),
        NewReminder(5, 5, planned_5, planned_5, "pending", None),
        Cancel(16),
        SetPlanStatus("active"),
        SetPlanStart(NOW),
        Log(
            "plan_reconciled",
            {"repairs": [{"step_id": f.step_id, "what": f.what} for f in findings]},
        ),
    ]
