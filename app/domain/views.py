"""Read models: what the services answer about a user's leads and plans.

Plain frozen values, built by app.services.plans from the stored rows. The REST API turns
them into its response schemas (app.schemas), the bot reads the fields it shows; neither
shape knows about the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.outcomes import LeadStatus, Outcome
from app.domain.plans import DisplayStatus, PlanStatus, ReminderStatus


@dataclass(frozen=True, slots=True)
class StepRead:
    """One step of a plan as the salesperson reads it: the plan's words, dated and stated
    by its reminder."""

    step_id: int
    reminder_id: int | None
    position: int
    description: str
    timing: str | None
    delay_days: int
    channel: str
    suggested_text: str | None
    status: DisplayStatus
    state: ReminderStatus
    overdue_days: int
    due_at: datetime | None
    planned_due_at: datetime | None
    completed_at: datetime | None
    snooze_count: int
    reminder_count: int
    waiting_for_step: int | None
    """An earlier open step this one waits for before it is reminded."""


@dataclass(frozen=True, slots=True)
class LeadRead:
    id: int
    name: str
    company: str | None
    title: str | None
    channel: str | None
    context: str | None
    status: LeadStatus
    status_reason: str | None
    plan_status: PlanStatus
    plan_outcome: Outcome | None
    plan_started_at: datetime | None
    created_at: datetime
    next_due_at: datetime | None
    next_step_id: int | None
    overdue_steps: int
    steps: tuple[StepRead, ...]

    def step_for(self, reminder_id: int) -> StepRead | None:
        return next((s for s in self.steps if s.reminder_id == reminder_id), None)


@dataclass(frozen=True, slots=True)
class PlansSummary:
    active_plans: int
    overdue_steps: int
    leads_with_overdue: int
    due_today: int
    total_leads: int
    by_status: dict[LeadStatus, int]


@dataclass(frozen=True, slots=True)
class PlansPage:
    summary: PlansSummary
    leads: tuple[LeadRead, ...]


@dataclass(frozen=True, slots=True)
class ActivityRead:
    id: int
    step_id: int | None
    activity_type: str
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LeadDetail:
    lead: LeadRead
    activity: tuple[ActivityRead, ...]


@dataclass(frozen=True, slots=True)
class LeadProgress:
    """What the bot tells about a reminder's lead in one alert."""

    name: str
    company: str | None
    steps_closed: int
    steps_total: int
    plan_status: PlanStatus
    status: LeadStatus
    plan_outcome: Outcome | None
