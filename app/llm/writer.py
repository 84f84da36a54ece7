"""The writer the services use: the model when one is configured and answers validly in
time, the offline templates otherwise. Every result says which wrote it (`source`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from app.domain.plans import CHANNELS, MAX_DESCRIPTION, MAX_SUGGESTED_TEXT, MAX_TIMING
from app.llm import offline, prompts
from app.llm.client import LLMClient, LLMFailure
from app.llm.facts import LeadFacts, StepFacts
from app.llm.models import GeneratedDraft, GeneratedPlan

log = logging.getLogger(__name__)

Source = Literal["llm", "template"]
PLAN_MAX_TOKENS = 2000
DRAFT_MAX_TOKENS = 700

_CHANNEL_ALIASES = {
    "linked in": "linkedin",
    "linked-in": "linkedin",
    "li": "linkedin",
    "e-mail": "email",
    "mail": "email",
    "call": "phone",
    "phone call": "phone",
    "cold call": "phone",
    "tg": "telegram",
}


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One normalised step, ready for the plan schema (app.schemas.StepIn)."""

    step_id: int
    description: str
    timing: str | None
    delay_days: int | None
    channel: str
    suggested_text: str | None


@dataclass(frozen=True, slots=True)
class WrittenPlan:
    steps: list[PlanStep]
    source: Source


@dataclass(frozen=True, slots=True)
class WrittenDraft:
    text: str
    source: Source


def normalise_channel(value: str | None) -> str:
    name = (value or "").strip().lower()
    name = _CHANNEL_ALIASES.get(name, name)
    return name if name in CHANNELS else "other"


def normalise_plan(plan: GeneratedPlan) -> list[PlanStep]:
    """Ordered by step_id (when the model numbered them all distinctly, else as given),
    renumbered from 1, delays made non-decreasing, unknown channels mapped to `other`."""
    steps = list(plan.steps)
    ids = [s.step_id for s in steps]
    if all(i is not None for i in ids) and len(set(ids)) == len(ids):
        steps.sort(key=lambda s: s.step_id or 0)
    out: list[PlanStep] = []
    floor = 0
    for number, step in enumerate(steps, start=1):
        delay = step.delay_days
        if delay is not None:
            delay = max(delay, floor)
            floor = delay
        out.append(
            PlanStep(
                step_id=number,
                description=step.description.strip()[:MAX_DESCRIPTION] or f"Step {number}",
                timing=(step.timing or "").strip()[:MAX_TIMING] or None,
                delay_days=delay,
                channel=normalise_channel(step.channel),
                suggested_text=(step.suggested_text or "").strip()[:MAX_SUGGESTED_TEXT] or None,
            )
        )
    return out


def check_draft(channel: str) -> _DraftCheck:
    return _DraftCheck(channel)


@dataclass(frozen=True, slots=True)
class _DraftCheck:
    channel: str

    def __call__(self, draft: GeneratedDraft) -> None:
        text = draft.text.strip()
        if not text:
            raise ValueError("text: must not be empty")
        if self.channel == "linkedin" and len(text) > offline.LINKEDIN_LIMIT:
            raise ValueError(
                f"text: a LinkedIn note is at most {offline.LINKEDIN_LIMIT} characters"
            )
        if self.channel == "email" and not (draft.subject or "").strip():
            raise ValueError("subject: an email needs a subject line")


def render_draft(channel: str, draft: GeneratedDraft) -> str:
    text = draft.text.strip()
    if channel == "email":
        return f"Subject: {(draft.subject or '').strip()}\n\n{text}"
    if channel == "phone":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return "\n".join(
            line if line.startswith(("-", "•", "*")) else f"- {line}" for line in lines
        )
    if channel == "telegram":
        return text[: offline.TELEGRAM_LIMIT]
    return text


class Writer:
    def __init__(self, client: LLMClient | None) -> None:
        self.client = client

    @property
    def has_model(self) -> bool:
        return self.client is not None

    async def plan(self, lead: LeadFacts) -> WrittenPlan:
        if self.client is not None:
            try:
                generated = await self.client.structured(
                    purpose="plan",
                    system=prompts.PLAN_SYSTEM,
                    user=prompts.plan_user(lead),
                    output=GeneratedPlan,
                    max_tokens=PLAN_MAX_TOKENS,
                )
                return WrittenPlan(normalise_plan(generated), "llm")
            except LLMFailure as exc:
                log.warning("plan generation fell back to the offline writer: %s", exc)
        return WrittenPlan(normalise_plan(offline.template_plan(lead)), "template")

    async def draft(self, lead: LeadFacts, step: StepFacts) -> WrittenDraft:
        if self.client is not None:
            try:
                generated = await self.client.structured(
                    purpose="draft",
                    system=prompts.DRAFT_SYSTEM,
                    user=prompts.draft_user(lead, step),
                    output=GeneratedDraft,
                    max_tokens=DRAFT_MAX_TOKENS,
                    check=check_draft(step.channel),
                )
                return WrittenDraft(render_draft(step.channel, generated), "llm")
            except LLMFailure as exc:
                log.warning("draft generation fell back to the offline writer: %s", exc)
        return WrittenDraft(offline.template_draft(lead, step), "template")

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
