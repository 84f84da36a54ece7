"""Small helpers for the plan and step API tests: build bodies, call endpoints, read answers.

Every call signs a fresh initData with the test clock's current time, so a test can move
the clock days ahead and keep calling the API without the signature expiring.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select, text

from app.db.database import Database
from app.db.tables import lead_registry

Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]

OWNER = 1001
STRANGER = 2002


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def when(value: object) -> datetime:
    """An API timestamp as an aware UTC datetime (the API always sends a zone)."""
    assert isinstance(value, str), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed.astimezone(UTC)


def step(step_id: int, delay: int | None = None, **fields: Any) -> Json:
    body: Json = {"step_id": step_id, "description": f"Step {step_id}", "channel": "email"}
    if delay is not None:
        body["delay_days"] = delay
    body.update(fields)
    return body


def steps_with_delays(*delays: int) -> list[Json]:
    return [step(index, delay) for index, delay in enumerate(delays, start=1)]


async def create_lead(
    client: httpx.AsyncClient,
    auth: Auth,
    steps: list[Json] | None,
    *,
    name: str = "Ana",
    user: int = OWNER,
    **fields: Any,
) -> Json:
    body: Json = {"name": name, **fields}
    if steps is not None:
        body["plan"] = {"steps": steps}
    response = await client.post("/leads", headers=auth(user), json=body)
    assert response.status_code == 201, response.text
    lead: Json = response.json()
    return lead


async def get_plan(client: httpx.AsyncClient, auth: Auth, lead_id: int, user: int = OWNER) -> Json:
    response = await client.get(f"/plans/{lead_id}", headers=auth(user))
    assert response.status_code == 200, response.text
    detail: Json = response.json()
    return detail


async def list_plans(
    client: httpx.AsyncClient, auth: Auth, user: int = OWNER, **params: str
) -> Json:
    response = await client.get("/plans", headers=auth(user), params=params)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def act(
    client: httpx.AsyncClient,
    auth: Auth,
    reminder_id: int,
    action: str,
    *,
    days: int | None = None,
    user: int = OWNER,
) -> httpx.Response:
    """POST /reminders/{id}/{complete|skip|snooze}; snooze sends {"days": days}."""
    body = {"days": days} if action == "snooze" else None
    return await client.post(f"/reminders/{reminder_id}/{action}", headers=auth(user), json=body)


async def act_ok(
    client: httpx.AsyncClient,
    auth: Auth,
    reminder_id: int,
    action: str,
    *,
    days: int | None = None,
    user: int = OWNER,
) -> Json:
    response = await act(client, auth, reminder_id, action, days=days, user=user)
    assert response.status_code == 200, response.text
    change: Json = response.json()
    return change


async def put_steps(
    client: httpx.AsyncClient, auth: Auth, lead_id: int, steps: list[Json], user: int = OWNER
) -> httpx.Response:
    return await client.put(f"/plans/{lead_id}/steps", headers=auth(user), json={"steps": steps})


def by_step(lead: Json) -> dict[int, Json]:
    return {s["step_id"]: s for s in lead["steps"]}


def reminder_ids(lead: Json) -> dict[int, int]:
    return {s["step_id"]: s["reminder_id"] for s in lead["steps"]}


def due_dates(lead: Json) -> dict[int, datetime]:
    return {s["step_id"]: when(s["due_at"]) for s in lead["steps"]}


def statuses(lead: Json) -> dict[int, str]:
    return {s["step_id"]: s["status"] for s in lead["steps"]}


def activity_types(detail: Json) -> list[str]:
    """Newest first, as GET /plans/{id} lists them."""
    return [a["activity_type"] for a in detail["activity"]]


def error_locs(response: httpx.Response) -> list[tuple[Any, ...]]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [tuple(entry["loc"]) for entry in detail]


def error_types(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [str(entry["type"]) for entry in response.json()["detail"]]


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.read() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def reminder_status(db: Database, reminder_id: int) -> str:
    value = await scalar(
        db, "SELECT status FROM scheduled_reminders WHERE id = :id", id=reminder_id
    )
    return str(value)


async def stored_plan(db: Database, lead_id: int) -> list[Json]:
    """lead_registry.engagement_plan as stored (read through the table's JSON type)."""
    async with db.read() as conn:
        value = (
            await conn.execute(
                select(lead_registry.c.engagement_plan).where(lead_registry.c.id == lead_id)
            )
        ).scalar_one()
    assert isinstance(value, list), value
    return value
