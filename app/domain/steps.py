"""The stored plan (`lead_registry.engagement_plan`, CONTRACT.md's step format) as a value.

Parsed once where a lead is read (`parse_plan`) and written back through `plan_to_json`.
This service writes the array in one shape, but admins' SQL and older bots write it too, so
parsing accepts whatever reconcile has always accepted:

- an entry that is not a JSON object is dropped: nothing could read it, and a rewrite of
  the plan never kept it;
- an object without a whole-number `step_id` is not a step (`NotAStep`), but it keeps its
  place: it counts in the positions of the steps after it, and a rewrite keeps it as stored;
- a field that is missing, or holds a value of the wrong type, reads as the default
  `PlanStep` declares.

A step that is parsed and not changed is written back exactly as it was stored (unknown
keys, key order and odd values included); a changed one has only its changed fields
rewritten, in place. So a press on one step never rewrites another step's history.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain.plans import STEP_STATUSES, ResolvedStep, StepStatus


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One step of a stored plan."""

    step_id: int
    description: str = ""
    timing: str | None = None
    # A whole number as stored (3.0 reads as 3); None when absent or not a whole number.
    delay_days: int | None = None
    # Stored text, not `Channel`: rows written from outside may name other channels.
    channel: str = "other"
    suggested_text: str | None = None
    status: StepStatus = "pending"
    completed_at: datetime | None = None
    # The stored object this step was read from, kept so that writing it back changes
    # nothing the program did not change. None for a step the program built.
    stored: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def scheduled(
        cls, step: ResolvedStep, *, status: StepStatus, completed_at: datetime | None
    ) -> PlanStep:
        """A step as the scheduler writes it: its delay resolved to days."""
        spec = step.spec
        return cls(
            step_id=spec.step_id,
            description=spec.description,
            timing=spec.timing,
            delay_days=step.delay.days,
            channel=spec.channel,
            suggested_text=spec.suggested_text,
            status=status,
            completed_at=completed_at,
        )


@dataclass(frozen=True, slots=True)
class NotAStep:
    """An object in the stored array without a usable step_id, kept as it was stored."""

    value: Mapping[str, Any]


PlanEntry = PlanStep | NotAStep


@dataclass(frozen=True, slots=True)
class Plan:
    """A lead's plan: every object of the stored array, in order.

    A step's position is its index in `entries`. Where a step_id repeats, the first step
    with it is the step (`step`, and reconcile); the rest are shown and written back."""

    entries: tuple[PlanEntry, ...] = ()
    _first: dict[int, PlanStep] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        first: dict[int, PlanStep] = {}
        for entry in self.entries:
            if isinstance(entry, PlanStep):
                first.setdefault(entry.step_id, entry)
        # Built once: the dispatcher looks a step up for every reminder card it writes.
        object.__setattr__(self, "_first", first)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def steps(self) -> tuple[PlanStep, ...]:
        return tuple(e for e in self.entries if isinstance(e, PlanStep))

    def step(self, step_id: int) -> PlanStep | None:
        """The (first) step with this id."""
        return self._first.get(step_id)

    def positioned(self) -> Iterator[tuple[int, PlanStep]]:
        """Each step with its position; repeated step_ids included."""
        for position, entry in enumerate(self.entries):
            if isinstance(entry, PlanStep):
                yield position, entry

    def replace_at(self, position: int, step: PlanStep) -> Plan:
        entries = list(self.entries)
        entries[position] = step
        return Plan(tuple(entries))

    def with_status(self, step_id: int, status: StepStatus, completed_at: datetime | None) -> Plan:
        """Every step with this id closed (or reopened) as given."""
        return Plan(
            tuple(
                replace(e, status=status, completed_at=completed_at)
                if isinstance(e, PlanStep) and e.step_id == step_id
                else e
                for e in self.entries
            )
        )


EMPTY_PLAN = Plan()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _description(value: object) -> str:
    return str(value) if value else ""


