"""Repairing disagreement between engagement_plan (history) and scheduled_reminders.

Every change made through the service keeps the two in step. Rows edited from outside (an
admin's SQL, an old bot writing the JSON directly) can still disagree; this pass repairs them:
the reminder table is the authority for scheduling (when, and whether a step is still open),
the JSON for history (what was done or skipped, and when). A step closed in either record
stays closed: history is never thrown away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from app.db.database import Database
from app.domain import plan_changes
from app.domain.plans import (
    FINISHED,
    JSON_STATUS_OF,
    OPEN,
    REMINDER_STATUS_OF_JSON,
    ReminderStatus,
    StepStatus,
    schedule_of,
)
from app.repositories import leads as leads_repo
from app.repositories import reminders as reminders_repo
from app.repositories import users as users_repo
from app.services import steps as steps_service

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
    full and repaired. Locking and re-reading every lead, a transaction per lead, was far slower
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
    """Whether `plan_changes.repair_drift` would find anything to repair, from the plan's steps
    outlined (position, step_id, status) and each reminder's (status, position) by step id.
    The same rules, in the same order; a lead it misses stays drifted
    (tests/services/test_reconcile.py covers each rule; tests/domain/test_plan_changes.py
    checks the two agree on every drawn lead)."""
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
    async with db.transaction() as conn:
        lead = await leads_repo.get_for_update(conn, lead_id, telegram_id)
        user = await users_repo.get(conn, telegram_id)
        if lead is None or user is None:
            return []
        reminders = await reminders_repo.for_lead(conn, lead_id)
        schedule = schedule_of(user)
        findings, changes = plan_changes.repair_drift(
            plan=lead.plan,
            plan_status=lead.plan_status,
            plan_started_at=lead.plan_started_at,
            reminders=[steps_service.reminder_state(r) for r in reminders],
            schedule=schedule,
            now=now,
        )
        if not findings:
            return []
        await steps_service.apply_changes(conn, lead, schedule, reminders, changes, now)
    return [Repair(lead_id, f.step_id, f.what) for f in findings]
