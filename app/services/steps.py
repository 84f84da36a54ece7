"""THE transition path: every change to a step or a plan goes through these functions.

A press in Telegram, a tap in the Mini App, the dispatcher's auto-snooze and a plan edit
all land here. Each function is one transaction that updates the reminder rows, the step
inside `lead_registry.engagement_plan` and `lead_activity_log` together, and applies the
sequencing rules: later open steps move by the same number of days when an earlier one is
snoozed or closes late, and nothing ever moves earlier than planned.

Locking: every function locks the lead row first (SELECT ... FOR NO KEY UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), then reads its reminders. One
lock order everywhere, and two presses of the same step at the same moment apply exactly
once: the second sees the first's result. The dispatcher's record takes the other order
(a reminder row, then the lead's KEY SHARE for its activity's foreign key), which is why
the lead lock is NO KEY UPDATE: that pair of locks does not conflict.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.domain import calendar, plan_changes
from app.domain.calendar import WorkSchedule
from app.domain.escalation import AUTO_SNOOZE_DAYS, Rung, after_message
from app.domain.outcomes import (
    OUTCOME_OF_STATUS,
    STATUS_AFTER,
    UNDO_WINDOW,
    LeadStatus,
    Outcome,
    status_after_first_done,
)
from app.domain.plan_changes import (
    Cancel,
    Change,
    Close,
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
)
from app.domain.plan_changes import HistoryIn as HistoryIn
from app.domain.plans import (
    CLOSED,
    JSON_STATUS_OF,
    OPEN,
    ReminderStatus,
    StepSpec,
    StepStatus,
    days_between,
    resolve_delays,
    schedule_of,
)
from app.domain.steps import Plan, parse_plan, plan_to_json
from app.domain.users import User
from app.repositories import activity as activity_repo
from app.repositories import changes as changes_repo
from app.repositories import leads as leads_repo
from app.repositories import reminders as reminders_repo
from app.repositories import users as users_repo
from app.repositories.activity import NewActivity, UndoCandidate
from app.repositories.leads import Lead
from app.repositories.reminders import Reminder
from app.services.errors import Conflict, Invalid, NotFound

log = logging.getLogger(__name__)

MAX_SNOOZE_DAYS = 30
UNDO_MINUTES = int(UNDO_WINDOW.total_seconds() // 60)
OUTCOME_WORDS: dict[Outcome, str] = {
    "replied": "they replied",
    "meeting_booked": "meeting booked",
    "not_interested": "not interested",
    "closed_won": "won",
    "closed_lost": "lost",
}

# The action that closes a step, and the reminder status it leaves behind.
_CLOSING: dict[str, ReminderStatus] = {"complete": "completed", "skip": "skipped"}
_ACTIVITY_OF = {"complete": "step_completed", "skip": "step_skipped"}

# Undo: the actions it takes back, what it leaves alone, and which values are moments.
_UNDOABLE = frozenset({"step_completed", "step_skipped", "step_snoozed", "plan_finished"})
_NOT_RESTORED = frozenset({"claimed_by", "claimed_until"})
_LEAD_RESTORED = frozenset(
    {"plan_status", "plan_paused_at", "plan_outcome", "status", "status_reason"}
)
_DATETIMES = frozenset(
    {"due_at", "next_action_at", "completed_at", "planned_due_at", "plan_paused_at"}
)
# What happened to a lead's plan that no undo can see through.
_PLAN_REWRITTEN = frozenset({"plan_edited", "plan_reconciled", "plan_activated"})


@dataclass(slots=True)
class StepChange:
    """What a transition did, for the caller to render (toast, edited message, JSON)."""

    lead: Lead
    reminder: Reminder
    reminders: list[Reminder]
    changed: bool
    plan_completed: bool = False
    moved: list[int] = field(default_factory=list)
    undo_until: datetime | None = None
    """Until when the person's action can be taken back; None when it cannot."""


