"""POST /reminders/{id}/undo: a mis-tap taken back, exactly, within ten minutes.

Clock starts Monday 2026-03-02 10:00 UTC; default schedule 09:00-18:00 UTC, Monday-Friday.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.db.database import Database
from app.services import steps as steps_service
from tests.api.plan_helpers import (
    OWNER,
    Auth,
    act,
    act_ok,
    activity_types,
    create_lead,
    get_plan,
    reminder_ids,
    steps_with_delays,
    stored_plan,
    when,
)
from tests.scheduler.support import dispatch_env

Json = dict[str, Any]

# What a step's state is made of: undo must give back every part of it.
STATE = (
    "status",
    "state",
    "due_at",
    "planned_due_at",
    "completed_at",
    "snooze_count",
    "reminder_count",
    "waiting_for_step",
)


def _states(detail: Json) -> dict[int, tuple[Any, ...]]:
    return {s["step_id"]: tuple(s[k] for k in STATE) for s in detail["steps"]}


def _lead_state(detail: Json) -> tuple[Any, ...]:
    return (
        detail["status"],
        detail["status_reason"],
        detail["plan_status"],
        detail["plan_outcome"],
        detail["next_due_at"],
        detail["next_step_id"],
    )


async def _undo(client: httpx.AsyncClient, auth: Auth, rid: int) -> httpx.Response:
    return await act(client, auth, rid, "undo")


@pytest.mark.parametrize(("action", "days"), [("complete", None), ("skip", None), ("snooze", 3)])
async def test_undo_gives_the_step_back_exactly(
    client: httpx.AsyncClient,
    auth: Auth,
    db: Database,
    clock: ManualClock,
    action: str,
    days: int | None,
) -> None:
    # Step 1 was due last Wednesday: closing it late (or snoozing it) moves steps 2 and 3.
    clock.advance(-5 * 86400)
    lead = await create_lead(client, auth, steps_with_delays(0, 2, 4))
    clock.advance(5 * 86400)
    rid = reminder_ids(lead)
    before = await get_plan(client, auth, lead["id"])
    plan_before = await stored_plan(db, lead["id"])

    change = await act_ok(client, auth, rid[1], action, days=days)
    assert change["moved_steps"] == [2, 3]
    assert when(change["undo_until"]) == clock.now() + timedelta(minutes=10)

    clock.advance(9 * 60)
    undone = await _undo(client, auth, rid[1])
    assert undone.status_code == 200, undone.text
    body = undone.json()
    assert (body["changed"], body["undo_until"]) == (True, None)
    assert body["moved_steps"] == [2, 3]
    after = await get_plan(client, auth, lead["id"])
    assert _states(after) == _states(before)
    assert _lead_state(after) == _lead_state(before)
    assert await stored_plan(db, lead["id"]) == plan_before
    # The log is history: the action stays, the undo is added.
    undid = {"complete": "step_completed", "skip": "step_skipped", "snooze": "step_snoozed"}
    assert after["activity"][0]["activity_type"] == "step_undone"
    assert after["activity"][0]["details"]["undid"] == undid[action]
    assert undid[action] in activity_types(after)


async def test_undo_of_the_last_done_reopens_the_plan_and_the_status(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0))
    rid = reminder_ids(lead)[1]
    done = await act_ok(client, auth, rid, "complete")
    assert done["plan_completed"] is True
    assert (await get_plan(client, auth, lead["id"]))["status"] == "reached_out"
    assert (await _undo(client, auth, rid)).status_code == 200
    detail = await get_plan(client, auth, lead["id"])
    assert (detail["plan_status"], detail["status"]) == ("active", "analyzed")
    assert detail["steps"][0]["state"] == "pending"
    back = [a["details"] for a in detail["activity"] if a["activity_type"] == "status_change"]
    assert back[0] == {"from": "reached_out", "to": "analyzed", "undo": True}


async def test_nothing_to_undo_twice_or_too_late_or_never(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)
    never = await _undo(client, auth, rid[2])
    assert never.status_code == 409
    assert "nothing to undo" in never.json()["detail"]

    await act_ok(client, auth, rid[1], "skip")
    assert (await _undo(client, auth, rid[1])).status_code == 200
    twice = await _undo(client, auth, rid[1])
    assert twice.status_code == 409

    await act_ok(client, auth, rid[1], "complete")
    clock.advance(10 * 60 + 1)
    late = await _undo(client, auth, rid[1])
    assert late.status_code == 409
    assert "10 minutes" in late.json()["detail"]
    assert (await get_plan(client, auth, lead["id"]))["steps"][0]["state"] == "completed"


async def test_no_undo_once_something_else_changed_the_step(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    await act_ok(client, auth, rid, "snooze", days=1)
    await act_ok(client, auth, rid, "skip")  # another press: it is the one undone
    assert (await _undo(client, auth, rid)).status_code == 200
    detail = await get_plan(client, auth, lead["id"])
    assert (detail["steps"][0]["state"], detail["steps"][0]["snooze_count"]) == ("pending", 1)

    # A plan edit since an action: nothing to undo.
    await act_ok(client, auth, rid, "complete")
    steps = [*steps_with_delays(0, 2), {"step_id": 3, "description": "Call", "delay_days": 5}]
    steps[0]["status"] = "done"
    edited = await client.put(f"/plans/{lead['id']}/steps", headers=auth(), json={"steps": steps})
    assert edited.status_code == 200, edited.text
    refused = await _undo(client, auth, rid)
    assert refused.status_code == 409
    assert "changed since" in refused.json()["detail"]


async def test_no_undo_after_the_dispatcher_auto_snoozed_the_step(
    client: httpx.AsyncClient, auth: Auth, db: Database, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    await act_ok(client, auth, rid, "snooze", days=1)
    # The snoozed step's reminder goes out, then the ladder's last rung snoozes it itself.
    clock.advance(86400)
    async with dispatch_env(db, clock) as env:
        for _ in range(6):
            await env.dispatcher.run_pass()
            clock.advance(2 * 86400)
            if "step_auto_snoozed" in activity_types(await get_plan(client, auth, lead["id"])):
                break
    assert "step_auto_snoozed" in activity_types(await get_plan(client, auth, lead["id"]))
    refused = await _undo(client, auth, rid)
    assert refused.status_code == 409


async def test_no_undo_after_the_dispatcher_reminded_a_step_it_released(
    client: httpx.AsyncClient, auth: Auth, db: Database, clock: ManualClock
) -> None:
    # Both steps due today: the second waits for the first, and Done lets it go.
    lead = await create_lead(client, auth, steps_with_delays(0, 0))
    rid = reminder_ids(lead)
    async with dispatch_env(db, clock) as env:
        await env.dispatcher.run_pass()
        assert len(env.fake.sent_messages()) == 1
        await act_ok(client, auth, rid[1], "complete")
        clock.advance(60)
        await env.dispatcher.run_pass()
        assert len(env.fake.sent_messages()) == 2  # step 2's reminder went out
    refused = await _undo(client, auth, rid[1])
    assert refused.status_code == 409
    assert "changed since" in refused.json()["detail"]


async def test_two_undos_at_once_apply_once(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    await act_ok(client, auth, rid, "complete")
    first, second = await asyncio.gather(_undo(client, auth, rid), _undo(client, auth, rid))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail).count("step_undone") == 1


async def test_undo_after_the_lead_was_deleted_is_not_found(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    await act_ok(client, auth, rid, "complete")
    assert (await client.delete(f"/leads/{lead['id']}", headers=auth())).status_code == 204
    gone = await _undo(client, auth, rid)
    assert gone.status_code == 404


async def test_undo_of_a_finish_from_a_reminder_reopens_the_plan(
    client: httpx.AsyncClient, auth: Auth, db: Database, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 1, 3))
    rid = reminder_ids(lead)
    # Tuesday 10:00: step 1 done a day late (steps 2 and 3 move a day: step 2 to Wednesday
    # 09:00), then the plan finished from it.
    clock.advance(86400)
    await act_ok(client, auth, rid[1], "complete")
    before = await get_plan(client, auth, lead["id"])
    change = await steps_service.finish_plan(
        db, OWNER, "replied", None, clock.now(), reminder_id=rid[1]
    )
    assert change.changed
    finished = await get_plan(client, auth, lead["id"])
    assert (finished["plan_outcome"], finished["status"]) == ("replied", "in_progress")
    clock.advance(5 * 60)
    undone = await _undo(client, auth, rid[1])
    assert undone.status_code == 200, undone.text
    detail = await get_plan(client, auth, lead["id"])
    assert (detail["plan_status"], detail["plan_outcome"], detail["status"]) == (
        "active",
        None,
        "reached_out",
    )
    states = {s["step_id"]: s for s in detail["steps"]}
    assert states[1]["state"] == "completed"  # the Done before the finish stays
    assert states[2]["state"] == states[3]["state"] == "pending"
    # Both reopened on their own dates, which lie ahead.
    dates_before = {s["step_id"]: s["due_at"] for s in before["steps"]}
    assert (states[2]["due_at"], states[3]["due_at"]) == (dates_before[2], dates_before[3])
    assert all(when(states[n]["due_at"]) >= clock.now() for n in (2, 3))
    assert [s["status"] for s in await stored_plan(db, lead["id"])] == [
        "done",
        "pending",
        "pending",
    ]


async def test_a_reopened_step_due_meanwhile_is_not_due_in_the_past(
    client: httpx.AsyncClient, auth: Auth, db: Database, clock: ManualClock
) -> None:
    """A finish cancels a step that then comes due; undone, it is due from now, not before."""
    lead = await create_lead(client, auth, steps_with_delays(0, 0))
    rid = reminder_ids(lead)
    # Friday 17:55: step 2 (Monday 09:00, like step 1) has long been due.
    clock.advance(4 * 86400 + 7 * 3600 + 55 * 60)
    await steps_service.finish_plan(db, OWNER, "replied", None, clock.now(), reminder_id=rid[1])
    clock.advance(5 * 60)
    assert (await _undo(client, auth, rid[1])).status_code == 200
    detail = await get_plan(client, auth, lead["id"])
    states = {s["step_id"]: s for s in detail["steps"]}
    assert states[1]["due_at"] == by_step_due(lead, 1)  # the pressed step: exactly as it was
    assert when(states[2]["due_at"]) >= clock.now()
    assert states[2]["state"] == "pending"


def by_step_due(lead: Json, step_id: int) -> str:
    return str({s["step_id"]: s for s in lead["steps"]}[step_id]["due_at"])
