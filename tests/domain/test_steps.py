"""The stored plan read into Plan/PlanStep and written back: what is not changed is written
back exactly as stored, and what cannot be a step is dropped or kept as reconcile always did."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.plans import STEP_STATUSES, ResolvedStep, StepSpec
from app.domain.steps import NotAStep, Plan, PlanStep, outline, parse_plan, plan_to_json
from app.domain.timing import ResolvedDelay

AT = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)

# What the service itself writes (CONTRACT.md's step format).
WRITTEN = {
    "step_id": 1,
    "description": "Send a connection request",
    "timing": "Day 1",
    "delay_days": 1,
    "channel": "linkedin",
    "suggested_text": "Hi Ana",
    "status": "pending",
    "completed_at": None,
}

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
field_values = {
    "step_id": st.integers(-5, 10**6) | json_values,
    "description": st.text() | json_values,
    "timing": st.text() | json_values,
    "delay_days": st.integers() | st.floats(allow_nan=False) | json_values,
    "channel": st.sampled_from(["linkedin", "email", "fax", ""]) | json_values,
    "suggested_text": st.text() | json_values,
    "status": st.sampled_from([*STEP_STATUSES, "weird"]) | json_values,
    "completed_at": st.sampled_from(
        [AT.isoformat(), "2026-03-02T11:00:00Z", "2026-03-02T11:00:00", "yesterday"]
    )
    | json_values,
    "extra": json_values,
    "notes": json_values,
}


@st.composite
def stored_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A stored object: any subset of the fields, in any order, with any values."""
    names = draw(st.permutations(list(field_values)))
    kept = names[: draw(st.integers(0, len(names)))]
    return {name: draw(field_values[name]) for name in kept}


stored_plans = st.lists(stored_objects() | json_values, max_size=6)


def _dump(value: Any) -> str:
    return json.dumps(value)  # key order included: the bytes SQLite keeps


def test_a_step_the_service_wrote_reads_back_typed() -> None:
    done = {**WRITTEN, "status": "done", "completed_at": AT.isoformat()}
    plan = parse_plan([WRITTEN, done | {"step_id": 2}])
    assert plan.entries == (
        PlanStep(
            step_id=1,
            description="Send a connection request",
            timing="Day 1",
            delay_days=1,
            channel="linkedin",
            suggested_text="Hi Ana",
            status="pending",
            completed_at=None,
        ),
        PlanStep(
            step_id=2,
            description="Send a connection request",
            timing="Day 1",
            delay_days=1,
            channel="linkedin",
            suggested_text="Hi Ana",
            status="done",
            completed_at=AT,
        ),
    )


def test_a_step_built_by_the_scheduler_is_written_in_the_contract_format() -> None:
    spec = StepSpec(
        step_id=1,
        description="Send a connection request",
        timing="Day 1",
        delay_days="soon",
        channel="linkedin",
        suggested_text="Hi Ana",
    )
    step = PlanStep.scheduled(
        ResolvedStep(spec, 0, ResolvedDelay(1, "timing")), status="pending", completed_at=None
    )
    written = plan_to_json(Plan((step,)))
    assert _dump(written) == _dump([WRITTEN])
    closed = plan_to_json(Plan((replace(step, status="done", completed_at=AT),)))
    assert closed == [{**WRITTEN, "status": "done", "completed_at": "2026-03-02T11:00:00+00:00"}]


def test_missing_fields_read_as_their_defaults_and_stay_missing() -> None:
    plan = parse_plan([{"step_id": 4}])
    assert plan.entries == (PlanStep(step_id=4),)
    step = plan.step(4)
    assert step is not None
    assert (step.description, step.channel, step.status, step.delay_days) == (
        "",
        "other",
        "pending",
        None,
    )
    assert plan_to_json(plan) == [{"step_id": 4}]


def test_values_of_the_wrong_type_read_as_defaults_and_are_written_back_as_stored() -> None:
    stored = {
        "step_id": 3,
        "description": None,
        "timing": 5,
        "delay_days": "3",
        "channel": "",
        "suggested_text": ["x"],
        "status": "weird",
        "completed_at": "2026-03-02T11:00:00",  # no offset: not a moment
    }
    plan = parse_plan([stored])
    assert plan.entries == (PlanStep(step_id=3),)
    assert _dump(plan_to_json(plan)) == _dump([stored])


def test_whole_floats_count_as_days_and_bools_do_not() -> None:
    plan = parse_plan([{"step_id": 1, "delay_days": 3.0}, {"step_id": 2, "delay_days": True}])
    assert [s.delay_days for s in plan.steps] == [3, None]
    assert plan_to_json(plan) == [
        {"step_id": 1, "delay_days": 3.0},
        {"step_id": 2, "delay_days": True},
    ]


def test_a_z_suffixed_time_reads_as_the_moment_and_keeps_its_spelling() -> None:
    plan = parse_plan([{"step_id": 1, "status": "done", "completed_at": "2026-03-02T11:00:00Z"}])
    assert plan.steps[0].completed_at == AT
    assert plan_to_json(plan)[0]["completed_at"] == "2026-03-02T11:00:00Z"


def test_unknown_keys_and_key_order_survive_a_change_of_status() -> None:
    stored = {"note": {"by": "admin"}, "status": "pending", "step_id": 2, "description": "Call"}
    plan = parse_plan([stored]).with_status(2, "done", AT)
    assert _dump(plan_to_json(plan)) == _dump(
        [
            {
                "note": {"by": "admin"},
                "status": "done",
                "step_id": 2,
                "description": "Call",
                "completed_at": AT.isoformat(),
            }
        ]
    )


