"""GET /plans and GET /plans/{id}: display statuses, the summary, filters and sorting.

Clock starts Monday 2026-03-02 10:00 UTC; default schedule 09:00-18:00 UTC, Monday-Friday.
"""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from app.clock import ManualClock
from tests.api.plan_helpers import (
    Auth,
    Json,
    act_ok,
    by_step,
    create_lead,
    error_locs,
    get_plan,
    list_plans,
    reminder_ids,
    statuses,
    steps_with_delays,
    utc,
    when,
)

START = utc(2026, 3, 2, 10)
WEDNESDAY = utc(2026, 3, 4, 10)


async def _portfolio(client: httpx.AsyncClient, auth: Auth) -> dict[str, Json]:
    """Seven leads created on Monday 10:00, in this order (so ids ascend A..G)."""
    leads = {
        "Alpha": await create_lead(client, auth, steps_with_delays(0), name="Alpha"),
        "Bravo": await create_lead(client, auth, steps_with_delays(0, 5), name="Bravo"),
        "Charlie": await create_lead(client, auth, steps_with_delays(2), name="Charlie"),
        "Delta": await create_lead(client, auth, steps_with_delays(4), name="Delta"),
        "Echo": await create_lead(client, auth, None, name="Echo"),
        "Foxtrot": await create_lead(client, auth, steps_with_delays(1), name="Foxtrot"),
        "Golf": await create_lead(client, auth, steps_with_delays(3), name="Golf"),
    }
    response = await client.post(f"/plans/{leads['Delta']['id']}/pause", headers=auth())
    assert response.status_code == 200, response.text
    await act_ok(client, auth, reminder_ids(leads["Foxtrot"])[1], "complete")
    return leads


NO_STATUSES = dict.fromkeys(
    ["analyzed", "reached_out", "in_progress", "meeting_booked", "closed_won", "closed_lost"], 0
)


def _names(body: Json) -> list[str]:
    return [lead["name"] for lead in body["leads"]]