@dataclass(slots=True)
class _Unit:
    """One transaction's working set: the locked lead and its reminders, plus pending writes."""

    conn: AsyncConnection
    lead: Lead
    schedule: WorkSchedule
    reminders: list[Reminder]
    now: datetime
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    activity: list[NewActivity] = field(default_factory=list)
    plan: Plan | None = None
    lead_values: dict[str, Any] = field(default_factory=dict)
    inserted: bool = False
    # The entry in `activity` of a person's action that undo may take back (see _commit).
    undoable: int | None = None

    def set(self, reminder: Reminder, **values: Any) -> None:
        if "due_at" in values:
            # A new date restarts the escalation ladder: the step is due afresh.
            values.setdefault("next_action_at", values["due_at"])
            values.setdefault("nudge_stage", 0)
        self.updates.setdefault(reminder.id, {}).update(values)

    def current(self, reminder: Reminder) -> Reminder:
        values = self.updates.get(reminder.id)
        # dataclasses.replace builds a new object even with nothing to change; most steps
        # of a lead are untouched by a transition.
        return replace(reminder, **values) if values else reminder

    def lead_after(self) -> Lead:
        values = dict(self.lead_values)
        if self.plan is not None:
            values["plan"] = self.plan
        return replace(self.lead, **values) if values else self.lead

    def log(self, activity_type: str, *, step_id: int | None = None, **details: Any) -> None:
        self.activity.append(
            NewActivity(
                lead_id=self.lead.id,
                telegram_id=self.lead.telegram_id,
                activity_type=activity_type,
                created_at=self.now,
                step_id=step_id,
                details=details or None,
            )
        )

    def set_json_step(self, step_id: int, status: StepStatus, completed_at: datetime) -> None:
        plan = self.lead.plan if self.plan is None else self.plan
        self.plan = plan.with_status(step_id, status, completed_at)

    def is_open(self, reminder: Reminder) -> bool:
        return self.current(reminder).status in OPEN

    def status(self) -> LeadStatus:
        return self.lead_after().status

    def set_status(self, to: LeadStatus, reason: str | None) -> bool:
        """The lead's status, logged as a status_change; False when nothing changed."""
        before = self.lead_after()
        if before.status == to and (reason is None or before.status_reason == reason):
            return False
        self.lead_values.update(status=to, status_reason=reason)
        details: dict[str, Any] = {"from": before.status, "to": to}
        if reason is not None:
            details["reason"] = reason
        self.log("status_change", **details)
        return True

    def log_undoable(self, activity_type: str, *, step_id: int, **details: Any) -> None:
        """A person's action on a step: undo can take it back within UNDO_WINDOW."""
        self.undoable = len(self.activity)
        self.log(activity_type, step_id=step_id, **details)


async def _open_unit(
    conn: AsyncConnection,
    telegram_id: int,
    now: datetime,
    user: User | None,
    *,
    lead_id: int | None = None,
    reminder_id: int | None = None,
) -> _Unit:
    """Lock the lead (found directly, or through one of its reminders) and read its steps."""
    lead: Lead | None
    if reminder_id is not None and user is None:
        # A button press: the owner is read with the lock, in the same round trip.
        found = await leads_repo.lock_by_reminder_with_owner(conn, reminder_id, telegram_id)
        if found is None:
            raise NotFound("reminder")
        lead, user = found
    elif reminder_id is not None:
        lead = await leads_repo.lock_by_reminder(conn, reminder_id, telegram_id)
        if lead is None:
            raise NotFound("reminder")
    else:
        assert lead_id is not None
        lead = await leads_repo.get_for_update(conn, lead_id, telegram_id)
        if lead is None:
            raise NotFound("lead")
    if user is None:
        user = await users_repo.get(conn, telegram_id)
        if user is None:
            raise NotFound("user")
    reminders = await reminders_repo.for_lead(conn, lead.id)
    return _Unit(conn=conn, lead=lead, schedule=schedule_of(user), reminders=reminders, now=now)


def _undo_state(unit: _Unit) -> dict[str, Any]:
    """What the action changed, before and after, as JSON: undo checks the "after" values
    are still there (nothing changed the steps since) and writes the "before" ones back."""
    originals = {r.id: r for r in unit.reminders}
    reminders = {}
    for rid, values in unit.updates.items():
        kept = {k: v for k, v in values.items() if k not in _NOT_RESTORED}
        reminders[str(rid)] = {
            "before": {k: _encode(getattr(originals[rid], k)) for k in kept},
            "after": {k: _encode(v) for k, v in kept.items()},
        }
    lead = {k: v for k, v in unit.lead_values.items() if k in _LEAD_RESTORED}
    return {
        "reminders": reminders,
        "lead": {
            "before": {k: _encode(getattr(unit.lead, k)) for k in lead},
            "after": {k: _encode(v) for k, v in lead.items()},
        },
        "plan": plan_to_json(unit.lead.plan) if unit.plan is not None else None,
    }