def test_entries_that_are_not_objects_are_dropped_and_objects_without_an_id_kept() -> None:
    raw: list[Any] = [None, {"step_id": 1}, "a note", [1, 2], {"step_id": "x"}, 7, {"no": "id"}]
    raw.append({"step_id": 2})
    plan = parse_plan(raw)
    assert plan.entries == (
        PlanStep(step_id=1),
        NotAStep({"step_id": "x"}),
        NotAStep({"no": "id"}),
        PlanStep(step_id=2),
    )
    # Objects without an id hold their place: step 2 is the fourth entry, as reconcile counts.
    assert [(position, step.step_id) for position, step in plan.positioned()] == [(0, 1), (3, 2)]
    assert len(plan) == 4
    assert plan_to_json(plan) == [{"step_id": 1}, {"step_id": "x"}, {"no": "id"}, {"step_id": 2}]


def test_anything_but_an_array_is_an_empty_plan() -> None:
    for raw in (None, {}, "[]", 3, {"steps": [{"step_id": 1}]}):
        assert parse_plan(raw) == Plan()
        assert not parse_plan(raw)
        assert plan_to_json(parse_plan(raw)) == []


def test_a_repeated_id_finds_the_first_and_a_status_change_reaches_both() -> None:
    plan = parse_plan(
        [{"step_id": 1, "description": "first"}, {"step_id": 1, "description": "again"}]
    )
    step = plan.step(1)
    assert step is not None
    assert step.description == "first"
    assert plan.step(2) is None
    closed = plan_to_json(plan.with_status(1, "skipped", AT))
    assert [(s["description"], s["status"]) for s in closed] == [
        ("first", "skipped"),
        ("again", "skipped"),
    ]


def test_replace_at_changes_one_entry_only() -> None:
    plan = parse_plan([{"step_id": 1}, {"step_id": 1}, {"x": 1}])
    first = plan.steps[0]
    changed = plan.replace_at(0, replace(first, status="done", completed_at=AT))
    assert plan_to_json(changed) == [
        {"step_id": 1, "status": "done", "completed_at": AT.isoformat()},
        {"step_id": 1},
        {"x": 1},
    ]
    assert plan_to_json(plan) == [{"step_id": 1}, {"step_id": 1}, {"x": 1}]  # unchanged


def test_a_true_step_id_is_step_one_as_reconcile_always_matched_it() -> None:
    plan = parse_plan([{"step_id": True}])
    assert plan.step(1) is not None
    assert plan_to_json(plan) == [{"step_id": True}]


@settings(max_examples=500, deadline=None)
@given(raw=stored_plans)
def test_what_is_not_changed_is_written_back_exactly(raw: list[Any]) -> None:
    objects = [item for item in raw if isinstance(item, dict)]
    assert _dump(plan_to_json(parse_plan(raw))) == _dump(objects)


@settings(max_examples=500, deadline=None)
@given(raw=stored_plans)
def test_written_plans_read_back_the_same(raw: list[Any]) -> None:
    plan = parse_plan(raw)
    assert parse_plan(plan_to_json(plan)) == plan


@settings(max_examples=300, deadline=None)
@given(raw=stored_plans, status=st.sampled_from(["done", "skipped"]), data=st.data())
def test_closing_a_step_changes_its_status_and_time_and_nothing_else(
    raw: list[Any], status: Any, data: st.DataObject
) -> None:
    plan = parse_plan(raw)
    if not plan.steps:
        return
    target = data.draw(st.sampled_from(plan.steps)).step_id
    before = plan_to_json(plan)
    after = plan_to_json(plan.with_status(target, status, AT))
    reread = parse_plan(after)
    assert len(after) == len(before)
    for old, new, entry in zip(before, after, reread.entries, strict=True):
        if isinstance(entry, PlanStep) and entry.step_id == target:
            assert (entry.status, entry.completed_at) == (status, AT)
            rest = {k: v for k, v in new.items() if k not in ("status", "completed_at")}
            assert rest == {k: v for k, v in old.items() if k not in ("status", "completed_at")}
        else:
            assert _dump(new) == _dump(old)


@settings(max_examples=300, deadline=None)
@given(
    step_id=st.integers(0, 1000),
    description=st.text(min_size=1),
    timing=st.none() | st.text(),
    days=st.integers(0, 365),
    channel=st.sampled_from(["linkedin", "email", "phone", "telegram", "other"]),
    suggested=st.none() | st.text(),
    status=st.sampled_from(STEP_STATUSES),
    completed_at=st.none() | st.datetimes(timezones=st.just(UTC)),
)
def test_steps_the_scheduler_builds_round_trip_through_json(
    step_id: int,
    description: str,
    timing: str | None,
    days: int,
    channel: Any,
    suggested: str | None,
    status: Any,
    completed_at: datetime | None,
) -> None:
    spec = StepSpec(step_id, description, timing, None, channel, suggested)
    step = PlanStep.scheduled(
        ResolvedStep(spec, 0, ResolvedDelay(days, "fallback")),
        status=status,
        completed_at=completed_at,
    )
    stored = json.loads(json.dumps(plan_to_json(Plan((step,)))))
    assert list(stored[0]) == list(WRITTEN)  # the contract's keys, in its order
    assert parse_plan(stored) == Plan((step,))


@settings(max_examples=500, deadline=None)
@given(raw=stored_plans)
def test_the_outline_reads_each_step_as_the_parse_does(raw: list[Any]) -> None:
    assert outline(raw) == tuple(
        (position, step.step_id, step.status) for position, step in parse_plan(raw).positioned()
    )


def test_the_outline_of_anything_but_an_array_is_empty() -> None:
    assert outline({"step_id": 1}) == ()
