"""POST /leads: what a plan may contain, and where each step lands on the calendar.

The clock starts on Monday 2026-03-02 10:00 UTC; the default user works 09:00-18:00 UTC,
Monday to Friday. Every expected date below is worked out by hand from DESIGN.md's rules:
a step is due on day `delay_days` after the plan starts, at the start of working hours,
pushed to the next working moment; day 0 inside working hours is "now".
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.plan_helpers import (
    Auth,
    Json,
    act,
    act_ok,
    activity_types,
    by_step,
    create_lead,
    due_dates,
    error_locs,
    error_types,
    get_plan,
    list_plans,
    step,
    utc,
    when,
)

START = utc(2026, 3, 2, 10)  # Monday, inside working hours

VALID = step(1, 1, description="Connect on LinkedIn", channel="linkedin")


def _plan_body(steps: list[Json]) -> Json:
    return {"name": "Ana", "plan": {"steps": steps}}


def _second(**overrides: Any) -> list[Json]:
    """A valid first step and a second one with `overrides` (None removes a field)."""
    bad = step(2, 3)
    for key, value in overrides.items():
        if value is None:
            bad.pop(key, None)
        else:
            bad[key] = value
    return [VALID, bad]


STEP = ("body", "plan", "steps", 1)

INVALID_PLANS = [
    pytest.param([], ("body", "plan", "steps"), "too_short", id="no-steps"),
    pytest.param(
        [step(i, 1) for i in range(1, 22)], ("body", "plan", "steps"), "too_long", id="21-steps"
    ),
    pytest.param([VALID, step(1, 2)], (*STEP, "step_id"), "value_error", id="duplicate-step-id"),
    pytest.param(_second(step_id=0), (*STEP, "step_id"), "greater_than_equal", id="step-id-0"),
    pytest.param(
        _second(step_id=-4), (*STEP, "step_id"), "greater_than_equal", id="step-id-negative"
    ),
    pytest.param(_second(step_id="2"), (*STEP, "step_id"), "int_type", id="step-id-string"),
    pytest.param(
        _second(step_id=1_000_001), (*STEP, "step_id"), "less_than_equal", id="step-id-huge"
    ),
    pytest.param(
        _second(description=None), (*STEP, "description"), "missing", id="description-missing"
    ),
    pytest.param(
        _second(description=""), (*STEP, "description"), "string_too_short", id="description-empty"
    ),
    pytest.param(
        _second(description="x" * 1001),
        (*STEP, "description"),
        "string_too_long",
        id="description-1001",
    ),
    pytest.param(
        _second(suggested_text="y" * 4001),
        (*STEP, "suggested_text"),
        "string_too_long",
        id="suggested-text-4001",
    ),
    pytest.param(_second(channel="fax"), (*STEP, "channel"), "literal_error", id="channel-unknown"),
    pytest.param(
        _second(delay_days=-1), (*STEP, "delay_days"), "greater_than_equal", id="delay-negative"
    ),
    pytest.param(_second(delay_days=366), (*STEP, "delay_days"), "less_than_equal", id="delay-366"),
    pytest.param(_second(delay_days="3"), (*STEP, "delay_days"), "int_type", id="delay-string"),
    pytest.param(_second(delay_days=2.5), (*STEP, "delay_days"), "int_type", id="delay-float"),
    pytest.param(_second(delay_days=True), (*STEP, "delay_days"), "int_type", id="delay-bool"),
    pytest.param(
        [step(1, 5), step(2, 3)], (*STEP, "delay_days"), "value_error", id="delay-goes-back"
    ),
]


@pytest.mark.parametrize(("steps", "loc", "kind"), INVALID_PLANS)
async def test_invalid_plan_is_422_naming_step_and_field(
    client: httpx.AsyncClient, auth: Auth, steps: list[Json], loc: tuple[Any, ...], kind: str
) -> None:
    response = await client.post("/leads", headers=auth(), json=_plan_body(steps))
    assert error_locs(response) == [loc]
    assert error_types(response) == [kind]
    # Nothing half-created: no lead, no plan.
    assert (await list_plans(client, auth))["summary"]["total_leads"] == 0


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        pytest.param({"company": "Acme"}, ("body", "name"), "missing", id="name-missing"),
        pytest.param({"name": ""}, ("body", "name"), "string_too_short", id="name-empty"),
        pytest.param(
            {"name": "Ana", "nickname": "A"}, ("body", "nickname"), "extra_forbidden", id="unknown"
        ),
        pytest.param(
            {"name": "Ana", "plan": {"steps": [VALID], "owner": 7}},
            ("body", "plan", "owner"),
            "extra_forbidden",
            id="unknown-in-plan",
        ),
    ],
)
async def test_invalid_lead_fields_are_422(
    client: httpx.AsyncClient, auth: Auth, body: Json, loc: tuple[Any, ...], kind: str
) -> None:
    response = await client.post("/leads", headers=auth(), json=body)
    assert error_locs(response) == [loc]
    assert error_types(response) == [kind]
    assert (await list_plans(client, auth))["summary"]["total_leads"] == 0


async def test_duplicate_step_id_message_names_both_steps(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    response = await client.post("/leads", headers=auth(), json=_plan_body([VALID, step(1, 2)]))
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "step_id 1 is used twice (steps 1 and 2)"


async def test_one_step_plan(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, [VALID], company="Acme", title="CTO")
    assert (lead["name"], lead["company"], lead["title"]) == ("Ana", "Acme", "CTO")
    assert lead["plan_status"] == "active"
    assert when(lead["plan_started_at"]) == START
    [only] = lead["steps"]
    assert only["step_id"] == 1
    assert only["description"] == "Connect on LinkedIn"
    assert only["channel"] == "linkedin"
    assert only["delay_days"] == 1
    assert isinstance(only["reminder_id"], int)
    assert when(only["due_at"]) == utc(2026, 3, 3, 9)  # Tuesday, start of the day
    assert lead["next_step_id"] == 1
    assert when(lead["next_due_at"]) == utc(2026, 3, 3, 9)


async def test_twenty_steps_and_longest_texts_are_accepted(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    steps = [step(i, i - 1) for i in range(1, 21)]
    steps[0]["description"] = "d" * 1000
    steps[0]["suggested_text"] = "s" * 4000
    lead = await create_lead(client, auth, steps)
    assert [s["step_id"] for s in lead["steps"]] == list(range(1, 21))
    assert [s["position"] for s in lead["steps"]] == list(range(20))
    assert len({s["reminder_id"] for s in lead["steps"]}) == 20
    first = lead["steps"][0]
    assert first["description"] == "d" * 1000
    assert first["suggested_text"] == "s" * 4000
    # Step 20 is 19 days in: Saturday 2026-03-21, so Monday 2026-03-23 09:00.
    assert when(lead["steps"][-1]["due_at"]) == utc(2026, 3, 23, 9)


async def test_extreme_valid_values(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, [step(1_000_000, 0), step(2, 365)])
    assert [s["step_id"] for s in lead["steps"]] == [1_000_000, 2]
    # 365 days after Monday 2026-03-02 is Tuesday 2027-03-02.
    assert due_dates(lead) == {1_000_000: START, 2: utc(2027, 3, 2, 9)}


async def test_due_dates_from_delays_timing_text_and_fallback(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    steps = [
        step(1, 0),  # now, inside working hours
        step(2, timing="Day 1"),  # Tuesday 09:00
        step(3, timing="tomorrow"),  # Tuesday 09:00
        step(4, timing="Day 3"),  # Thursday 09:00
        step(5, 5),  # Saturday -> Monday 2026-03-09 09:00
        step(6, timing="after 2 weeks"),  # Monday 2026-03-16 09:00
        step(7),  # neither: 14 + 3 = 17 -> Thursday 2026-03-19 09:00
        step(8, timing="whenever it feels right"),  # unreadable: 17 + 3 = 20 -> Sun -> Mon 23rd
    ]
    lead = await create_lead(client, auth, steps)
    assert [s["delay_days"] for s in lead["steps"]] == [0, 1, 1, 3, 5, 14, 17, 20]
    expected = {
        1: START,
        2: utc(2026, 3, 3, 9),
        3: utc(2026, 3, 3, 9),
        4: utc(2026, 3, 5, 9),
        5: utc(2026, 3, 9, 9),
        6: utc(2026, 3, 16, 9),
        7: utc(2026, 3, 19, 9),
        8: utc(2026, 3, 23, 9),
    }
    assert due_dates(lead) == expected
    assert {s["step_id"]: when(s["planned_due_at"]) for s in lead["steps"]} == expected
    steps_out = by_step(lead)
    assert steps_out[2]["timing"] == "Day 1"
    assert steps_out[7]["timing"] is None
    assert steps_out[8]["timing"] == "whenever it feels right"
    # Step 1 is due right now; everything after it waits for it.
    assert [s["status"] for s in lead["steps"]] == ["due"] + ["upcoming"] * 7
    assert [s["waiting_for_step"] for s in lead["steps"]] == [None] + [1] * 7
    assert {s["state"] for s in lead["steps"]} == {"pending"}
    assert when(lead["next_due_at"]) == START


async def test_explicit_delay_wins_over_timing_text(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, [step(1, 2, timing="Day 9")])
    assert lead["steps"][0]["delay_days"] == 2
    assert when(lead["steps"][0]["due_at"]) == utc(2026, 3, 4, 9)


async def test_created_plan_logs_plan_activated_once(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, [step(1, 1), step(2, 3)])
    detail = await get_plan(client, auth, lead["id"])
    assert detail["activity"] == [
        {
            "id": detail["activity"][0]["id"],
            "step_id": None,
            "activity_type": "plan_activated",
            "details": {"steps": 2},
            "created_at": detail["activity"][0]["created_at"],
        }
    ]
    assert when(detail["activity"][0]["created_at"]) == START
    # The detail view is the same lead the creation answered with, plus its activity.
    assert {k: v for k, v in detail.items() if k != "activity"} == lead


async def test_lead_without_plan(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, None, channel="email", context="met at a fair")
    assert lead["plan_status"] == "none"
    assert lead["steps"] == []
    assert lead["next_due_at"] is None
    assert lead["plan_started_at"] is None
    assert (lead["channel"], lead["context"]) == ("email", "met at a fair")
    detail = await get_plan(client, auth, lead["id"])
    assert detail["activity"] == []


async def test_imported_closed_steps_stay_closed(client: httpx.AsyncClient, auth: Auth) -> None:
    steps = [
        step(1, 0, status="done", completed_at="2026-02-27T15:00:00Z"),
        step(2, 1, status="skipped"),
        step(3, 2),
    ]
    lead = await create_lead(client, auth, steps)
    out = by_step(lead)
    assert (out[1]["status"], out[1]["state"]) == ("done", "completed")
    assert when(out[1]["completed_at"]) == utc(2026, 2, 27, 15)
    assert (out[2]["status"], out[2]["state"]) == ("skipped", "skipped")
    assert when(out[2]["completed_at"]) == START  # no date given: closed as of import
    assert out[3]["status"] == "upcoming"
    assert out[3]["waiting_for_step"] is None  # nothing open before it
    assert out[3]["completed_at"] is None
    assert lead["plan_status"] == "active"
    assert lead["next_step_id"] == 3
    assert when(lead["next_due_at"]) == utc(2026, 3, 4, 9)
    # Closed on import means closed: completing again is a no-op, skipping a done step is 409.
    again = await act_ok(client, auth, out[1]["reminder_id"], "complete")
    assert again["changed"] is False
    assert (await act(client, auth, out[1]["reminder_id"], "skip")).status_code == 409
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail) == ["plan_activated"]


async def test_plan_imported_entirely_closed_is_completed(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(
        client, auth, [step(1, 0, status="done"), step(2, 2, status="skipped")]
    )
    assert lead["plan_status"] == "completed"
    assert [s["status"] for s in lead["steps"]] == ["done", "skipped"]
    assert lead["next_due_at"] is None
    summary = (await list_plans(client, auth))["summary"]
    assert summary["active_plans"] == 0
    assert summary["total_leads"] == 1


async def test_imported_naive_completed_at_is_rejected(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    # A completed_at without a zone cannot be stored as an instant: 422, not a 500.
    body = _plan_body([step(1, 0, status="done", completed_at="2026-02-27T15:00:00")])
    response = await client.post("/leads", headers=auth(), json=body)
    assert error_locs(response) == [("body", "plan", "steps", 0, "completed_at")]
    assert error_types(response) == ["timezone_aware"]
    assert (await list_plans(client, auth))["summary"]["total_leads"] == 0
