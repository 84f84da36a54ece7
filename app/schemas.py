"""The shapes the REST API reads and writes (CONTRACT.md): every request and response
schema, in one place. Routers build the responses from the services' read models
(app.domain.views), which the schemas read by attribute.

Pydantic only, no FastAPI. The plan input (PlanIn) is also the one statement of a plan's
rules for plans that do not come through HTTP (the bot's, a model's).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    field_validator,
)

from app.domain.outcomes import MAX_REASON, LeadStatus, Outcome
from app.domain.plans import (
    MAX_DESCRIPTION,
    MAX_STEPS,
    MAX_SUGGESTED_TEXT,
    MAX_TIMING,
    Channel,
    DisplayStatus,
)
from app.domain.users import User, iana_zones

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


# Responses are read from the services' read models (frozen dataclasses) by attribute.
_READ = ConfigDict(from_attributes=True)


class StepOut(BaseModel):
    model_config = _READ

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
    model_config = _READ

    id: int
    name: str
    company: str | None
    title: str | None
    channel: str | None
    context: str | None
    status: LeadStatus
    status_reason: str | None = Field(description="Why the status was set, if said")
    plan_status: str
    plan_outcome: Outcome | None = Field(description="How the plan was finished by hand")
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


class StatusCounts(BaseModel):
    """How many of the user's leads have each status."""

    analyzed: int
    reached_out: int
    in_progress: int
    meeting_booked: int
    closed_won: int
    closed_lost: int


class Summary(BaseModel):
    model_config = _READ

    active_plans: int
    overdue_steps: int
    leads_with_overdue: int
    due_today: int
    total_leads: int
    by_status: StatusCounts


class PlansOut(BaseModel):
    model_config = _READ

    summary: Summary
    leads: list[LeadOut]


class ActivityOut(BaseModel):
    model_config = _READ

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
    undo_until: datetime | None = Field(
        default=None,
        description="Until when POST /reminders/{id}/undo can take this action back",
    )


Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON, pattern=NO_NUL)]


class FinishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    reason: Reason | None = None


class FinishOut(BaseModel):
    changed: bool = Field(description="false: the plan was already finished with this outcome")
    lead: LeadOut


class DraftOut(BaseModel):
    text: str | None
    generated_at: datetime | None
    source: Literal["llm", "template", "plan", "none"]


class ErrorOut(BaseModel):
    """Every refusal but a 422: `{"detail": "why"}`."""

    detail: str


class MeOut(BaseModel):
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    timezone: str
    timezone_set: bool
    work_start: str
    work_end: str
    workdays: list[int]
    reminders_paused: bool
    paused_until: datetime | None
    blocked: bool

    @classmethod
    def of(cls, user: User) -> Self:
        return cls(
            telegram_id=user.telegram_id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            timezone=user.timezone,
            timezone_set=user.timezone_set_at is not None,
            work_start=user.work_start,
            work_end=user.work_end,
            workdays=list(user.workdays),
            reminders_paused=user.reminders_paused,
            paused_until=user.paused_until,
            blocked=user.blocked_at is not None,
        )


# The document states what JSON Schema can: a real clock time, a real weekday, a zone name
# from the list the server accepts. Rules across fields (hours end after they start) and
# against the clock (a pause ends in the future) are in the descriptions.
HHMM = Annotated[str, Field(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Annotated[int, Strict(), Field(ge=1, le=7), INTEGRAL]


def _zone_names(schema: dict[str, Any]) -> None:
    _no_null_default(schema)
    schema["enum"] = sorted(iana_zones())


def _no_null_default(schema: dict[str, Any]) -> None:
    # Left out means "keep"; a documented default of null would contradict the type.
    schema.pop("default", None)


def _optional(**kwargs: Any) -> Any:
    kwargs.setdefault("json_schema_extra", _no_null_default)
    return Field(default=None, **kwargs)


class MePatch(BaseModel):
    """Only the fields sent are changed; `paused_until: null` lifts a timed pause.

    The other settings have no "unset" value: they may be left out, never sent as null."""

    model_config = ConfigDict(extra="forbid")

    timezone: Annotated[str, Field(max_length=64)] = _optional(
        examples=["Europe/Berlin"],
        description="An IANA time zone name",
        json_schema_extra=_zone_names,
    )
    work_start: HHMM = _optional(examples=["09:00"], description="Before work_end")
    work_end: HHMM = _optional(examples=["18:00"], description="After work_start")
    workdays: Annotated[list[Weekday], Field(min_length=1, max_length=7)] = _optional(
        description="ISO weekdays, 1 (Mon) to 7 (Sun)"
    )
    reminders_paused: StrictBool = _optional()
    paused_until: ApiDatetime | None = Field(
        default=None,
        description="Reminders resume then, a moment in the future; null lifts a timed pause",
    )

    @field_validator(
        "timezone", "work_start", "work_end", "workdays", "reminders_paused", mode="before"
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value


class LeadPatch(BaseModel):
    """Only the fields sent change. `reason` goes with `status` (why it was set)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=NO_NUL)] = _optional()
    company: str | None = Field(default=None, max_length=MAX_NAME, pattern=NO_NUL)
    title: str | None = Field(default=None, max_length=MAX_NAME, pattern=NO_NUL)
    channel: Channel | None = None
    context: str | None = Field(default=None, max_length=MAX_CONTEXT, pattern=NO_NUL)
    status: LeadStatus = _optional(
        description="meeting_booked, closed_won or closed_lost finish an active plan"
    )
    reason: Reason | None = None

    @field_validator("name", "status", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value
