"""The user's time zone, workdays and working hours decide where a new plan's steps land."""

from __future__ import annotations

import httpx

from app.clock import ManualClock
from tests.api.plan_helpers import Auth, Json, create_lead, due_dates, step, utc


async def _settings(client: httpx.AsyncClient, auth: Auth, **values: object) -> Json:
    response = await client.patch("/me", headers=auth(), json=values)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def test_new_york_day_one_is_nine_local_next_day(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await _settings(client, auth, timezone="America/New_York")
    # Monday 10:00 UTC is 05:00 EST, before the working day.
    lead = await create_lead(
        client,
        auth,
        [
            step(1, 0),  # later that Monday at 09:00 EST = 14:00 UTC
            step(2, timing="Day 1"),  # Tuesday 09:00 EST = 14:00 UTC
            step(3, 7),  # Monday 9 March, after the 8 March DST switch: 09:00 EDT = 13:00 UTC
        ],
    )
    assert due_dates(lead) == {
        1: utc(2026, 3, 2, 14),
        2: utc(2026, 3, 3, 14),
        3: utc(2026, 3, 9, 13),
    }


async def test_every_day_a_workday_keeps_weekend_dates(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await _settings(client, auth, workdays=[1, 2, 3, 4, 5, 6, 7])
    lead = await create_lead(client, auth, [step(1, 5), step(2, 6)])
    assert due_dates(lead) == {1: utc(2026, 3, 7, 9), 2: utc(2026, 3, 8, 9)}  # Sat, Sun


async def test_two_workdays_a_week(client: httpx.AsyncClient, auth: Auth) -> None:
    await _settings(client, auth, workdays=[2, 4])
    # Day 0 on a Monday waits for Tuesday; day 3 (Thursday) is a workday; day 4 (Friday)
    # waits for the next Tuesday.
    lead = await create_lead(client, auth, [step(1, 0), step(2, 3), step(3, 4)])
    assert due_dates(lead) == {
        1: utc(2026, 3, 3, 9),
        2: utc(2026, 3, 5, 9),
        3: utc(2026, 3, 10, 9),
    }


async def test_after_hours_day_zero_goes_to_next_workday_start(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    await _settings(client, auth, work_start="10:00", work_end="12:00")
    clock.set(utc(2026, 3, 2, 15))  # Monday 15:00, after the 10:00-12:00 window
    lead = await create_lead(client, auth, [step(1, 0), step(2, 1), step(3, 4)])
    assert due_dates(lead) == {
        1: utc(2026, 3, 3, 10),  # Tuesday at the window's start
        2: utc(2026, 3, 3, 10),
        3: utc(2026, 3, 6, 10),  # Friday
    }


async def test_friday_evening_in_berlin_moves_to_monday_morning(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    await _settings(client, auth, timezone="Europe/Berlin", work_start="10:00", work_end="12:00")
    clock.set(utc(2026, 3, 6, 14))  # Friday 15:00 CET
    lead = await create_lead(client, auth, [step(1, 0), step(2, 1)])
    # Monday 9 March 10:00 CET = 09:00 UTC, for both (Saturday is not a workday).
    assert due_dates(lead) == {1: utc(2026, 3, 9, 9), 2: utc(2026, 3, 9, 9)}
    assert [s["status"] for s in lead["steps"]] == ["upcoming", "upcoming"]
