"""PUT /plans/{lead_id}/steps: reorder, add, remove and re-time steps mid-flight.

Clock starts Monday 2026-03-02 10:00 UTC; default schedule 09:00-18:00 UTC, Monday-Friday.
The base plan is step 1 on day 1 (Tue 3rd 09:00), steps 2 and 3 on day 3 (Thu 5th 09:00).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.db.database import Database
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
    get_plan,
    put_steps,
    reminder_ids,
    reminder_status,
    scalar,
    statuses,
    step,
    steps_with_delays,
    utc,
    when,
)

START = utc(2026, 3, 2, 10)
TUE = utc(2026, 3, 3, 9)
THU = utc(2026, 3, 5, 9)


def _base() -> list[Json]:
    return steps_with_delays(1, 3, 3)


async def _put_ok(client: httpx.AsyncClient, auth: Auth, lead_id: int, steps: list[Json]) -> Json:
    response = await put_steps(client, auth, lead_id, steps)
    assert response.status_code == 200, response.text
    lead: Json = response.json()
    return lead


def _last_edit(detail: Json) -> Json:
    entry = detail["activity"][0]
    assert entry["activity_type"] == "plan_edited"
    details: Json = entry["details"]
    return details


async def test_reorder_moves_positions_and_keeps_reminders(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, _base())
    one, two, three = _base()
    edited = await _put_ok(client, auth, lead["id"], [one, three, two])
    assert [s["step_id"] for s in edited["steps"]] == [1, 3, 2]
    assert [s["position"] for s in edited["steps"]] == [0, 1, 2]
    assert reminder_ids(edited) == reminder_ids(lead)
    assert due_dates(edited) == {1: TUE, 2: THU, 3: THU}
    detail = await get_plan(client, auth, lead["id"])
    assert [s["step_id"] for s in detail["steps"]] == [1, 3, 2]
    assert _last_edit(detail) == {"added": [], "removed": [], "redated": []}
    assert activity_types(detail) == ["plan_edited", "plan_activated"]


async def test_reordered_steps_follow_the_new_order_when_moved(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, _base())
    one, two, three = _base()
    await _put_ok(client, auth, lead["id"], [one, three, two])
    # Step 3 now comes before step 2: closing it two days late (Thu -> Sat) moves step 2,
    # which is after it, and not step 1, which is before it.
    clock.set(utc(2026, 3, 7, 10))
    change = await act_ok(client, auth, reminder_ids(lead)[3], "complete")
    assert change["moved_steps"] == [2]
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == {1: TUE, 2: utc(2026, 3, 9, 9), 3: THU}


async def test_add_a_step_gets_its_own_reminder(
    client: httpx.AsyncClient, auth: Auth, db: Database
) -> None:
    lead = await create_lead(client, auth, _base())
    edited = await _put_ok(
        client, auth, lead["id"], [*_base(), step(4, 10, suggested_text="Last try")]
    )
    added = by_step(edited)[4]
    assert isinstance(added["reminder_id"], int)
    assert added["reminder_id"] not in reminder_ids(lead).values()
    assert (added["status"], added["state"], added["position"]) == ("upcoming", "pending", 3)
    assert when(added["due_at"]) == utc(2026, 3, 12, 9)  # day 10 from Monday: Thursday 12th
    assert added["suggested_text"] == "Last try"
    assert due_dates(edited) == {1: TUE, 2: THU, 3: THU, 4: utc(2026, 3, 12, 9)}
    assert await reminder_status(db, added["reminder_id"]) == "pending"
    rows = await scalar(
        db, "SELECT count(*) FROM scheduled_reminders WHERE lead_id = :id", id=lead["id"]
    )
    assert rows == 4
    assert _last_edit(await get_plan(client, auth, lead["id"])) == {
        "added": [4],
        "removed": [],
        "redated": [],
    }


async def test_a_step_added_for_a_day_already_past_is_due_now(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(5))  # Mon 9th
    clock.set(utc(2026, 3, 4, 11))  # Wednesday
    edited = await _put_ok(client, auth, lead["id"], [step(7, 1), step(1, 5)])
    added = by_step(edited)[7]
    # Day 1 was Tuesday: the new step is due now, never in the past.
    assert when(added["due_at"]) == utc(2026, 3, 4, 11)
    assert when(added["planned_due_at"]) == TUE
    assert added["status"] == "due"
    assert when(edited["plan_started_at"]) == START  # the plan still started on Monday


async def test_remove_an_open_step_cancels_its_reminder(
    client: httpx.AsyncClient, auth: Auth, db: Database
) -> None:
    lead = await create_lead(client, auth, _base())
    rid = reminder_ids(lead)
    one, _, three = _base()
    edited = await _put_ok(client, auth, lead["id"], [one, three])
    assert [s["step_id"] for s in edited["steps"]] == [1, 3]
    assert await reminder_status(db, rid[2]) == "cancelled"
    detail = await get_plan(client, auth, lead["id"])
    assert [s["step_id"] for s in detail["steps"]] == [1, 3]
    assert _last_edit(detail) == {"added": [], "removed": [2], "redated": []}
    response = await act(client, auth, rid[2], "complete")
    assert response.status_code == 409
    assert response.json() == {"detail": "this step was removed from the plan"}
    # The removed step does not come back in the list view either.
    listed = (await client.get("/plans", headers=auth())).json()["leads"][0]
    assert [s["step_id"] for s in listed["steps"]] == [1, 3]


async def test_putting_a_removed_step_back_revives_its_reminder(
    client: httpx.AsyncClient, auth: Auth, db: Database
) -> None:
    lead = await create_lead(client, auth, _base())
    rid = reminder_ids(lead)
    one, two, three = _base()
    await _put_ok(client, auth, lead["id"], [one, three])
    back = await _put_ok(client, auth, lead["id"], [one, two, three])
    assert reminder_ids(back) == rid
    assert await reminder_status(db, rid[2]) == "pending"
    assert due_dates(back) == {1: TUE, 2: THU, 3: THU}
    assert _last_edit(await get_plan(client, auth, lead["id"])) == {
        "added": [2],
        "removed": [],
        "redated": [],
    }


async def test_changing_a_delay_redates_open_steps_only(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, _base())
    rid = reminder_ids(lead)
    await act_ok(client, auth, rid[1], "complete")  # closed Monday 10:00
    clock.set(utc(2026, 3, 2, 11))
    # Step 1 (closed) gets a new delay too, and even asks to be pending: history wins.
    edited = await _put_ok(
        client, auth, lead["id"], [step(1, 2, status="pending"), step(2, 5), step(3, 5)]
    )
    steps = by_step(edited)
    assert (steps[1]["status"], steps[1]["state"]) == ("done", "completed")
    assert when(steps[1]["completed_at"]) == START
    assert when(steps[1]["due_at"]) == TUE
    # Day 5 is Saturday 7th: Monday 9th 09:00.
    for step_id in (2, 3):
        assert when(steps[step_id]["due_at"]) == utc(2026, 3, 9, 9)
        assert when(steps[step_id]["planned_due_at"]) == utc(2026, 3, 9, 9)
        assert steps[step_id]["delay_days"] == 5
    detail = await get_plan(client, auth, lead["id"])
    assert _last_edit(detail) == {"added": [], "removed": [], "redated": [2, 3]}
    assert activity_types(detail) == [
        "plan_edited",
        "step_completed",
        "status_change",
        "plan_activated",
    ]


async def test_shortening_a_delay_into_the_past_makes_the_step_due_now(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(3))  # Thursday
    clock.set(utc(2026, 3, 4, 10))  # Wednesday
    edited = await _put_ok(client, auth, lead["id"], steps_with_delays(0))
    step_out = edited["steps"][0]
    assert when(step_out["due_at"]) == utc(2026, 3, 4, 10)
    assert when(step_out["planned_due_at"]) == START
    assert step_out["status"] == "due"


async def test_reputting_the_same_plan_changes_nothing(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, _base())
    rid = reminder_ids(lead)
    # Not due yet, so the snooze counts from its date: Tue -> Thu; 2 and 3 move two days,
    # Thu -> Sat, which is not a workday -> Mon.
    await act_ok(client, auth, rid[1], "snooze", days=2)
    clock.advance(3600)
    before = await get_plan(client, auth, lead["id"])
    assert due_dates(before) == {
        1: utc(2026, 3, 5, 9),
        2: utc(2026, 3, 9, 9),
        3: utc(2026, 3, 9, 9),
    }
    edited = await _put_ok(client, auth, lead["id"], _base())
    assert edited == {k: v for k, v in before.items() if k != "activity"}
    after = await get_plan(client, auth, lead["id"])
    assert after == before
    assert activity_types(after) == ["step_snoozed", "plan_activated"]


INVALID_EDITS = [
    pytest.param([], ("body", "steps"), "too_short", id="no-steps"),
    pytest.param([step(i, 1) for i in range(1, 22)], ("body", "steps"), "too_long", id="21-steps"),
    pytest.param(
        [step(1, 1), step(1, 2)], ("body", "steps", 1, "step_id"), "value_error", id="duplicate"
    ),
    pytest.param(
        [step(1, 1), step(0, 2)], ("body", "steps", 1, "step_id"), "greater_than_equal", id="id-0"
    ),
    pytest.param(
        [step(1, 1), step(2, 2, description="")],
        ("body", "steps", 1, "description"),
        "string_too_short",
        id="description-empty",
    ),
    pytest.param(
        [step(1, 1), step(2, 2, channel="pigeon")],
        ("body", "steps", 1, "channel"),
        "literal_error",
        id="channel",
    ),
    pytest.param(
        [step(1, 1), step(2, 366)],
        ("body", "steps", 1, "delay_days"),
        "less_than_equal",
        id="delay-366",
    ),
    pytest.param(
        [step(1, 4), step(2, 2)], ("body", "steps", 1, "delay_days"), "value_error", id="goes-back"
    ),
]


@pytest.mark.parametrize(("steps", "loc", "kind"), INVALID_EDITS)
async def test_invalid_edit_is_422_and_changes_nothing(
    client: httpx.AsyncClient,
    auth: Auth,
    steps: list[Json],
    loc: tuple[Any, ...],
    kind: str,
) -> None:
    lead = await create_lead(client, auth, _base())
    before = await get_plan(client, auth, lead["id"])
    response = await put_steps(client, auth, lead["id"], steps)
    assert error_locs(response) == [loc]
    assert response.json()["detail"][0]["type"] == kind
    assert await get_plan(client, auth, lead["id"]) == before


async def test_put_on_a_lead_without_plan_activates_one(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, None)
    clock.set(utc(2026, 3, 3, 10))
    edited = await _put_ok(client, auth, lead["id"], steps_with_delays(0, 1))
    assert edited["plan_status"] == "active"
    assert when(edited["plan_started_at"]) == utc(2026, 3, 3, 10)
    assert due_dates(edited) == {1: utc(2026, 3, 3, 10), 2: utc(2026, 3, 4, 9)}
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail) == ["plan_activated"]
    assert detail["activity"][0]["details"] == {"steps": 2}


async def test_removing_the_last_open_step_completes_the_plan(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))
    await act_ok(client, auth, reminder_ids(lead)[1], "complete")
    edited = await _put_ok(client, auth, lead["id"], steps_with_delays(1))
    assert edited["plan_status"] == "completed"
    assert statuses(edited) == {1: "done"}
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail) == [
        "plan_completed",
        "plan_edited",
        "step_completed",
        "status_change",
        "plan_activated",
    ]


async def test_adding_a_step_to_a_completed_plan_reactivates_it(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1))
    await act_ok(client, auth, reminder_ids(lead)[1], "complete")
    edited = await _put_ok(client, auth, lead["id"], steps_with_delays(1, 4))
    assert edited["plan_status"] == "active"
    assert statuses(edited) == {1: "done", 2: "upcoming"}
    assert when(by_step(edited)[2]["due_at"]) == utc(2026, 3, 6, 9)


async def test_editing_a_paused_plan_keeps_it_paused(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1))
    response = await client.post(f"/plans/{lead['id']}/pause", headers=auth())
    assert response.status_code == 200, response.text
    edited = await _put_ok(client, auth, lead["id"], steps_with_delays(1, 2))
    assert edited["plan_status"] == "paused"
    assert statuses(edited) == {1: "paused", 2: "paused"}


async def test_put_on_unknown_lead_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await put_steps(client, auth, 424242, _base())
    assert response.status_code == 404
    assert response.json() == {"detail": "not found"}
