"""The shapes a model must answer in. Validated with pydantic; anything else is invalid."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.domain.plans import MAX_DESCRIPTION, MAX_SUGGESTED_TEXT, MAX_TIMING

MIN_PLAN_STEPS = 5
MAX_PLAN_STEPS = 8
MAX_DRAFT = 2000
MAX_SUBJECT = 150


class GeneratedStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step_id: int | None = Field(default=None, ge=1, le=1000)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    timing: str | None = Field(default=None, max_length=MAX_TIMING)
    delay_days: int | None = Field(default=None, ge=0, le=365)
    channel: str = Field(default="other", max_length=40)
    suggested_text: str | None = Field(default=None, max_length=MAX_SUGGESTED_TEXT)


class GeneratedPlan(BaseModel):
    model_config = ConfigDict(extra="ignore")

    steps: list[GeneratedStep] = Field(min_length=MIN_PLAN_STEPS, max_length=MAX_PLAN_STEPS)


class GeneratedDraft(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    text: str = Field(min_length=1, max_length=MAX_DRAFT)