def _channel(value: object) -> str:
    return str(value) if value else "other"


def _delay(value: object) -> int | None:
    # bool is an int subclass, but true is not a number of days (timing.resolve_delay agrees).
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


_KNOWN_STATUS = frozenset(STEP_STATUSES)


def _status(value: object) -> StepStatus:
    # Anything else reads as pending, as reconcile always treated it (a missing or unknown
    # status leaves a step open).
    for status in STEP_STATUSES:
        if value == status:
            return status
    return "pending"


def _time(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def _step_id(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None


# Each field of the format: how a stored value reads, and how a value is stored.
_READ = {
    "step_id": _step_id,
    "description": _description,
    "timing": _text,
    "delay_days": _delay,
    "channel": _channel,
    "suggested_text": _text,
    "status": _status,
    "completed_at": _time,
}


def _step(stored: Mapping[str, Any], step_id: int) -> PlanStep:
    get = stored.get
    # Inlined for the common case, a step as this service writes it: a reconcile pass
    # parses every plan there is (100,000 steps in bench/reconcile.py).
    description = get("description")
    timing = get("timing")
    delay_days = get("delay_days")
    channel = get("channel")
    suggested_text = get("suggested_text")
    status = get("status")
    completed_at = get("completed_at")
    return PlanStep(
        int(step_id),
        description if type(description) is str else _description(description),
        timing if type(timing) is str else None,
        delay_days if type(delay_days) is int else _delay(delay_days),
        channel if type(channel) is str and channel else _channel(channel),
        suggested_text if type(suggested_text) is str else None,
        status if type(status) is str and status in _KNOWN_STATUS else _status(status),
        None if completed_at is None else _time(completed_at),
        stored,
    )


def parse_plan(raw: object) -> Plan:
    """The stored array as a Plan; anything but an array is an empty plan."""
    if not isinstance(raw, list):
        return EMPTY_PLAN
    entries: list[PlanEntry] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        step_id = item.get("step_id")
        # isinstance(True, int): reconcile has always matched a stored true as step 1.
        entries.append(_step(item, step_id) if isinstance(step_id, int) else NotAStep(item))
    return Plan(tuple(entries))


def outline(raw: object) -> tuple[tuple[int, int, StepStatus], ...]:
    """Each step's (position, step_id, status), read as parse_plan reads them, without
    building the steps: the reconcile pass compares every plan there is, and building 100,000
    PlanSteps (and collecting them) was a visible part of it (see BENCHMARKS.md, "Figures
    behind design choices")."""
    if not isinstance(raw, list):
        return ()
    found: list[tuple[int, int, StepStatus]] = []
    position = 0
    for item in raw:
        if not isinstance(item, dict):
            continue
        step_id = item.get("step_id")
        if isinstance(step_id, int):
            status = item.get("status")
            found.append(
                (
                    position,
                    int(step_id),
                    status if type(status) is str and status in _KNOWN_STATUS else _status(status),
                )
            )
        position += 1
    return tuple(found)


def step_to_json(step: PlanStep) -> dict[str, Any]:
    """One step in CONTRACT.md's format."""
    fresh = {
        "step_id": step.step_id,
        "description": step.description,
        "timing": step.timing,
        "delay_days": step.delay_days,
        "channel": step.channel,
        "suggested_text": step.suggested_text,
        "status": step.status,
        "completed_at": step.completed_at.isoformat() if step.completed_at else None,
    }
    if step.stored is None:
        return fresh
    out = dict(step.stored)
    for name, read in _READ.items():
        # A field that still reads as stored keeps its stored form (and stays absent if it
        # was); only what the program changed is written.
        if read(out.get(name)) != getattr(step, name):
            out[name] = fresh[name]
    return out


def plan_to_json(plan: Plan) -> list[dict[str, Any]]:
    """The value to store in engagement_plan."""
    return [step_to_json(e) if isinstance(e, PlanStep) else dict(e.value) for e in plan.entries]