def _encode(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _decode(key: str, value: Any) -> Any:
    if key in _DATETIMES and value is not None:
        return datetime.fromisoformat(value)
    return value


async def _commit(unit: _Unit) -> None:
    if unit.undoable is not None:
        entry = unit.activity[unit.undoable]
        unit.activity[unit.undoable] = replace(entry, undo_state=_undo_state(unit))
    lead_values = dict(unit.lead_values)
    if unit.plan is not None:
        lead_values["engagement_plan"] = plan_to_json(unit.plan)
    if lead_values:
        lead_values["updated_at"] = unit.now
    await changes_repo.write(
        unit.conn,
        reminder_updates=[
            (rid, {**values, "updated_at": unit.now}) for rid, values in unit.updates.items()
        ],
        telegram_id=unit.lead.telegram_id,
        lead_id=unit.lead.id,
        lead_values=lead_values,
        activity=unit.activity,
        wake=unit.inserted or any("next_action_at" in values for values in unit.updates.values()),
    )


def _release_waiting(unit: _Unit, after: Reminder) -> None:
    """Steps the dispatcher parked while they waited for `after` are due again on their
    own dates now that it is closed."""
    for other in unit.reminders:
        current = unit.current(other)
        if (
            other.position > after.position
            and current.status in OPEN
            and current.nudge_stage == 0
            and current.next_action_at != current.due_at
        ):
            unit.set(other, next_action_at=current.due_at)


def _shift_later(unit: _Unit, after: Reminder, days: int) -> list[int]:
    """Move every open step after `after` by `days` calendar days (never earlier)."""
    if days <= 0:
        return []
    moved = []
    for other in unit.reminders:
        if other.position <= after.position or not unit.is_open(other):
            continue
        current = unit.current(other)
        new_due = calendar.due_at(current.due_at, days, unit.schedule)
        unit.set(other, due_at=new_due)
        moved.append(other.step_id)
    return moved


def _finish_plan_if_done(unit: _Unit) -> bool:
    if any(unit.is_open(r) for r in unit.reminders):
        return False
    if unit.lead.plan_status == "completed":
        return False
    unit.lead_values["plan_status"] = "completed"
    unit.log("plan_completed")
    return True


def _view(unit: _Unit, reminder: Reminder, changed: bool, **extra: Any) -> StepChange:
    reminders = [unit.current(r) for r in unit.reminders]
    return StepChange(
        lead=unit.lead_after(),
        reminder=unit.current(reminder),
        reminders=reminders,
        changed=changed,
        undo_until=unit.now + UNDO_WINDOW if unit.undoable is not None else None,
        **extra,
    )


def _find(unit: _Unit, reminder_id: int) -> Reminder:
    for reminder in unit.reminders:
        if reminder.id == reminder_id:
            return reminder
    raise NotFound("reminder")  # deleted between the first read and the lock


async def close_step(
    db: Database, user: User | int, reminder_id: int, action: str, now: datetime
) -> StepChange:
    """Complete or skip a step. Repeating the same action is a no-op; the other is a 409.

    `user` is the owner, or their Telegram id: then they are read in the step's own
    transaction (a button press, which has no user at hand, saves a round trip)."""
    if action not in _CLOSING:
        raise ValueError(f"unknown closing action {action!r}")
    target_status = _CLOSING[action]
    telegram_id, known = (user, None) if isinstance(user, int) else (user.telegram_id, user)
    async with db.transaction() as conn:
        unit = await _open_unit(conn, telegram_id, now, known, reminder_id=reminder_id)
        reminder = _find(unit, reminder_id)
        if reminder.status == target_status:
            return _view(unit, reminder, changed=False)
        if reminder.status in CLOSED:
            raise Conflict(_closed_reason(reminder.status))
        unit.set(
            reminder, status=target_status, completed_at=now, claimed_by=None, claimed_until=None
        )
        # While a plan is paused its clock stands still: lateness stops growing at the pause,
        # and resume moves every open step by the paused days.
        effective_now = now
        if unit.lead.plan_status == "paused" and unit.lead.plan_paused_at is not None:
            effective_now = min(now, unit.lead.plan_paused_at)
        late_days = (
            days_between(reminder.due_at, effective_now, unit.schedule)
            if effective_now > reminder.due_at
            else 0
        )
        moved = _shift_later(unit, reminder, late_days)
        _release_waiting(unit, reminder)
        unit.set_json_step(reminder.step_id, JSON_STATUS_OF[target_status], now)
        if action == "complete" and (reached := status_after_first_done(unit.status())):
            unit.set_status(reached, None)
        unit.log_undoable(
            _ACTIVITY_OF[action],
            step_id=reminder.step_id,
            reminder_id=reminder.id,
            late_days=late_days,
            **({"moved_steps": moved} if moved else {}),
        )
        completed = _finish_plan_if_done(unit)
        await _commit(unit)
        return _view(unit, reminder, changed=True, plan_completed=completed, moved=moved)


async def snooze(
    db: Database, user: User, reminder_id: int, days: int, now: datetime
) -> StepChange:
    """Snooze N days from now (not from the due date), at the start of working hours."""
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise Invalid(("days",), f"must be between 1 and {MAX_SNOOZE_DAYS}")
    async with db.transaction() as conn:
        unit = await _open_unit(conn, user.telegram_id, now, user, reminder_id=reminder_id)
        reminder = _find(unit, reminder_id)
        if reminder.status in CLOSED:
            raise Conflict(_closed_reason(reminder.status))
        if unit.lead.plan_status == "paused":
            # A paused plan's dates are frozen and move as a whole on resume; a date chosen
            # inside the pause would then move twice.
            raise Conflict("the plan is paused; resume it to snooze its steps")
        # From now for a step already due; from its date for one still ahead, which never
        # brings a step earlier than planned.
        new_due = calendar.due_at(max(now, reminder.due_at), days, unit.schedule)
        moved = _postpone(unit, reminder, new_due, status="pending")
        unit.log_undoable(
            "step_snoozed",
            step_id=reminder.step_id,
            reminder_id=reminder.id,
            days=days,
            until=new_due.isoformat(),
            **({"moved_steps": moved} if moved else {}),
        )
        await _commit(unit)
        return _view(unit, reminder, changed=True, moved=moved)


async def auto_snooze(
    db: Database, telegram_id: int, reminder_id: int, now: datetime
) -> StepChange | None:
    """The ladder's last rung: silently move an ignored step a week ahead.

    Returns None when the step closed or changed meanwhile, so the caller does nothing.
    """
    async with db.transaction() as conn:
        try:
            unit = await _open_unit(conn, telegram_id, now, None, reminder_id=reminder_id)
        except NotFound:
            return None  # the lead was deleted meanwhile
        reminder = _find(unit, reminder_id)
        if reminder.status not in OPEN:
            return None
        new_due = calendar.due_at(now, AUTO_SNOOZE_DAYS, unit.schedule)
        moved = _postpone(unit, reminder, new_due, status="auto_snoozed")
        unit.log(
            "step_auto_snoozed",
            step_id=reminder.step_id,
            reminder_id=reminder.id,
            until=new_due.isoformat(),
            reminders_ignored=reminder.reminder_count,
        )
        await _commit(unit)
        return _view(unit, reminder, changed=True, moved=moved)


def _postpone(
    unit: _Unit, reminder: Reminder, new_due: datetime, *, status: ReminderStatus
) -> list[int]:
    shift = (
        days_between(reminder.due_at, new_due, unit.schedule) if new_due > reminder.due_at else 0
    )
    unit.set(
        reminder,
        status=status,
        due_at=new_due,
        snooze_count=reminder.snooze_count + 1,
        claimed_by=None,
        claimed_until=None,
    )
    return _shift_later(unit, reminder, shift)


def _closed_reason(status: ReminderStatus) -> str:
    if status == "cancelled":
        return "this step was removed from the plan"
    word = "done" if status == "completed" else "skipped"
    return f"this step is already {word}"


async def pause_plan(db: Database, user: User, lead_id: int, now: datetime) -> Lead:
    async with db.transaction() as conn:
        unit = await _open_unit(conn, user.telegram_id, now, user, lead_id=lead_id)
        status = unit.lead.plan_status
        if status == "paused":
            return unit.lead
        if status != "active":
            raise Conflict(
                "there is no active plan to pause"
                if status == "none"
                else "the plan is already completed"
            )
        unit.lead_values.update(plan_status="paused", plan_paused_at=now)
        unit.log("plan_paused")
        await _commit(unit)
        return unit.lead_after()


async def resume_plan(db: Database, user: User, lead_id: int, now: datetime) -> Lead:
    """Resume where the plan left off: open steps move by the days it was paused."""
    async with db.transaction() as conn:
        unit = await _open_unit(conn, user.telegram_id, now, user, lead_id=lead_id)
        if unit.lead.plan_status == "active":
            return unit.lead
        if unit.lead.plan_status != "paused":
            raise Conflict("the plan is not paused")
        paused_at = unit.lead.plan_paused_at or now
        days = days_between(paused_at, now, unit.schedule) if now > paused_at else 0
        moved = []
        if days > 0:
            for reminder in unit.reminders:
                if unit.is_open(reminder):
                    unit.set(reminder, due_at=calendar.due_at(reminder.due_at, days, unit.schedule))
                    moved.append(reminder.step_id)
        unit.lead_values.update(plan_status="active", plan_paused_at=None)
        extra: dict[str, Any] = {"moved_steps": moved} if moved else {}
        unit.log("plan_resumed", paused_days=days, **extra)
        await _commit(unit)
        return unit.lead_after()


@dataclass(slots=True)
class LeadChange:
    """A change to a lead as a whole (its outcome, status or fields), for the caller."""

    lead: Lead
    reminders: list[Reminder]
    changed: bool


async def finish_plan(
    db: Database,
    user: User | int,
    outcome: Outcome,
    reason: str | None,
    now: datetime,
    *,
    lead_id: int | None = None,
    reminder_id: int | None = None,
) -> StepChange | LeadChange:
    """End the plan with what really happened: every open step cancelled, the plan
    completed with its outcome, the lead's status following it. From a reminder (the bot's
    Replied), the answer is that step's change, and undo can take it back."""
    telegram_id, known = (user, None) if isinstance(user, int) else (user.telegram_id, user)
    async with db.transaction() as conn:
        unit = await _open_unit(
            conn, telegram_id, now, known, lead_id=lead_id, reminder_id=reminder_id
        )
        reminder = _find(unit, reminder_id) if reminder_id is not None else None
        changed = _finish(unit, outcome, reason, reminder)
        if changed:
            await _commit(unit)
        if reminder is not None:
            return _view(unit, reminder, changed=changed, plan_completed=changed)
        return LeadChange(unit.lead_after(), [unit.current(r) for r in unit.reminders], changed)


def _finish(unit: _Unit, outcome: Outcome, reason: str | None, pressed: Reminder | None) -> bool:
    lead = unit.lead
    if lead.plan_outcome == outcome:
        return False
    if lead.plan_outcome is not None:
        raise Conflict(f"the plan is already finished ({OUTCOME_WORDS[lead.plan_outcome]})")
    cancelled = []
    for reminder in unit.reminders:
        if unit.is_open(reminder):
            unit.set(reminder, status="cancelled", claimed_by=None, claimed_until=None)
            unit.set_json_step(reminder.step_id, "cancelled", unit.now)
            cancelled.append(reminder.step_id)
    unit.lead_values["plan_outcome"] = outcome
    if lead.plan_status in ("active", "paused"):
        unit.lead_values.update(plan_status="completed", plan_paused_at=None)
    details: dict[str, Any] = {"outcome": outcome, "cancelled_steps": cancelled}
    if reason is not None:
        details["reason"] = reason
    if pressed is not None:
        unit.log_undoable(
            "plan_finished", step_id=pressed.step_id, reminder_id=pressed.id, **details
        )
    else:
        unit.log("plan_finished", **details)
    unit.set_status(STATUS_AFTER[outcome], reason)
    return True


async def update_lead(
    db: Database,
    user: User,
    lead_id: int,
    fields: dict[str, Any],
    status: LeadStatus | None,
    reason: str | None,
    now: datetime,
) -> LeadChange:
    """Edit a lead's facts and status. A closing status finishes an active plan with the
    matching outcome; an edited fact is news for the lead's drafts."""
    async with db.transaction() as conn:
        unit = await _open_unit(conn, user.telegram_id, now, user, lead_id=lead_id)
        edited = sorted(k for k, v in fields.items() if getattr(unit.lead, k) != v)
        if edited:
            unit.lead_values.update({k: fields[k] for k in edited})
            unit.log("lead_edited", fields=edited)
        if status is not None:
            finishes = OUTCOME_OF_STATUS.get(status)
            if finishes is not None and unit.lead.plan_status in ("active", "paused"):
                _finish(unit, finishes, reason, None)
            if unit.status() != status or (
                reason is not None and unit.lead_after().status_reason != reason
            ):
                unit.set_status(status, reason)
        elif reason is not None:
            raise Invalid(("reason",), "a reason goes with a status")
        changed = bool(unit.activity)
        if changed:
            await _commit(unit)
        return LeadChange(unit.lead_after(), [unit.current(r) for r in unit.reminders], changed)


async def undo(db: Database, user: User | int, reminder_id: int, now: datetime) -> StepChange:
    """Take back the last action a person took on the step (done, skip, snooze, or a plan
    finished from it), made within UNDO_WINDOW, if nothing has changed its steps since."""
    telegram_id, known = (user, None) if isinstance(user, int) else (user.telegram_id, user)
    async with db.transaction() as conn:
        unit = await _open_unit(conn, telegram_id, now, known, reminder_id=reminder_id)
        reminder = _find(unit, reminder_id)
        recent = await activity_repo.since(conn, unit.lead.id, now - UNDO_WINDOW)
        action = _undoable_action(recent, reminder_id)
        state = action.undo_state
        assert state is not None
        by_id = {r.id: r for r in unit.reminders}
        _check_unchanged(state, by_id, unit.lead)
        moved = []
        for rid_text, change in state["reminders"].items():
            rid = int(rid_text)
            before = {k: _decode(k, v) for k, v in change["before"].items()}
            if before.get("next_action_at") is not None and before["next_action_at"] < now:
                # Its next reminder or nudge was due meanwhile: it comes now, not in a burst.
                before["next_action_at"] = now
            if (
                action.activity_type == "plan_finished"
                and rid != reminder_id
                and before.get("status") in OPEN
                and by_id[rid].due_at < now
            ):
                # A step the finish cancelled, due meanwhile: reopened from now on.
                due = calendar.due_at(now, 0, unit.schedule)
                before.update(due_at=due, next_action_at=due, nudge_stage=0)
            if "due_at" in before and rid != reminder_id:
                moved.append(by_id[rid].step_id)
            unit.updates[rid] = {**before, "claimed_by": None, "claimed_until": None}
        if state["plan"] is not None:
            unit.plan = parse_plan(state["plan"])
        lead_before = {k: _decode(k, v) for k, v in state["lead"]["before"].items()}
        status_before = lead_before.get("status")
        if status_before is not None and status_before != unit.lead.status:
            unit.log(
                "status_change", **{"from": unit.lead.status, "to": status_before, "undo": True}
            )
        unit.lead_values.update(lead_before)
        unit.log(
            "step_undone",
            step_id=reminder.step_id,
            reminder_id=reminder.id,
            undid=action.activity_type,
            activity_id=action.id,
            **({"moved_steps": moved} if moved else {}),
        )
        await _commit(unit)
        return _view(unit, reminder, changed=True, moved=moved)


def _undoable_action(recent: list[UndoCandidate], reminder_id: int) -> UndoCandidate:
    """The newest person's action on the step within the window, if it may be undone."""
    for entry in recent:  # newest first
        if entry.activity_type in _PLAN_REWRITTEN:
            raise Conflict("the plan has changed since; nothing to undo")
        if entry.details.get("reminder_id") != reminder_id:
            continue
        if entry.activity_type == "step_undone":
            break
        if entry.activity_type in _UNDOABLE and entry.undo_state is not None:
            return entry
        if entry.activity_type == "step_auto_snoozed":
            raise Conflict("the step was moved on since; nothing to undo")
    raise Conflict(f"nothing to undo on this step in the last {UNDO_MINUTES} minutes")


def _check_unchanged(state: dict[str, Any], by_id: dict[int, Reminder], lead: Lead) -> None:
    for rid_text, change in state["reminders"].items():
        current = by_id.get(int(rid_text))
        if current is None or any(
            _encode(getattr(current, k)) != v for k, v in change["after"].items()
        ):
            raise Conflict("the step has changed since; nothing to undo")
    if any(_encode(getattr(lead, k)) != v for k, v in state["lead"]["after"].items()):
        raise Conflict("the lead has changed since; nothing to undo")


async def delete_lead(db: Database, user: User, lead_id: int) -> None:
    async with db.transaction() as conn:
        if not await leads_repo.delete_lead(conn, lead_id, user.telegram_id):
            raise NotFound("lead")
        await users_repo.bump_plans_version(conn, user.telegram_id)


# --- Plans: scheduling, rescheduling and editing share one function --------------------------


def validate_specs(specs: list[StepSpec]) -> None:
    """Rules that span steps; single-field rules are checked where input is parsed."""
    seen: dict[int, int] = {}
    latest_delay: int | None = None
    for index, spec in enumerate(specs):
        if spec.step_id in seen:
            raise Invalid(
                ("steps", index, "step_id"),
                f"step_id {spec.step_id} is used twice (steps {seen[spec.step_id] + 1} and {index + 1})",
            )
        seen[spec.step_id] = index
        delay = spec.delay_days
        if isinstance(delay, int) and not isinstance(delay, bool):
            if latest_delay is not None and delay < latest_delay:
                raise Invalid(
                    ("steps", index, "delay_days"),
                    f"step {spec.step_id}: delay_days {delay} is earlier than an earlier "
                    f"step's {latest_delay}; steps run in order",
                )
            latest_delay = delay


# Imported history older than this is a typo or a placeholder date, not a real follow-up.
HISTORY_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)


