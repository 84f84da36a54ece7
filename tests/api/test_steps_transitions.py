"""POST /reminders/{id}/complete|skip|snooze: the one transition path, seen through REST.

Clock starts Monday 2026-03-02 10:00 UTC; default schedule 09:00-18:00 UTC, Monday-Friday.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.db.database import Database
from tests.api.plan_helpers import (
    Auth,
    act,
    act_ok,
    activity_types,
    by_step,
    create_lead,
    due_dates,
    error_locs,
    get_plan,
    list_plans,
    reminder_ids,
    step,
    steps_with_delays,
    stored_plan,
    utc,
    when,
)

START = utc(2026, 3, 2, 10)


async def test_complete_early_closes_the_step_and_moves_nothing(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3, 7))
    rid = reminder_ids(lead)
    change = await act_ok(client, auth, rid[1], "complete")
    assert change["changed"] is True
    assert change["plan_completed"] is False
    assert change["lead_id"] == lead["id"]
    assert change["moved_steps"] == []
    assert change["step"]["step_id"] == 1
    assert change["step"]["reminder_id"] == rid[1]
    assert (change["step"]["status"], change["step"]["state"]) == ("done", "completed")
    assert when(change["step"]["completed_at"]) == START
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == due_dates(lead)  # Tue 3rd, Thu 5th, Mon 9th: untouched
    steps = by_step(detail)
    assert steps[2]["waiting_for_step"] is None  # step 1 no longer holds it back
    assert steps[3]["waiting_for_step"] == 2
    assert detail["next_step_id"] == 2
    assert detail["activity"][0]["activity_type"] == "step_completed"
    assert detail["activity"][0]["step_id"] == 1
    assert detail["activity"][0]["details"] == {"reminder_id": rid[1], "late_days": 0}
    assert activity_types(detail) == ["step_completed", "status_change", "plan_activated"]


@pytest.mark.parametrize(
    ("action", "shown", "state"),
    [("complete", "done", "completed"), ("skip", "skipped", "skipped")],
)
async def test_repeating_the_closing_action_changes_nothing(
    client: httpx.AsyncClient,
    auth: Auth,
    clock: ManualClock,
    action: str,
    shown: str,
    state: str,
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))
    rid = reminder_ids(lead)[1]
    first = await act_ok(client, auth, rid, action)
    assert first["changed"] is True
    clock.advance(3600)
    again = await act_ok(client, auth, rid, action)
    assert again["changed"] is False
    assert again["moved_steps"] == []
    assert (again["step"]["status"], again["step"]["state"]) == (shown, state)
    assert when(again["step"]["completed_at"]) == START  # the first close's time stays
    detail = await get_plan(client, auth, lead["id"])
    first_done = ["status_change"] if state == "completed" else []  # analyzed: reached_out
    assert activity_types(detail) == [f"step_{state}", *first_done, "plan_activated"]


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("complete", "skip", "this step is already done"),
        ("complete", "snooze", "this step is already done"),
        ("skip", "complete", "this step is already skipped"),
        ("skip", "snooze", "this step is already skipped"),
    ],
)
async def test_other_action_on_a_closed_step_is_409(
    client: httpx.AsyncClient, auth: Auth, first: str, second: str, message: str
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))
    rid = reminder_ids(lead)[1]
    await act_ok(client, auth, rid, first, days=1)
    before = await get_plan(client, auth, lead["id"])
    response = await act(client, auth, rid, second, days=1)
    assert response.status_code == 409
    assert response.json() == {"detail": message}
    assert await get_plan(client, auth, lead["id"]) == before


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        pytest.param({"days": 0}, "greater_than_equal", id="zero"),
        pytest.param({"days": 31}, "less_than_equal", id="31"),
        pytest.param({"days": "x"}, "int_type", id="text"),
        pytest.param({"days": "2"}, "int_type", id="numeric-text"),
        pytest.param({"days": 1.5}, "int_type", id="fraction"),
        pytest.param({}, "missing", id="missing"),
    ],
)
async def test_snooze_days_out_of_range_is_422(
    client: httpx.AsyncClient, auth: Auth, body: dict[str, Any], kind: str
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    response = await client.post(f"/reminders/{rid}/snooze", headers=auth(), json=body)
    assert error_locs(response) == [("body", "days")]
    assert response.json()["detail"][0]["type"] == kind
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == due_dates(lead)
    assert by_step(detail)[1]["snooze_count"] == 0
    assert activity_types(detail) == ["plan_activated"]


async def test_snooze_one_day_on_monday_moves_the_step_and_later_ones(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    # Mon 10:00 (now), Wed 4th 09:00, Fri 6th 09:00
    lead = await create_lead(client, auth, steps_with_delays(0, 2, 4))
    rid = reminder_ids(lead)
    change = await act_ok(client, auth, rid[1], "snooze", days=1)
    assert change["changed"] is True
    step = change["step"]
    assert when(step["due_at"]) == utc(2026, 3, 3, 9)  # Tuesday, start of the day
    assert (step["status"], step["state"], step["snooze_count"]) == ("snoozed", "pending", 1)
    assert when(step["planned_due_at"]) == START  # the plan's own date is kept
    # Step 1 moved one calendar day, so the later open steps move one day too.
    assert change["moved_steps"] == [2, 3]
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == {
        1: utc(2026, 3, 3, 9),
        2: utc(2026, 3, 5, 9),  # Wed -> Thu
        3: utc(2026, 3, 9, 9),  # Fri -> Sat -> Monday
    }
    snoozed = detail["activity"][0]
    assert snoozed["activity_type"] == "step_snoozed"
    assert snoozed["step_id"] == 1
    assert snoozed["details"]["days"] == 1
    assert snoozed["details"]["moved_steps"] == [2, 3]
    assert when(snoozed["details"]["until"]) == utc(2026, 3, 3, 9)


async def test_snooze_three_days_on_friday_lands_on_monday(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(4, 5))  # Fri 6th, Mon 9th
    rid = reminder_ids(lead)
    clock.set(utc(2026, 3, 6, 10))
    change = await act_ok(client, auth, rid[1], "snooze", days=3)
    assert when(change["step"]["due_at"]) == utc(2026, 3, 9, 9)
    assert change["moved_steps"] == [2]
    detail = await get_plan(client, auth, lead["id"])
    # Step 1 moved Fri -> Mon (3 days); step 2 moves Mon 9th -> Thu 12th.
    assert due_dates(detail) == {1: utc(2026, 3, 9, 9), 2: utc(2026, 3, 12, 9)}


async def test_snoozing_an_overdue_step_counts_from_now(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))  # Tue 3rd, Thu 5th
    rid = reminder_ids(lead)
    clock.set(utc(2026, 3, 5, 10))  # Thursday: step 1 is two days overdue
    before = by_step(await get_plan(client, auth, lead["id"]))[1]
    assert (before["status"], before["overdue_days"]) == ("overdue", 2)
    change = await act_ok(client, auth, rid[1], "snooze", days=1)
    # Tomorrow (Friday), not one day after the old due date (which is in the past).
    assert when(change["step"]["due_at"]) == utc(2026, 3, 6, 9)
    assert (change["step"]["status"], change["step"]["overdue_days"]) == ("snoozed", 0)
    # It moved Tue -> Fri, three days; step 2 follows: Thu 5th -> Sun 8th -> Mon 9th.
    assert change["moved_steps"] == [2]
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == {1: utc(2026, 3, 6, 9), 2: utc(2026, 3, 9, 9)}


async def test_snoozing_twice_counts_both(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0))
    rid = reminder_ids(lead)[1]
    await act_ok(client, auth, rid, "snooze", days=1)  # Tue 3rd 09:00
    clock.set(utc(2026, 3, 3, 9, 30))
    change = await act_ok(client, auth, rid, "snooze", days=2)
    assert when(change["step"]["due_at"]) == utc(2026, 3, 5, 9)
    assert change["step"]["snooze_count"] == 2
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail) == ["step_snoozed", "step_snoozed", "plan_activated"]


async def test_completing_late_moves_later_open_steps_by_the_lateness(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    # Tue 3rd, Wed 4th, Thu 5th, Mon 16th -- all 09:00
    lead = await create_lead(client, auth, steps_with_delays(1, 2, 3, 14))
    rid = reminder_ids(lead)
    await act_ok(client, auth, rid[3], "skip")  # a closed later step is not moved
    clock.set(utc(2026, 3, 5, 9, 30))  # two days after step 1's due date
    change = await act_ok(client, auth, rid[1], "complete")
    assert change["moved_steps"] == [2, 4]
    assert when(change["step"]["completed_at"]) == utc(2026, 3, 5, 9, 30)
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == {
        1: utc(2026, 3, 3, 9),  # a closed step keeps its date
        2: utc(2026, 3, 6, 9),  # Wed -> Fri
        3: utc(2026, 3, 5, 9),  # skipped before: stays
        4: utc(2026, 3, 18, 9),  # Mon 16th -> Wed 18th
    }
    completed = detail["activity"][0]
    assert completed["activity_type"] == "step_completed"
    assert completed["details"] == {"reminder_id": rid[1], "late_days": 2, "moved_steps": [2, 4]}


async def test_completing_late_over_a_weekend(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))  # Tue 3rd, Thu 5th
    rid = reminder_ids(lead)
    clock.set(utc(2026, 3, 5, 11))  # two days late
    change = await act_ok(client, auth, rid[1], "complete")
    assert change["moved_steps"] == [2]
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail)[2] == utc(2026, 3, 9, 9)  # Thu + 2 = Saturday -> Monday


async def test_completing_on_the_due_day_moves_nothing(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))
    rid = reminder_ids(lead)
    clock.set(utc(2026, 3, 3, 17, 59))  # same day, hours after the due time
    change = await act_ok(client, auth, rid[1], "complete")
    assert change["moved_steps"] == []
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == due_dates(lead)


async def test_closing_the_last_open_step_completes_the_plan_once(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 1))
    rid = reminder_ids(lead)
    first = await act_ok(client, auth, rid[1], "complete")
    assert first["plan_completed"] is False
    last = await act_ok(client, auth, rid[2], "skip")
    assert (last["changed"], last["plan_completed"]) == (True, True)
    again = await act_ok(client, auth, rid[2], "skip")
    assert (again["changed"], again["plan_completed"]) == (False, False)
    detail = await get_plan(client, auth, lead["id"])
    assert detail["plan_status"] == "completed"
    assert detail["next_due_at"] is None
    assert detail["next_step_id"] is None
    assert activity_types(detail) == [
        "plan_completed",
        "step_skipped",
        "step_completed",
        "status_change",
        "plan_activated",
    ]
    summary = (await list_plans(client, auth))["summary"]
    assert (summary["active_plans"], summary["total_leads"]) == (0, 1)


async def test_unknown_reminder_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    for action in ("complete", "skip", "snooze"):
        response = await act(client, auth, 987654, action, days=1)
        assert response.status_code == 404
        assert response.json() == {"detail": "not found"}


async def test_snoozing_an_upcoming_step_never_moves_it_earlier(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(3, 7))  # Thu 5th, Mon 9th
    rid = reminder_ids(lead)
    change = await act_ok(client, auth, rid[1], "snooze", days=1)
    # "Snooze" postpones: a step due Thursday must not come back on Tuesday, ahead of plan.
    assert when(change["step"]["due_at"]) >= utc(2026, 3, 5, 9)
    detail = await get_plan(client, auth, lead["id"])
    dates = due_dates(detail)
    assert dates[1] <= dates[2]


async def test_snooze_thirty_days_is_the_longest(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0))
    change = await act_ok(client, auth, reminder_ids(lead)[1], "snooze", days=30)
    assert when(change["step"]["due_at"]) == utc(2026, 4, 1, 9)  # Wednesday 1 April


async def test_concurrent_presses_close_a_step_once(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    responses = await asyncio.gather(*(act(client, auth, rid, "complete") for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert sorted(r.json()["changed"] for r in responses) == [False] * 4 + [True]
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail) == ["step_completed", "status_change", "plan_activated"]


async def test_concurrent_complete_and_skip_apply_exactly_one(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    done, skipped = await asyncio.gather(
        act(client, auth, rid, "complete"), act(client, auth, rid, "skip")
    )
    assert sorted([done.status_code, skipped.status_code]) == [200, 409]
    winner = done if done.status_code == 200 else skipped
    detail = await get_plan(client, auth, lead["id"])
    assert by_step(detail)[1]["status"] == winner.json()["step"]["status"]
    # The winner's entry (and, for a first Done, the lead's status change), then activation.
    expected = 3 if winner is done else 2
    assert len(detail["activity"]) == expected


async def test_lateness_and_snoozes_count_days_on_the_users_calendar(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    response = await client.patch("/me", headers=auth(), json={"timezone": "America/New_York"})
    assert response.status_code == 200, response.text
    # Days 1 and 1: Tue 09:00 EST = 14:00 UTC; day 4: Fri 14:00 UTC.
    lead = await create_lead(client, auth, steps_with_delays(1, 1, 4))
    rid = reminder_ids(lead)
    # Wednesday 03:00 UTC is still Tuesday 22:00 in New York: step 1 is not late at all.
    clock.set(utc(2026, 3, 4, 3))
    change = await act_ok(client, auth, rid[1], "complete")
    assert change["moved_steps"] == []
    # Wednesday 04:00 UTC is Tuesday 23:00 EST: "1 day" is Wednesday 09:00 EST, 14:00 UTC,
    # a move of one local day, so step 3 moves one day: Friday -> Saturday -> Monday 9th,
    # which is after the DST switch: 09:00 EDT = 13:00 UTC.
    clock.set(utc(2026, 3, 4, 4))
    change = await act_ok(client, auth, rid[2], "snooze", days=1)
    assert when(change["step"]["due_at"]) == utc(2026, 3, 4, 14)
    assert change["moved_steps"] == [3]
    detail = await get_plan(client, auth, lead["id"])
    assert due_dates(detail) == {
        1: utc(2026, 3, 3, 14),
        2: utc(2026, 3, 4, 14),
        3: utc(2026, 3, 9, 13),
    }


async def test_the_stored_plan_json_follows_every_transition(
    client: httpx.AsyncClient, auth: Auth, db: Database
) -> None:
    lead = await create_lead(
        client, auth, [step(1, 0, timing="today", suggested_text="Hi"), step(2, 1), step(3, 2)]
    )
    rid = reminder_ids(lead)
    await act_ok(client, auth, rid[1], "complete")
    await act_ok(client, auth, rid[2], "skip")
    await act_ok(client, auth, rid[3], "snooze", days=3)
    assert await stored_plan(db, lead["id"]) == [
        {
            "step_id": 1,
            "description": "Step 1",
            "timing": "today",
            "delay_days": 0,
            "channel": "email",
            "suggested_text": "Hi",
            "status": "done",
            "completed_at": "2026-03-02T10:00:00+00:00",
        },
        {
            "step_id": 2,
            "description": "Step 2",
            "timing": None,
            "delay_days": 1,
            "channel": "email",
            "suggested_text": None,
            "status": "skipped",
            "completed_at": "2026-03-02T10:00:00+00:00",
        },
        {
            "step_id": 3,
            "description": "Step 3",
            "timing": None,
            "delay_days": 2,
            "channel": "email",
            "suggested_text": None,
            "status": "pending",
            "completed_at": None,
        },
    ]
