"""What a writer knows about a lead and a step: plain data, built by the services."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LeadFacts:
    name: str
    company: str | None = None
    title: str | None = None
    channel: str | None = None
    context: str | None = None
    # Newest first: the salesperson's notes, and one line per earlier step that closed.
    notes: tuple[str, ...] = ()
    history: tuple[str, ...] = field(default=())

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else self.name


@dataclass(frozen=True, slots=True)
class StepFacts:
    step_id: int
    position: int  # 0-based place in the plan
    total: int
    description: str
    channel: str
    timing: str | None = None
    suggested_text: str | None = None