def validate_history(specs: list[StepSpec], history: dict[int, HistoryIn], now: datetime) -> None:
    """An imported step was closed at some real moment: not before 2000, not after now (the
    app's clock), so a closed date never lies in the future of the plan it belongs to."""
    for index, spec in enumerate(specs):
        imported = history.get(spec.step_id)
        if imported is None or imported.completed_at is None:
            continue
        if not HISTORY_FLOOR <= imported.completed_at <= now:
            raise Invalid(
                ("steps", index, "completed_at"),
                f"must lie between {HISTORY_FLOOR.date().isoformat()} and now",
            )


async def apply_plan(
    conn: AsyncConnection,
    lead: Lead,
    user: User,
    specs: list[StepSpec],
    now: datetime,
    *,
    history: dict[int, HistoryIn] | None = None,
) -> tuple[Lead, list[Reminder]]:
    """Make the lead's reminders match `specs`, inside the caller's transaction.

    Idempotent: applying the same plan again changes nothing. Open reminders follow the new
    plan (re-dated only when their delay changed, keeping any snooze or lateness drift);
    closed ones keep their history; steps no longer in the plan are cancelled, not deleted.
    """
    validate_specs(specs)
    history = history or {}
    validate_history(specs, history, now)
    schedule = schedule_of(user)
    resolved = resolve_delays(specs)
    for step in resolved:
        if step.delay.source == "fallback":
            log.warning(
                "step %s of lead %s: no usable delay or timing (%r); placed %s days in",
                step.spec.step_id,
                lead.id,
                step.spec.timing,
                step.delay.days,
            )
    reminders = await reminders_repo.for_lead(conn, lead.id)
    changes = plan_changes.replace_plan(
        plan=lead.plan,
        plan_status=lead.plan_status,
        plan_started_at=lead.plan_started_at,
        reminders=[reminder_state(r) for r in reminders],
        steps=resolved,
        history=history,
        schedule=schedule,
        now=now,
    )
    return await apply_changes(conn, lead, schedule, reminders, changes, now)


