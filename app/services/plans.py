"""Leads and their plans: creating them, and the views the Mini App reads.

Every step change is delegated to app.services.steps; this module only creates leads and
builds read models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from app.db.database import Database
from app.domain.calendar import WorkSchedule, local_date, next_local_midnight
from app.domain.outcomes import CLOSED_LEAD_STATUSES, LEAD_STATUSES
from app.domain.plans import (
    CLOSED,
    OPEN,
    StepSpec,
    StepView,
    display_changes_at,
    display_status,
    schedule_of,
)
from app.domain.users import User
from app.domain.views import (
    ActivityRead,
    LeadDetail,
    LeadProgress,
    LeadRead,
    PlansPage,
    PlansSummary,
    StepRead,
)
from app.llm.facts import LeadFacts
from app.llm.writer import Source, Writer
from app.repositories import activity as activity_repo
from app.repositories import leads as leads_repo
from app.repositories import reminders as reminders_repo
from app.repositories import users as users_repo
from app.repositories.leads import Lead
from app.repositories.reminders import Reminder
from app.schemas import PlanIn, StepIn
from app.services import steps as steps_service
from app.services.errors import NotFound
from app.services.plans_cache import CachedPlans, PlansCache
from app.services.steps import HistoryIn

log = logging.getLogger(__name__)

PlanFilter = Literal["active", "overdue", "no_plan", "open", "closed"]
PlanSort = Literal["next_due", "created", "name"]


async def create_lead(
    db: Database,
    user: User,
    fields: dict[str, Any],
    specs: list[StepSpec] | None,
    now: datetime,
    history: dict[int, HistoryIn] | None = None,
) -> LeadRead:
    """A new lead and, when steps are given, its scheduled plan: one transaction."""
    async with db.transaction() as conn:
        lead = await leads_repo.insert_lead(
            conn,
            {
                **fields,
                "telegram_id": user.telegram_id,
                "engagement_plan": [],
                "plan_status": "none",
                "created_at": now,
                "updated_at": now,
            },
        )
        reminders: list[Reminder] = []
        if specs:
            lead, reminders = await steps_service.apply_plan(
                conn, lead, user, specs, now, history=history
            )
        else:
            await users_repo.bump_plans_version(conn, user.telegram_id)
    return lead_view(lead, reminders, user, now)


def specs_of(steps: list[StepIn]) -> tuple[list[StepSpec], dict[int, HistoryIn]]:
    """Validated input steps as the scheduler's specs, and the history they import."""
    specs = [
        StepSpec(
            step_id=s.step_id,
            description=s.description,
            timing=s.timing,
            delay_days=s.delay_days,
            channel=s.channel,
            suggested_text=s.suggested_text,
        )
        for s in steps
    ]
    history = {
        s.step_id: HistoryIn(status=s.status, completed_at=s.completed_at)
        for s in steps
        if s.status != "pending"
    }
    return specs, history


async def create_generated_lead(
    db: Database,
    writer: Writer,
    user: User,
    fields: dict[str, Any],
    now: datetime,
) -> tuple[LeadRead, Source]:
    """A new lead with a written plan: the model's when it answers validly in time, else the
    offline writer's. Either goes through the same validation and scheduling as a posted
    plan: the plan input schema (app.schemas.PlanIn) is the one statement of a plan's rules,
    whoever wrote the plan."""
    facts = LeadFacts(
        name=str(fields["name"]),
        company=fields.get("company"),
        title=fields.get("title"),
        channel=fields.get("channel"),
        context=fields.get("context"),
    )
    written = await writer.plan(facts)
    try:
        plan = PlanIn.model_validate({"steps": [asdict(step) for step in written.steps]})
    except ValidationError as exc:
        if written.source == "template":
            raise
        log.warning("generated plan failed validation (%s); offline plan used", exc.error_count())
        written = await Writer(None).plan(facts)
        plan = PlanIn.model_validate({"steps": [asdict(step) for step in written.steps]})
    specs, _history = specs_of(plan.steps)
    return await create_lead(db, user, fields, specs, now), written.source