async def test_summary_and_statuses_of_a_portfolio_on_wednesday(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    await _portfolio(client, auth)
    clock.set(WEDNESDAY)
    body = await list_plans(client, auth)
    # Active: Alpha, Bravo, Charlie, Golf. Overdue: Alpha's and Bravo's day-0 steps (two
    # days each). Due today: Charlie's Wednesday 09:00 step. Delta is paused, Foxtrot done,
    # Echo has no plan: none of them counts, except in total_leads.
    assert body["summary"] == {
        "active_plans": 4,
        "overdue_steps": 2,
        "leads_with_overdue": 2,
        "due_today": 1,
        "total_leads": 7,
        # Foxtrot's done step reached out; the rest are as captured.
        "by_status": {**NO_STATUSES, "analyzed": 6, "reached_out": 1},
    }
    leads = {lead["name"]: lead for lead in body["leads"]}
    assert {name: lead["plan_status"] for name, lead in leads.items()} == {
        "Alpha": "active",
        "Bravo": "active",
        "Charlie": "active",
        "Delta": "paused",
        "Echo": "none",
        "Foxtrot": "completed",
        "Golf": "active",
    }
    assert statuses(leads["Alpha"]) == {1: "overdue"}
    assert by_step(leads["Alpha"])[1]["overdue_days"] == 2
    assert statuses(leads["Bravo"]) == {1: "overdue", 2: "upcoming"}
    assert by_step(leads["Bravo"])[2]["waiting_for_step"] == 1
    assert statuses(leads["Charlie"]) == {1: "due"}
    assert by_step(leads["Charlie"])[1]["overdue_days"] == 0
    assert statuses(leads["Delta"]) == {1: "paused"}
    assert leads["Echo"]["steps"] == []
    assert statuses(leads["Foxtrot"]) == {1: "done"}
    assert statuses(leads["Golf"]) == {1: "upcoming"}
    assert {name: lead["overdue_steps"] for name, lead in leads.items()} == {
        "Alpha": 1,
        "Bravo": 1,
        "Charlie": 0,
        "Delta": 0,
        "Echo": 0,
        "Foxtrot": 0,
        "Golf": 0,
    }


async def test_next_due_sort_puts_leads_without_open_steps_last(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    await _portfolio(client, auth)
    clock.set(WEDNESDAY)
    expected_order = ["Alpha", "Bravo", "Charlie", "Golf", "Delta", "Echo", "Foxtrot"]
    default = await list_plans(client, auth)
    assert _names(default) == expected_order
    explicit = await list_plans(client, auth, sort="next_due")
    assert _names(explicit) == expected_order
    next_due: dict[str, datetime | None] = {
        lead["name"]: when(lead["next_due_at"]) if lead["next_due_at"] else None
        for lead in explicit["leads"]
    }
    assert next_due == {
        "Alpha": START,
        "Bravo": START,
        "Charlie": utc(2026, 3, 4, 9),
        "Golf": utc(2026, 3, 5, 9),
        "Delta": utc(2026, 3, 6, 9),
        "Echo": None,
        "Foxtrot": None,
    }
    assert _names(await list_plans(client, auth, sort="name")) == sorted(expected_order)


@pytest.mark.parametrize(
    ("filter_by", "names"),
    [
        ("active", ["Alpha", "Bravo", "Charlie", "Golf"]),
        ("overdue", ["Alpha", "Bravo"]),
        ("no_plan", ["Echo"]),
    ],
)
async def test_filters_narrow_the_list_but_not_the_summary(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock, filter_by: str, names: list[str]
) -> None:
    await _portfolio(client, auth)
    clock.set(WEDNESDAY)
    unfiltered = await list_plans(client, auth)
    body = await list_plans(client, auth, filter=filter_by)
    assert _names(body) == names
    assert body["summary"] == unfiltered["summary"]


@pytest.mark.parametrize(("param", "value"), [("filter", "bogus"), ("sort", "random")])
async def test_unknown_filter_or_sort_is_422(
    client: httpx.AsyncClient, auth: Auth, param: str, value: str
) -> None:
    await create_lead(client, auth, steps_with_delays(0))
    response = await client.get("/plans", headers=auth(), params={param: value})
    assert error_locs(response) == [("query", param)]
    assert response.json()["detail"][0]["type"] == "literal_error"


async def test_empty_account_summary(client: httpx.AsyncClient, auth: Auth) -> None:
    assert await list_plans(client, auth) == {
        "summary": {
            "active_plans": 0,
            "overdue_steps": 0,
            "leads_with_overdue": 0,
            "due_today": 0,
            "total_leads": 0,
            "by_status": NO_STATUSES,
        },
        "leads": [],
    }


@pytest.mark.parametrize(
    ("now", "status", "days"),
    [
        (utc(2026, 3, 2, 10), "due", 0),  # exactly at the due time
        (utc(2026, 3, 3, 9, 59), "due", 0),  # 23h59 late: not yet a whole day
        (utc(2026, 3, 3, 10), "overdue", 1),
        (utc(2026, 3, 4, 9, 59), "overdue", 1),
        (utc(2026, 3, 4, 10), "overdue", 2),
        (utc(2026, 3, 9, 10), "overdue", 7),
    ],
)
async def test_overdue_days_are_whole_days(
    client: httpx.AsyncClient,
    auth: Auth,
    clock: ManualClock,
    now: datetime,
    status: str,
    days: int,
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0))  # due Monday 10:00
    clock.set(now)
    step = by_step(await get_plan(client, auth, lead["id"]))[1]
    assert (step["status"], step["overdue_days"]) == (status, days)


async def test_a_step_waiting_for_an_earlier_open_step_is_upcoming(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 1, 2))  # Mon 10, Tue 9, Wed 9
    clock.set(utc(2026, 3, 3, 10))  # Tuesday: step 1 is a day late, step 2's time has come
    detail = await get_plan(client, auth, lead["id"])
    steps = by_step(detail)
    assert (steps[1]["status"], steps[1]["overdue_days"], steps[1]["waiting_for_step"]) == (
        "overdue",
        1,
        None,
    )
    assert (steps[2]["status"], steps[2]["overdue_days"], steps[2]["waiting_for_step"]) == (
        "upcoming",
        0,
        1,
    )
    assert (steps[3]["status"], steps[3]["waiting_for_step"]) == ("upcoming", 1)
    assert detail["overdue_steps"] == 1
    assert detail["next_step_id"] == 1
    assert when(detail["next_due_at"]) == START
    # Once step 1 is done (a day late), step 2 moves a day and waits for nobody.
    await act_ok(client, auth, reminder_ids(lead)[1], "complete")
    steps = by_step(await get_plan(client, auth, lead["id"]))
    assert (steps[2]["status"], steps[2]["waiting_for_step"]) == ("upcoming", None)
    assert when(steps[2]["due_at"]) == utc(2026, 3, 4, 9)
    assert steps[3]["waiting_for_step"] == 2


