"""The shapes the REST API reads and writes (CONTRACT.md), shared by services and routers.

Pydantic only: no FastAPI here, so services can build these without knowing about HTTP.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
)

from app.domain.plans import (
    MAX_DESCRIPTION,
    MAX_STEPS,
    MAX_SUGGESTED_TEXT,
    MAX_TIMING,
    Channel,
    DisplayStatus,
)

MAX_NAME = 200
MAX_CONTEXT = 8000
# PostgreSQL cannot store U+0000 in text (it was a 500 there and stored on SQLite): every
# free-text field refuses it with a 422, the same on both engines, and says so in OpenAPI.
NO_NUL = r"^[^\x00]*$"


def _integral(value: object) -> object:
    # JSON has one number type: to JavaScript and to JSON Schema's "integer", 2.0 is 2.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as JSON means it: 2 or 2.0, never true, "2" or 2.5. Written as
# Annotated[int, Strict(), Field(ge=..., le=...), INTEGRAL]: bounds placed after the
# validator are left out of the JSON schema by pydantic.
INTEGRAL = BeforeValidator(_integral)

# RFC 3339's date-time, what OpenAPI's `format: date-time` names. Pydantic alone also
# takes a number of seconds (0, "1700000000"), a missing seconds field or a space. The
# offset is optional here only so that AwareDatetime refuses its absence by name
# (`timezone_aware`).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _rfc3339_text(value: object) -> object:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "must be an RFC 3339 date-time with a time zone, e.g. 2026-03-02T10:00:00Z"
        )
    return value


# Every date-time the API reads: an RFC 3339 string with an offset. Which moments make
# sense (not in the future, not past year 9999 once in UTC, ...) the services decide.
ApiDatetime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


class StepIn(BaseModel):
    """A step as a client sends it. `status`/`completed_at` import history; default pending."""

    model_config = ConfigDict(extra="ignore")

    step_id: Annotated[int, Strict(), Field(ge=1, le=1_000_000), INTEGRAL]
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION, pattern=NO_NUL)
    timing: str | None = Field(default=None, max_length=MAX_TIMING, pattern=NO_NUL)
    delay_days: Annotated[int, Strict(), Field(ge=0, le=365), INTEGRAL] | None = None
    channel: Channel = "other"
    suggested_text: str | None = Field(default=None, max_length=MAX_SUGGESTED_TEXT, pattern=NO_NUL)
    status: Literal["pending", "done", "skipped"] = "pending"
    completed_at: ApiDatetime | None = Field(
        default=None,
        description="When a done or skipped step was closed: not before 2000, not after now",
    )


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[StepIn] = Field(
        min_length=1,
        max_length=MAX_STEPS,
        description="In order: each step_id once, and no delay_days below an earlier step's",
    )


class LeadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME, pattern=NO_NUL)
    company: str | None = Field(default=None, max_length=MAX_NAME, pattern=NO_NUL)
    title: str | None = Field(default=None, max_length=MAX_NAME, pattern=NO_NUL)
    channel: Channel | None = None
    context: str | None = Field(default=None, max_length=MAX_CONTEXT, pattern=NO_NUL)
    plan: PlanIn | None = None
    generate_plan: StrictBool = Field(
        default=False, description="Have the plan written for the lead; not together with plan"
    )


MAX_NOTE = 2000


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_NOTE, pattern=NO_NUL)


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: Annotated[int, Strict(), Field(ge=1, le=30), INTEGRAL]


class StepOut(BaseModel):
    step_id: int
    reminder_id: int | None
    position: int
    description: str
    timing: str | None
    delay_days: int
    channel: str
    suggested_text: str | None
    status: DisplayStatus
    state: str = Field(description="The reminder's stored status (pending, sent, ...)")
    overdue_days: int
    due_at: datetime | None
    planned_due_at: datetime | None
    completed_at: datetime | None
    snooze_count: int
    reminder_count: int
    waiting_for_step: int | None = Field(
        description="An earlier open step this one waits for before it is reminded"
    )


class LeadOut(BaseModel):
    id: int
    name: str
    company: str | None
    title: str | None
    channel: str | None
    context: str | None
    status: str
    plan_status: str
    plan_started_at: datetime | None
    created_at: datetime
    next_due_at: datetime | None
    next_step_id: int | None
    overdue_steps: int
    steps: list[StepOut]


class LeadCreatedOut(LeadOut):
    plan_source: Literal["llm", "template"] | None = Field(
        default=None,
        description="With generate_plan: who wrote the plan, the configured model (llm) or "
        "the offline writer (template)",
    )


class Summary(BaseModel):
    active_plans: int
    overdue_steps: int
    leads_with_overdue: int
    due_today: int
    total_leads: int


class PlansOut(BaseModel):
    summary: Summary
    leads: list[LeadOut]


class ActivityOut(BaseModel):
    id: int
    step_id: int | None
    activity_type: str
    details: dict[str, Any]
    created_at: datetime


class LeadDetailOut(LeadOut):
    activity: list[ActivityOut]


class StepChangeOut(BaseModel):
    changed: bool
    plan_completed: bool
    lead_id: int
    step: StepOut
    moved_steps: list[int] = Field(description="step_ids of later steps moved by this change")
