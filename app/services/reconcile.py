"""Repairing disagreement between engagement_plan (history) and scheduled_reminders.

Every change made through the service keeps the two in step. Rows edited from outside (an
admin's SQL, an old bot writing the JSON directly) can still disagree; this pass repairs them:
the reminder table is the authority for scheduling (when, and whether a step is still open),
the JSON for history (what was done or skipped, and when). A step closed in either record
stays closed: history is never thrown away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.db.database import Database
from app.db.signals import schedule_changed
from app.domain import calendar
from app.domain.plans import (
    FINISHED,
    JSON_STATUS_OF,
    OPEN,
    REMINDER_STATUS_OF_JSON,
    ReminderStatus,
    StepSpec,
    StepStatus,
    resolve_delays,
    schedule_of,
)
from app.domain.steps import plan_to_json
from app.repositories import activity as activity_repo
from app.repositories import leads as leads_repo
from app.repositories import reminders as reminders_repo
from app.repositories import users as users_repo
from app.repositories.activity import NewActivity

log = logging.getLogger(__name__)

# Leads compared per read; bounds memory and how long the event loop goes without a turn.
BATCH = 1000


@dataclass(slots=True)
class Repair:
    lead_id: int
    step_id: int | None
    what: str


@dataclass(slots=True)
class ReconcileReport:
    leads_checked: int = 0
    repairs: list[Repair] = field(default_factory=list)


async def reconcile(
    db: Database, now: datetime, lead_id: int | None = None, *, batch: int = BATCH
) -> ReconcileReport:
    """Check every lead (or one) and repair what disagrees, one transaction per lead.

    Leads are first compared in pages, reading only each plan and its reminders' step,
    status and position without locks; only a lead that disagrees is then locked, read in
    full and repaired. Locking and re-reading every lead took a transaction per lead: 67 s
    over 100,000 reminders on SQLite (bench/reconcile.py), for a pass that almost always
    finds nothing; this takes about as long as reading the rows once."""
    report = ReconcileReport()
    if lead_id is not None:
        async with db.read() as conn:
            ids = [(i, t) for i, t in await leads_repo.list_all_ids(conn) if i == lead_id]
        for one_id, telegram_id in ids:
            report.leads_checked += 1
            report.repairs.extend(await _reconcile_lead(db, one_id, telegram_id, now))
    else:
        after = 0
        while True:
            async with db.read() as conn:
                page = await leads_repo.plans_after(conn, after, batch)
                if not page:
                    break
                steps = await reminders_repo.steps_of_leads(conn, after, page[-1][0])
            after = page[-1][0]
            for one_id, telegram_id, plan in page:
                report.leads_checked += 1
                if _disagrees(plan, steps.get(one_id, {})):
                    report.repairs.extend(await _reconcile_lead(db, one_id, telegram_id, now))
    for repair in report.repairs:
        log.warning("reconcile: lead %s step %s: %s", repair.lead_id, repair.step_id, repair.what)
    return report


def _disagrees(
    steps: tuple[tuple[int, int, StepStatus], ...],
    reminders: dict[int, tuple[ReminderStatus, int]],
) -> bool:
    """Whether `_reconcile_lead` would find anything to repair, from the plan's steps
    outlined (position, step_id, status) and each reminder's (status, position) by step id.
    The same rules, in the same order; a lead it misses stays drifted
    (tests/services/test_reconcile.py covers each rule)."""
    seen: set[int] = set()
    for position, step_id, json_status in steps:
        if step_id in seen:
            continue
        seen.add(step_id)
        found = reminders.get(step_id)
        if found is None:
            return True
        status, at = found
        if status in OPEN and json_status in REMINDER_STATUS_OF_JSON:
            return True
        if status in FINISHED and json_status != JSON_STATUS_OF[status]:
            return True
        if status == "cancelled" and json_status not in REMINDER_STATUS_OF_JSON:
            return True
        if at != position and status != "cancelled":
            return True
    return any(s not in seen and st in OPEN for s, (st, _) in reminders.items())


async def _reconcile_lead(
    db: Database, lead_id: int, telegram_id: int, now: datetime
) -> list[Repair]:
    repairs: list[Repair] = []
    async with db.transaction() as conn:
        lead = await leads_repo.get_for_update(conn, lead_id, telegram_id)
        user = await users_repo.get(conn, telegram_id)
        if lead is None or user is None:
            return repairs
        reminders = {r.step_id: r for r in await reminders_repo.for_lead(conn, lead_id)}
        plan = lead.plan
        plan_changed = False
        updates: list[tuple[int, dict[str, Any]]] = []
        inserts: list[dict[str, Any]] = []
        schedule = schedule_of(user)
        plan_start = lead.plan_started_at or now
        specs = [
            StepSpec(
                step_id=s.step_id,
                description=s.description,
                timing=s.timing,
                delay_days=s.delay_days,
            )
            for s in plan.steps
        ]
        delays = {r.spec.step_id: r.delay.days for r in resolve_delays(specs)}
        seen: set[int] = set()
        for position, step in plan.positioned():
            step_id = step.step_id
            if step_id in seen:
                continue
            seen.add(step_id)
            json_status = step.status
            reminder = reminders.get(step_id)
            if reminder is None:
                planned = calendar.due_at(plan_start, delays.get(step_id, 0), schedule)
                status = REMINDER_STATUS_OF_JSON.get(json_status, "pending")
                closed_at = step.completed_at or now
                inserts.append(
                    {
                        "lead_id": lead_id,
                        "telegram_id": telegram_id,
                        "step_id": step_id,
                        "position": position,
                        "due_at": max(planned, calendar.next_working_moment(now, schedule)),
                        "next_action_at": max(planned, calendar.next_working_moment(now, schedule)),
                        "planned_due_at": planned,
                        "status": status,
                        "completed_at": None if status == "pending" else closed_at,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                repairs.append(Repair(lead_id, step_id, f"had no reminder; created one ({status})"))
                continue
            if reminder.status in OPEN and json_status in REMINDER_STATUS_OF_JSON:
                closed_at = step.completed_at or now
                status = REMINDER_STATUS_OF_JSON[json_status]
                updates.append(
                    (
                        reminder.id,
                        {
                            "status": status,
                            "completed_at": closed_at,
                            "claimed_by": None,
                            "claimed_until": None,
                            "updated_at": now,
                        },
                    )
                )
                repairs.append(
                    Repair(
                        lead_id,
                        step_id,
                        f"plan says {json_status}, reminder was {reminder.status}; closed it",
                    )
                )
            elif reminder.status in FINISHED and json_status != JSON_STATUS_OF[reminder.status]:
                if json_status in REMINDER_STATUS_OF_JSON:
                    # Both closed, differently: the JSON is the history's authority.
                    updates.append(
                        (
                            reminder.id,
                            {"status": REMINDER_STATUS_OF_JSON[json_status], "updated_at": now},
                        )
                    )
                    repairs.append(
                        Repair(
                            lead_id, step_id, f"reminder {reminder.status} → plan's {json_status}"
                        )
                    )
                else:
                    plan = plan.replace_at(
                        position,
                        replace(
                            step,
                            status=JSON_STATUS_OF[reminder.status],
                            completed_at=reminder.completed_at or now,
                        ),
                    )
                    plan_changed = True
                    repairs.append(
                        Repair(
                            lead_id,
                            step_id,
                            f"plan said {json_status}, reminder is {reminder.status}; plan updated",
                        )
                    )
            elif reminder.status == "cancelled" and json_status not in REMINDER_STATUS_OF_JSON:
                updates.append(
                    (
                        reminder.id,
                        {
                            "status": "pending",
                            "position": position,
                            "due_at": max(
                                reminder.due_at, calendar.next_working_moment(now, schedule)
                            ),
                            "next_action_at": max(
                                reminder.due_at, calendar.next_working_moment(now, schedule)
                            ),
                            "nudge_stage": 0,
                            "updated_at": now,
                        },
                    )
                )
                repairs.append(
                    Repair(lead_id, step_id, "step is in the plan again; reopened its reminder")
                )
            if reminder.position != position and reminder.status != "cancelled":
                updates.append((reminder.id, {"position": position, "updated_at": now}))
                repairs.append(
                    Repair(lead_id, step_id, f"position {reminder.position} → {position}")
                )
        for step_id, reminder in reminders.items():
            if step_id not in seen and reminder.status in OPEN:
                updates.append(
                    (
                        reminder.id,
                        {
                            "status": "cancelled",
                            "claimed_by": None,
                            "claimed_until": None,
                            "updated_at": now,
                        },
                    )
                )
                repairs.append(
                    Repair(lead_id, step_id, "step is gone from the plan; cancelled its reminder")
                )
        if not repairs:
            return repairs
        await reminders_repo.update_many(conn, updates)
        await reminders_repo.insert_many(conn, inserts)
        if updates or inserts:
            # A reminder created, reopened or closed: the dispatchers' next wake-up may differ.
            await schedule_changed(conn)
        await users_repo.bump_plans_version(conn, telegram_id)
        after = await reminders_repo.for_lead(conn, lead_id)
        lead_values: dict[str, Any] = {}
        if plan_changed:
            lead_values["engagement_plan"] = plan_to_json(plan)
        any_open = any(r.status in OPEN for r in after if r.step_id in seen)
        if lead.plan_status == "active" and not any_open and seen:
            lead_values["plan_status"] = "completed"
        elif lead.plan_status in ("completed", "none") and any_open:
            lead_values["plan_status"] = "active"
            lead_values["plan_started_at"] = plan_start
        if lead_values:
            lead_values["updated_at"] = now
            await leads_repo.update_lead(conn, lead_id, lead_values)
        await activity_repo.add(
            conn,
            [
                NewActivity(
                    lead_id=lead_id,
                    telegram_id=telegram_id,
                    activity_type="plan_reconciled",
                    created_at=now,
                    details={"repairs": [{"step_id": r.step_id, "what": r.what} for r in repairs]},
                )
            ],
        )
    return repairs