async def list_plans(
    db: Database,
    user: User,
    now: datetime,
    *,
    filter_by: PlanFilter | None = None,
    sort: PlanSort = "next_due",
) -> PlansPage:
    """All of a user's leads with their steps: two queries whatever the number of leads."""
    plans, _ = await _build_plans(db, user, now, filter_by, sort)
    return plans


async def plans_document(
    db: Database,
    user: User,
    now: datetime,
    cache: PlansCache,
    encode: Callable[[PlansPage], bytes],
    *,
    filter_by: PlanFilter | None = None,
    sort: PlanSort = "next_due",
) -> bytes:
    """list_plans as the caller encodes it (the API's JSON), served from `cache` while
    nothing it shows has changed.

    The version is read before the data, so an entry is never newer than its key: a change
    committed in between makes the next request miss, never serve a stale answer.
    """
    key = (user.telegram_id, filter_by, sort)
    schedule = schedule_of(user)
    async with db.single_read() as conn:
        version = await users_repo.plans_version(conn, user.telegram_id)
    if version is not None:
        body = cache.get(key, version, schedule, now)
        if body is not None:
            return body
    plans, valid_until = await _build_plans(db, user, now, filter_by, sort)
    body = encode(plans)
    if version is not None:
        cache.put(key, CachedPlans(version, schedule, now, valid_until, body))
    return body


async def _build_plans(
    db: Database,
    user: User,
    now: datetime,
    filter_by: PlanFilter | None,
    sort: PlanSort,
) -> tuple[PlansPage, datetime | None]:
    """The answer, and the first instant at which time alone would change it."""
    async with db.read() as conn:
        leads = await leads_repo.list_for_user(conn, user.telegram_id)
        reminders = await reminders_repo.for_user(conn, user.telegram_id)
    by_lead: dict[int, list[Reminder]] = {}
    for reminder in reminders:
        by_lead.setdefault(reminder.lead_id, []).append(reminder)
    schedule = schedule_of(user)
    views = [lead_view(lead, by_lead.get(lead.id, []), user, now, schedule) for lead in leads]
    summary = _summary(views, now, schedule)
    if filter_by == "active":
        views = [v for v in views if v.plan_status == "active"]
    elif filter_by == "overdue":
        views = [v for v in views if v.overdue_steps > 0]
    elif filter_by == "no_plan":
        views = [v for v in views if not v.steps]
    elif filter_by == "open":
        views = [v for v in views if v.status not in CLOSED_LEAD_STATUSES]
    elif filter_by == "closed":
        views = [v for v in views if v.status in CLOSED_LEAD_STATUSES]
    if sort == "next_due":
        views.sort(key=lambda v: (v.next_due_at is None, v.next_due_at or now, v.id))
    elif sort == "name":
        views.sort(key=lambda v: (v.name.casefold(), v.id))
    else:
        views.sort(key=lambda v: (v.created_at, v.id), reverse=True)
    paused = {lead.id for lead in leads if lead.plan_status == "paused"}
    changes = [
        at
        for r in reminders
        if (
            at := display_changes_at(
                status=r.status, due_at=r.due_at, plan_paused=r.lead_id in paused, now=now
            )
        )
        is not None
    ]
    # "Due today" in the summary follows the user's calendar day.
    changes.append(next_local_midnight(now, schedule))
    return PlansPage(summary=summary, leads=tuple(views)), min(changes)


async def get_plan(db: Database, user: User, lead_id: int, now: datetime) -> LeadDetail:
    async with db.read() as conn:
        lead = await leads_repo.get(conn, lead_id, user.telegram_id)
        if lead is None:
            raise NotFound("lead")
        reminders = await reminders_repo.for_lead(conn, lead_id)
        activity = await activity_repo.for_lead(conn, lead_id)
    return LeadDetail(
        lead=lead_view(lead, reminders, user, now),
        activity=tuple(
            ActivityRead(
                id=a.id,
                step_id=a.step_id,
                activity_type=a.activity_type,
                details=a.details,
                created_at=a.created_at,
            )
            for a in activity
        ),
    )