def reminder_state(reminder: Reminder) -> ReminderState:
    """What plan_changes reads of a reminder."""
    return ReminderState(
        id=reminder.id,
        step_id=reminder.step_id,
        position=reminder.position,
        status=reminder.status,
        due_at=reminder.due_at,
        planned_due_at=reminder.planned_due_at,
        completed_at=reminder.completed_at,
    )


async def apply_changes(
    conn: AsyncConnection,
    lead: Lead,
    schedule: WorkSchedule,
    reminders: list[Reminder],
    changes: list[Change],
    now: datetime,
) -> tuple[Lead, list[Reminder]]:
    """Apply what app/domain/plan_changes.py decided for a lead locked in the caller's
    transaction (`reminders` read under that lock). Returns the lead and its reminders as
    they are once the transaction commits."""
    unit = _Unit(conn=conn, lead=lead, schedule=schedule, reminders=reminders, now=now)
    by_id = {r.id: r for r in reminders}
    inserts: list[dict[str, Any]] = []
    for change in changes:
        if isinstance(change, NewReminder):
            row = _fresh_row(change)
            if change.reuses is None:
                inserts.append(
                    {
                        **row,
                        "lead_id": lead.id,
                        "telegram_id": lead.telegram_id,
                        "step_id": change.step_id,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            else:
                unit.set(by_id[change.reuses], **row)
        elif isinstance(change, Move):
            unit.set(by_id[change.reminder_id], position=change.position)
        elif isinstance(change, Redate):
            unit.set(
                by_id[change.reminder_id],
                position=change.position,
                due_at=change.due_at,
                planned_due_at=change.planned_due_at,
            )
        elif isinstance(change, Close):
            unit.set(
                by_id[change.reminder_id],
                status=change.status,
                completed_at=change.completed_at,
                claimed_by=None,
                claimed_until=None,
            )
        elif isinstance(change, Restatus):
            unit.set(by_id[change.reminder_id], status=change.status)
        elif isinstance(change, Reopen):
            unit.set(
                by_id[change.reminder_id],
                status="pending",
                position=change.position,
                due_at=change.due_at,
            )
        elif isinstance(change, Cancel):
            unit.set(
                by_id[change.reminder_id], status="cancelled", claimed_by=None, claimed_until=None
            )
        elif isinstance(change, SetStep):
            plan = unit.lead.plan if unit.plan is None else unit.plan
            unit.plan = plan.replace_at(change.position, change.step)
        elif isinstance(change, SetPlan):
            unit.plan = change.plan
        elif isinstance(change, SetPlanStatus):
            unit.lead_values["plan_status"] = change.status
        elif isinstance(change, SetPlanStart):
            unit.lead_values["plan_started_at"] = change.at
        else:
            unit.log(change.activity_type, **change.details)
    await reminders_repo.insert_many(conn, inserts)
    unit.inserted = bool(inserts)
    after = await _after(unit, conn, lead.id)
    await _commit(unit)
    return unit.lead_after(), after


def _fresh_row(new: NewReminder) -> dict[str, Any]:
    """A reminder row's scheduling from scratch: no messages, snoozes or claim behind it."""
    return {
        "position": new.position,
        "due_at": new.due_at,
        "next_action_at": new.due_at,
        "nudge_stage": 0,
        "planned_due_at": new.planned_due_at,
        "status": new.status,
        "completed_at": new.completed_at,
        "snooze_count": 0,
        "reminder_count": 0,
        "last_reminded_at": None,
        "message_id": None,
        "claimed_by": None,
        "claimed_until": None,
    }


async def _after(unit: _Unit, conn: AsyncConnection, lead_id: int) -> list[Reminder]:
    """The lead's reminders as they will be once this unit commits."""
    fresh = await reminders_repo.for_lead(conn, lead_id)
    return sorted(
        (unit.current(r) if r.id in unit.updates else r for r in fresh),
        key=lambda r: (r.position, r.step_id),
    )


async def replace_steps(
    db: Database,
    user: User,
    lead_id: int,
    specs: list[StepSpec],
    now: datetime,
    history: dict[int, HistoryIn] | None = None,
) -> tuple[Lead, list[Reminder]]:
    """PUT /plans/{lead_id}/steps: reorder, add, remove, re-time steps mid-flight."""
    async with db.transaction() as conn:
        lead = await leads_repo.get_for_update(conn, lead_id, user.telegram_id)
        if lead is None:
            raise NotFound("lead")
        return await apply_plan(conn, lead, user, specs, now, history=history)


# --- The dispatcher's records ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """A reminder message that went out (alone, or as a line of a digest)."""

    reminder: Reminder
    rung: Rung
    message_id: int | None
    via_digest: bool


async def record_deliveries(
    db: Database,
    worker: str,
    deliveries: list[Delivery],
    schedules: dict[int, WorkSchedule],
    now: datetime,
) -> int:
    """Record sent reminders in one transaction: the ladder moves on, the claim is released.

    The step's JSON does not change (it is still pending), so no lead lock is needed; each
    row's update is guarded by the claim, so a step closed while its message was on the way
    keeps its new state and gets no record. Returns how many were recorded.
    """
    records = []
    for delivery in deliveries:
        reminder = delivery.reminder
        after = after_message(delivery.rung, now, schedules[reminder.telegram_id])
        records.append(
            reminders_repo.ReminderRecord(
                reminder_id=reminder.id,
                stage_before=reminder.nudge_stage,
                stage_after=after.stage,
                next_action_at=after.next_action_at,
                message_id=delivery.message_id,
                activity=NewActivity(
                    lead_id=reminder.lead_id,
                    telegram_id=reminder.telegram_id,
                    activity_type="step_reminder_sent"
                    if delivery.rung == "first"
                    else "step_nudged",
                    created_at=now,
                    step_id=reminder.step_id,
                    details={
                        "reminder_id": reminder.id,
                        "rung": delivery.rung,
                        "via_digest": delivery.via_digest,
                        "message_id": delivery.message_id,
                    },
                ),
            )
        )
    # One statement (on PostgreSQL, run alone: it commits as it returns).
    async with db.single_write() as conn:
        moved = await reminders_repo.record_reminded(conn, worker=worker, records=records, now=now)
    return len(moved)
