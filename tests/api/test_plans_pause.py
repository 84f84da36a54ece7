"""POST /plans/{lead_id}/pause and /resume.

Clock starts Monday 2026-03-02 10:00 UTC; default schedule 09:00-18:00 UTC, Monday-Friday.
"""

from __future__ import annotations

import httpx

from app.clock import ManualClock
from tests.api.plan_helpers import (
    Auth,
    Json,
    act_ok,
    activity_types,
    create_lead,
    due_dates,
    get_plan,
    list_plans,
    reminder_ids,
    statuses,
    steps_with_delays,
    utc,
)


async def _post(client: httpx.AsyncClient, auth: Auth, lead_id: int, action: str) -> httpx.Response:
    return await client.post(f"/plans/{lead_id}/{action}", headers=auth())


async def _ok(client: httpx.AsyncClient, auth: Auth, lead_id: int, action: str) -> Json:
    response = await _post(client, auth, lead_id, action)
    assert response.status_code == 200, response.text
    lead: Json = response.json()
    return lead


async def test_pause_shows_every_open_step_paused(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 1, 3))
    await act_ok(client, auth, reminder_ids(lead)[1], "complete")
    paused = await _ok(client, auth, lead["id"], "pause")
    assert paused["plan_status"] == "paused"
    assert statuses(paused) == {1: "done", 2: "paused", 3: "paused"}
    assert due_dates(paused) == due_dates(lead)
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail) == [
        "plan_paused",
        "step_completed",
        "status_change",
        "plan_activated",
    ]
    assert detail["activity"][0]["details"] == {}
    summary = (await list_plans(client, auth))["summary"]
    assert (summary["active_plans"], summary["total_leads"]) == (0, 1)


async def test_pausing_twice_is_a_no_op(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1))
    first = await _ok(client, auth, lead["id"], "pause")
    clock.advance(3600)
    second = await _ok(client, auth, lead["id"], "pause")
    assert second == first
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail) == ["plan_paused", "plan_activated"]


async def test_pausing_a_completed_plan_or_no_plan_is_409(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    done = await create_lead(client, auth, steps_with_delays(0))
    await act_ok(client, auth, reminder_ids(done)[1], "complete")
    response = await _post(client, auth, done["id"], "pause")
    assert response.status_code == 409
    assert response.json() == {"detail": "the plan is already completed"}
    bare = await create_lead(client, auth, None)
    response = await _post(client, auth, bare["id"], "pause")
    assert response.status_code == 409
    assert response.json() == {"detail": "there is no active plan to pause"}
    assert (await get_plan(client, auth, done["id"]))["plan_status"] == "completed"
    assert (await get_plan(client, auth, bare["id"]))["plan_status"] == "none"


async def test_resume_after_three_days_moves_open_steps_three_days(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    # Mon 2nd 10:00 (done before the pause), Tue 3rd 09:00, Thu 5th 09:00
    lead = await create_lead(client, auth, steps_with_delays(0, 1, 3))
    rid = reminder_ids(lead)
    await act_ok(client, auth, rid[1], "complete")
    await _ok(client, auth, lead["id"], "pause")
    clock.set(utc(2026, 3, 5, 10))  # Thursday: three calendar days later
    resumed = await _ok(client, auth, lead["id"], "resume")
    assert resumed["plan_status"] == "active"
    assert due_dates(resumed) == {
        1: utc(2026, 3, 2, 10),  # closed: not moved
        2: utc(2026, 3, 6, 9),  # Tue + 3 = Friday
        3: utc(2026, 3, 9, 9),  # Thu + 3 = Sunday -> Monday
    }
    assert statuses(resumed) == {1: "done", 2: "upcoming", 3: "upcoming"}
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail)[0] == "plan_resumed"
    assert detail["activity"][0]["details"] == {"paused_days": 3, "moved_steps": [2, 3]}


async def test_resume_places_moved_steps_at_the_start_of_working_hours(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0))  # Monday 10:00
    await _ok(client, auth, lead["id"], "pause")
    clock.set(utc(2026, 3, 6, 16))  # Friday, four days later
    resumed = await _ok(client, auth, lead["id"], "resume")
    assert due_dates(resumed) == {1: utc(2026, 3, 6, 9)}  # Friday 09:00, not 10:00
    assert statuses(resumed) == {1: "due"}


async def test_resume_on_the_same_day_moves_nothing(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 2))
    await _ok(client, auth, lead["id"], "pause")
    clock.set(utc(2026, 3, 2, 17))
    resumed = await _ok(client, auth, lead["id"], "resume")
    assert due_dates(resumed) == due_dates(lead)
    detail = await get_plan(client, auth, lead["id"])
    assert detail["activity"][0]["activity_type"] == "plan_resumed"
    assert detail["activity"][0]["details"] == {"paused_days": 0}


async def test_resume_an_active_plan_is_a_no_op(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 2))
    clock.set(utc(2026, 3, 4, 10))
    resumed = await _ok(client, auth, lead["id"], "resume")
    assert resumed["plan_status"] == "active"
    assert due_dates(resumed) == due_dates(lead)
    assert activity_types(await get_plan(client, auth, lead["id"])) == ["plan_activated"]


async def test_resume_without_a_paused_plan_is_409(client: httpx.AsyncClient, auth: Auth) -> None:
    bare = await create_lead(client, auth, None)
    response = await _post(client, auth, bare["id"], "resume")
    assert response.status_code == 409
    assert response.json() == {"detail": "the plan is not paused"}
    done = await create_lead(client, auth, steps_with_delays(0))
    await act_ok(client, auth, reminder_ids(done)[1], "complete")
    response = await _post(client, auth, done["id"], "resume")
    assert response.status_code == 409
    assert response.json() == {"detail": "the plan is not paused"}


async def test_closing_a_step_during_a_pause_does_not_shift_later_steps_twice(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))  # Tue 3rd, Thu 5th
    rid = reminder_ids(lead)
    await _ok(client, auth, lead["id"], "pause")  # Monday 10:00, before step 1 was due
    clock.set(utc(2026, 3, 5, 10))  # Thursday, still paused
    await act_ok(client, auth, rid[1], "complete")
    clock.set(utc(2026, 3, 6, 10))  # Friday: resume after four paused days
    resumed = await _ok(client, auth, lead["id"], "resume")
    # Step 1 was not late when the pause began, so step 2 moves by the pause alone:
    # Thu 5th + 4 days = Monday 9th. (Today: +2 "late" on completion, then +4 on resume,
    # so it lands on Friday 13th, eight days after step 1 was done instead of two.)
    assert due_dates(resumed)[2] == utc(2026, 3, 9, 9)


async def test_snoozing_a_step_of_a_paused_plan_is_refused(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(1, 3))
    rid = reminder_ids(lead)
    assert (await client.post(f"/plans/{lead['id']}/pause", headers=auth())).status_code == 200
    response = await client.post(f"/reminders/{rid[1]}/snooze", headers=auth(), json={"days": 1})
    assert response.status_code == 409
    assert "paused" in response.json()["detail"]
    detail = await get_plan(client, auth, lead["id"])
    assert all(s["snooze_count"] == 0 for s in detail["steps"])
