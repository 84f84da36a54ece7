"""What really happened with a lead: lead status, finishing a plan with an outcome, editing a
lead, through REST on both engines.

Clock starts Monday 2026-03-02 10:00 UTC; default schedule 09:00-18:00 UTC, Monday-Friday.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.db.database import Database
from app.domain.outcomes import OUTCOMES, STATUS_AFTER
from app.services import steps as steps_service
from app.services import users as users_service
from tests.api.plan_helpers import (
    OWNER,
    Auth,
    act,
    act_ok,
    activity_types,
    create_lead,
    error_locs,
    get_plan,
    list_plans,
    reminder_ids,
    statuses,
    steps_with_delays,
    stored_plan,
)
from tests.scheduler.support import dispatch_env

Json = dict[str, Any]


async def finish(
    client: httpx.AsyncClient, auth: Auth, lead_id: int, **body: Any
) -> httpx.Response:
    return await client.post(f"/plans/{lead_id}/finish", headers=auth(), json=body)


async def patch(client: httpx.AsyncClient, auth: Auth, lead_id: int, **body: Any) -> httpx.Response:
    return await client.patch(f"/leads/{lead_id}", headers=auth(), json=body)


def _entries(detail: Json, kind: str) -> list[Json]:
    return [a["details"] for a in detail["activity"] if a["activity_type"] == kind]


async def test_a_new_lead_is_analyzed_and_its_first_done_reaches_out(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2, 4))
    assert (lead["status"], lead["plan_outcome"], lead["status_reason"]) == (
        "analyzed",
        None,
        None,
    )
    rid = reminder_ids(lead)
    await act_ok(client, auth, rid[1], "complete")
    await act_ok(client, auth, rid[2], "complete")
    detail = await get_plan(client, auth, lead["id"])
    assert detail["status"] == "reached_out"
    # Only the first Done moves the status, once.
    assert _entries(detail, "status_change") == [{"from": "analyzed", "to": "reached_out"}]


async def test_a_skip_does_not_reach_out(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    await act_ok(client, auth, reminder_ids(lead)[1], "skip")
    assert (await get_plan(client, auth, lead["id"]))["status"] == "analyzed"


@pytest.mark.parametrize("outcome", OUTCOMES)
async def test_finishing_cancels_open_steps_and_sets_the_status(
    client: httpx.AsyncClient, auth: Auth, db: Database, outcome: str
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2, 4))
    await act_ok(client, auth, reminder_ids(lead)[1], "complete")
    response = await finish(client, auth, lead["id"], outcome=outcome, reason="Said so on a call")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] is True
    finished = body["lead"]
    assert finished["plan_status"] == "completed"
    assert finished["plan_outcome"] == outcome
    assert finished["status"] == STATUS_AFTER[outcome]  # type: ignore[index]
    assert finished["status_reason"] == "Said so on a call"
    assert statuses(finished) == {1: "done", 2: "skipped", 3: "skipped"}
    assert [s["state"] for s in finished["steps"]] == ["completed", "cancelled", "cancelled"]
    assert [s["status"] for s in await stored_plan(db, lead["id"])] == [
        "done",
        "cancelled",
        "cancelled",
    ]
    detail = await get_plan(client, auth, lead["id"])
    assert _entries(detail, "plan_finished") == [
        {"outcome": outcome, "reason": "Said so on a call", "cancelled_steps": [2, 3]}
    ]
    assert _entries(detail, "status_change")[0] == {
        "from": "reached_out",
        "to": STATUS_AFTER[outcome],  # type: ignore[index]
        "reason": "Said so on a call",
    }


async def test_finishing_again_is_a_no_op_or_a_conflict(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    assert (await finish(client, auth, lead["id"], outcome="replied")).status_code == 200
    again = await finish(client, auth, lead["id"], outcome="replied")
    assert again.status_code == 200
    assert again.json()["changed"] is False
    other = await finish(client, auth, lead["id"], outcome="closed_won")
    assert other.status_code == 409
    assert "already finished" in other.json()["detail"]
    detail = await get_plan(client, auth, lead["id"])
    assert activity_types(detail).count("plan_finished") == 1


async def test_a_lead_without_a_plan_can_be_given_an_outcome(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    response = await client.post("/leads", headers=auth(), json={"name": "No plan"})
    lead = response.json()
    answer = await finish(client, auth, lead["id"], outcome="meeting_booked")
    assert answer.status_code == 200, answer.text
    finished = answer.json()["lead"]
    assert (finished["status"], finished["plan_status"], finished["plan_outcome"]) == (
        "meeting_booked",
        "none",
        "meeting_booked",
    )


async def test_finishing_a_paused_plan(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    assert (await client.post(f"/plans/{lead['id']}/pause", headers=auth())).status_code == 200
    finished = (await finish(client, auth, lead["id"], outcome="not_interested")).json()["lead"]
    assert (finished["plan_status"], finished["status"]) == ("completed", "closed_lost")
    assert statuses(finished) == {1: "skipped", 2: "skipped"}


async def test_no_reminder_goes_out_after_a_finish(
    client: httpx.AsyncClient, auth: Auth, db: Database, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 1))
    assert (await finish(client, auth, lead["id"], outcome="replied")).status_code == 200
    clock.advance(3 * 86400)
    async with dispatch_env(db, clock) as env:
        counts = await env.dispatcher.run_pass()
        assert counts.due == 0
        assert env.fake.sent_messages() == []


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"outcome": "ghosted"}, ("body", "outcome")),
        ({"outcome": "replied", "reason": "x" * 201}, ("body", "reason")),
        ({"outcome": "replied", "reason": ""}, ("body", "reason")),
        ({"outcome": "replied", "extra": 1}, ("body", "extra")),
        ({}, ("body", "outcome")),
    ],
)
async def test_bad_finish_input_is_422(
    client: httpx.AsyncClient, auth: Auth, body: Json, loc: tuple[str, ...]
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0))
    response = await client.post(f"/plans/{lead['id']}/finish", headers=auth(), json=body)
    assert response.status_code == 422
    assert error_locs(response) == [loc]


async def test_editing_a_lead_changes_its_facts_and_logs_them(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2), company="Acme")
    response = await patch(
        client, auth, lead["id"], name="Ana B.", company=None, context="Wants SOC2 help"
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["name"], edited["company"], edited["context"]) == (
        "Ana B.",
        None,
        "Wants SOC2 help",
    )
    assert edited["steps"] == lead["steps"]  # the plan is untouched
    detail = await get_plan(client, auth, lead["id"])
    assert _entries(detail, "lead_edited") == [{"fields": ["company", "context", "name"]}]
    # The same values again change nothing and log nothing.
    assert (await patch(client, auth, lead["id"], name="Ana B.")).status_code == 200
    assert activity_types(await get_plan(client, auth, lead["id"])).count("lead_edited") == 1


@pytest.mark.parametrize("status", ["meeting_booked", "closed_won", "closed_lost"])
async def test_a_closing_status_finishes_an_active_plan(
    client: httpx.AsyncClient, auth: Auth, status: str
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    response = await patch(client, auth, lead["id"], status=status, reason="Budget cut")
    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["status"], edited["plan_status"], edited["plan_outcome"]) == (
        status,
        "completed",
        status,
    )
    assert edited["status_reason"] == "Budget cut"
    detail = await get_plan(client, auth, lead["id"])
    # One status change, made by the finish.
    assert len(_entries(detail, "status_change")) == 1
    assert _entries(detail, "plan_finished")[0]["outcome"] == status


async def test_an_open_status_leaves_the_plan_running(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    edited = (await patch(client, auth, lead["id"], status="in_progress")).json()
    assert (edited["status"], edited["plan_status"], edited["plan_outcome"]) == (
        "in_progress",
        "active",
        None,
    )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"status": "won"}, ("body", "status")),
        ({"status": None}, ("body", "status")),
        ({"name": ""}, ("body", "name")),
        ({"name": None}, ("body", "name")),
        ({"channel": "fax"}, ("body", "channel")),
        ({"status": "closed_lost", "reason": "x" * 201}, ("body", "reason")),
        ({"reason": "no status"}, ("body", "reason")),
        ({"plan_status": "active"}, ("body", "plan_status")),
    ],
)
async def test_bad_lead_edits_are_422_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, body: Json, loc: tuple[str, ...]
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0))
    response = await patch(client, auth, lead["id"], **body)
    assert response.status_code == 422, response.text
    assert error_locs(response) == [loc]
    assert (await get_plan(client, auth, lead["id"]))["name"] == lead["name"]


async def test_open_and_closed_filters_and_the_status_counts(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    won = await create_lead(client, auth, steps_with_delays(0), name="Won")
    lost = await create_lead(client, auth, steps_with_delays(0), name="Lost")
    talking = await create_lead(client, auth, steps_with_delays(0), name="Talking")
    await create_lead(client, auth, steps_with_delays(0), name="Fresh")
    await finish(client, auth, won["id"], outcome="closed_won")
    await finish(client, auth, lost["id"], outcome="not_interested")
    await finish(client, auth, talking["id"], outcome="replied")
    everything = await list_plans(client, auth)
    assert everything["summary"]["by_status"] == {
        "analyzed": 1,
        "reached_out": 0,
        "in_progress": 1,
        "meeting_booked": 0,
        "closed_won": 1,
        "closed_lost": 1,
    }
    opened = await list_plans(client, auth, filter="open")
    closed = await list_plans(client, auth, filter="closed")
    assert sorted(lead["name"] for lead in opened["leads"]) == ["Fresh", "Talking"]
    assert sorted(lead["name"] for lead in closed["leads"]) == ["Lost", "Won"]


async def test_a_replied_press_and_a_done_at_once_apply_one(
    client: httpx.AsyncClient, auth: Auth, db: Database, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    rid = reminder_ids(lead)[1]
    replied, done = await asyncio.gather(
        steps_service.finish_plan(db, OWNER, "replied", None, clock.now(), reminder_id=rid),
        act(client, auth, rid, "complete"),
        return_exceptions=True,
    )
    detail = await get_plan(client, auth, lead["id"])
    if isinstance(replied, BaseException):
        raise replied
    if done.status_code == 200:  # type: ignore[union-attr]
        # Done first: the finish then cancelled the rest and set the outcome.
        assert detail["steps"][0]["state"] == "completed"
    else:
        assert done.status_code == 409  # type: ignore[union-attr]
        assert detail["steps"][0]["state"] == "cancelled"
    assert detail["plan_outcome"] == "replied"
    assert activity_types(detail).count("plan_finished") == 1


async def test_a_user_record_is_needed_only_once(
    client: httpx.AsyncClient, auth: Auth, db: Database, clock: ManualClock
) -> None:
    """finish_plan by Telegram id (a button press) reads the owner in its own transaction."""
    lead = await create_lead(client, auth, steps_with_delays(0, 2))
    user = await users_service.get_user(db, OWNER, clock.now())
    assert user is not None
    change = await steps_service.finish_plan(
        db, OWNER, "meeting_booked", None, clock.now(), reminder_id=reminder_ids(lead)[1]
    )
    assert isinstance(change, steps_service.StepChange)
    assert change.changed
    assert change.undo_until is not None
    assert change.lead.status == "meeting_booked"