async def lead_progress(db: Database, user: User, reminder_id: int) -> LeadProgress:
    """How far the plan of a reminder's lead has come: what the bot's "View lead" shows."""
    async with db.read() as conn:
        reminder = await reminders_repo.get_owned(conn, reminder_id, user.telegram_id)
        lead = None
        if reminder is not None:
            lead = await leads_repo.get(conn, reminder.lead_id, user.telegram_id)
        if reminder is None or lead is None:
            raise NotFound("reminder")
        reminders = await reminders_repo.for_lead(conn, lead.id)
    shown = {step.step_id for step in lead.plan.steps}
    # The steps the plan shows (as lead_view does: a step without a reminder is not shown).
    steps = [r for r in reminders if r.step_id in shown]
    return LeadProgress(
        name=lead.name,
        company=lead.company,
        steps_closed=sum(r.status in CLOSED for r in steps),
        steps_total=len(steps),
        plan_status=lead.plan_status,
        status=lead.status,
        plan_outcome=lead.plan_outcome,
    )


def lead_view(
    lead: Lead,
    reminders: list[Reminder],
    user: User,
    now: datetime,
    schedule: WorkSchedule | None = None,
) -> LeadRead:
    """The plan as the JSON describes it, dated and stated by its reminders."""
    if schedule is None:
        schedule = schedule_of(user)
    by_step = {r.step_id: r for r in reminders}
    paused = lead.plan_status == "paused"
    steps: list[StepRead] = []
    waiting_for: int | None = None
    next_due: datetime | None = None
    next_step: int | None = None
    overdue = 0
    for position, step in lead.plan.positioned():
        reminder = by_step.get(step.step_id)
        if reminder is None:
            continue  # reconcile repairs a step without a reminder; never show a half-step
        view = display_status(
            status=reminder.status,
            due_at=reminder.due_at,
            snooze_count=reminder.snooze_count,
            plan_paused=paused,
            now=now,
        )
        is_open = reminder.status in OPEN
        if waiting_for is not None and view.display in ("due", "overdue"):
            # Not actionable yet: it waits for an earlier step, and moves when that closes.
            view = StepView("upcoming", 0)
        if view.display == "overdue":
            overdue += 1
        if is_open and next_due is None:
            next_due, next_step = reminder.due_at, reminder.step_id
        steps.append(
            StepRead(
                step_id=reminder.step_id,
                reminder_id=reminder.id,
                position=position,
                description=step.description,
                timing=step.timing,
                delay_days=step.delay_days or 0,
                channel=step.channel,
                suggested_text=step.suggested_text,
                status=view.display,
                state=reminder.status,
                overdue_days=view.overdue_days,
                due_at=reminder.due_at,
                planned_due_at=reminder.planned_due_at,
                completed_at=reminder.completed_at,
                snooze_count=reminder.snooze_count,
                reminder_count=reminder.reminder_count,
                waiting_for_step=waiting_for if is_open else None,
            )
        )
        if is_open and waiting_for is None:
            waiting_for = reminder.step_id
    return LeadRead(
        id=lead.id,
        name=lead.name,
        company=lead.company,
        title=lead.title,
        channel=lead.channel,
        context=lead.context,
        status=lead.status,
        status_reason=lead.status_reason,
        plan_status=lead.plan_status,
        plan_outcome=lead.plan_outcome,
        plan_started_at=lead.plan_started_at,
        created_at=lead.created_at,
        next_due_at=next_due,
        next_step_id=next_step,
        overdue_steps=overdue,
        steps=tuple(steps),
    )


def _summary(views: list[LeadRead], now: datetime, schedule: WorkSchedule) -> PlansSummary:
    today = local_date(now, schedule)
    due_today = 0
    overdue = 0
    leads_overdue = 0
    for view in views:
        if view.plan_status != "active":
            continue
        overdue += view.overdue_steps
        leads_overdue += view.overdue_steps > 0
        for step in view.steps:
            if (
                step.state in OPEN
                and step.status in ("due", "upcoming", "snoozed")
                and step.waiting_for_step is None
                and step.due_at is not None
                and local_date(step.due_at, schedule) <= today
            ):
                due_today += 1
    return PlansSummary(
        active_plans=sum(v.plan_status == "active" for v in views),
        overdue_steps=overdue,
        leads_with_overdue=leads_overdue,
        due_today=due_today,
        total_leads=len(views),
        by_status={s: sum(v.status == s for v in views) for s in LEAD_STATUSES},
    )