async def test_skipped_and_snoozed_statuses(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, steps_with_delays(0, 1))
    rid = reminder_ids(lead)
    await act_ok(client, auth, rid[1], "skip")
    # Step 2 is due Tuesday, not yet: the snooze counts from its date -> Thursday 09:00.
    await act_ok(client, auth, rid[2], "snooze", days=2)
    detail = await get_plan(client, auth, lead["id"])
    assert statuses(detail) == {1: "skipped", 2: "snoozed"}
    assert by_step(detail)[2]["snooze_count"] == 1
    assert when(detail["next_due_at"]) == utc(2026, 3, 5, 9)
    clock.set(utc(2026, 3, 5, 9))  # the snooze is over: the step is due again
    assert statuses(await get_plan(client, auth, lead["id"])) == {1: "skipped", 2: "due"}
    clock.set(utc(2026, 3, 6, 9))
    assert statuses(await get_plan(client, auth, lead["id"])) == {1: "skipped", 2: "overdue"}


async def test_due_today_counts_steps_due_later_today(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    await create_lead(client, auth, steps_with_delays(1), name="Tuesday")
    await create_lead(client, auth, steps_with_delays(2), name="Wednesday")
    clock.set(utc(2026, 3, 3, 8))  # Tuesday, an hour before the first step is due
    summary = (await list_plans(client, auth))["summary"]
    assert (summary["due_today"], summary["overdue_steps"]) == (1, 0)


async def test_due_today_is_the_users_local_day(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    response = await client.patch("/me", headers=auth(), json={"timezone": "America/New_York"})
    assert response.status_code == 200, response.text
    await create_lead(client, auth, steps_with_delays(1))  # Tue 09:00 EST = 14:00 UTC
    clock.set(utc(2026, 3, 3, 2))  # Tuesday in UTC, still Monday 21:00 in New York
    assert (await list_plans(client, auth))["summary"]["due_today"] == 0
    clock.set(utc(2026, 3, 3, 5))  # Tuesday 00:00 EST
    assert (await list_plans(client, auth))["summary"]["due_today"] == 1


async def test_due_today_counts_a_step_snoozed_to_today(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    await create_lead(client, auth, steps_with_delays(1), name="Plain")  # Tue 09:00
    snoozed = await create_lead(client, auth, steps_with_delays(0), name="Snoozed")
    await act_ok(client, auth, reminder_ids(snoozed)[1], "snooze", days=1)  # Tue 09:00 too
    clock.set(utc(2026, 3, 3, 8))
    body = await list_plans(client, auth)
    leads = {lead["name"]: lead for lead in body["leads"]}
    assert when(leads["Snoozed"]["next_due_at"]) == when(leads["Plain"]["next_due_at"])
    # Both steps are due at Tuesday 09:00; both are due today.
    assert body["summary"]["due_today"] == 2
