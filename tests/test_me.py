"""GET and PATCH /me: the reminder settings, validated field by field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.clock import ManualClock

Auth = Callable[..., dict[str, str]]


async def test_defaults(client: httpx.AsyncClient, auth: Auth) -> None:
    body = (await client.get("/me", headers=auth())).json()
    assert body["timezone"] == "UTC"
    assert body["timezone_set"] is False
    assert body["work_start"] == "09:00"
    assert body["work_end"] == "18:00"
    assert body["workdays"] == [1, 2, 3, 4, 5]
    assert body["reminders_paused"] is False
    assert body["paused_until"] is None


async def test_patch_every_setting(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    until = (clock.now() + timedelta(days=3)).isoformat()
    response = await client.patch(
        "/me",
        headers=auth(),
        json={
            "timezone": "America/New_York",
            "work_start": "08:30",
            "work_end": "17:15",
            "workdays": [5, 1, 3, 3],
            "reminders_paused": True,
            "paused_until": until,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "America/New_York"
    assert body["timezone_set"] is True
    assert (body["work_start"], body["work_end"]) == ("08:30", "17:15")
    assert body["workdays"] == [1, 3, 5]
    assert body["reminders_paused"] is True
    assert body["paused_until"].startswith((clock.now() + timedelta(days=3)).date().isoformat())
    again = (await client.get("/me", headers=auth())).json()
    assert again == body


async def test_patch_is_partial(client: httpx.AsyncClient, auth: Auth) -> None:
    await client.patch("/me", headers=auth(), json={"timezone": "Europe/Berlin"})
    body = (await client.patch("/me", headers=auth(), json={"work_end": "19:00"})).json()
    assert body["timezone"] == "Europe/Berlin"
    assert body["work_end"] == "19:00"


async def test_paused_until_null_lifts_the_pause(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    until = (clock.now() + timedelta(days=1)).isoformat()
    await client.patch("/me", headers=auth(), json={"paused_until": until})
    body = (await client.patch("/me", headers=auth(), json={"paused_until": None})).json()
    assert body["paused_until"] is None


@pytest.mark.parametrize(
    ("patch", "field", "reason"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "IANA"),
        ({"timezone": "posixrules"}, "timezone", "IANA"),
        ({"timezone": "../../etc/passwd"}, "timezone", "IANA"),
        ({"timezone": None}, "timezone", "null"),
        ({"work_start": "9:00"}, "work_start", ""),
        ({"work_start": "25:00"}, "work_start", "pattern"),
        ({"work_end": "12:61"}, "work_end", "pattern"),
        ({"work_start": "18:00", "work_end": "09:00"}, "work_end", "end after"),
        ({"work_start": "10:00", "work_end": "10:00"}, "work_end", "end after"),
        ({"work_end": "08:00"}, "work_end", "end after"),
        ({"work_start": "18:30"}, "work_start", "end after"),
        ({"workdays": []}, "workdays", ""),
        ({"workdays": [0]}, "workdays", "1"),
        ({"workdays": [8]}, "workdays", "7"),
        ({"workdays": [1, True]}, "workdays", "integer"),
        ({"workdays": ["mon"]}, "workdays", ""),
        ({"reminders_paused": "sometimes"}, "reminders_paused", ""),
        ({"paused_until": "2020-01-01T00:00:00Z"}, "paused_until", "future"),
        ({"paused_until": "2030-01-01T09:00:00"}, "paused_until", "timezone"),
        ({"paused_until": "next tuesday"}, "paused_until", ""),
        ({"nickname": "x"}, "nickname", ""),
    ],
)
async def test_invalid_settings_are_422_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, patch: dict[str, Any], field: str, reason: str
) -> None:
    response = await client.patch("/me", headers=auth(), json=patch)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(field in [str(part) for part in e["loc"]] for e in errors), errors
    assert any(reason in e["msg"] for e in errors), errors
    # Nothing was half-applied.
    body = (await client.get("/me", headers=auth())).json()
    assert (body["timezone"], body["work_start"], body["work_end"]) == ("UTC", "09:00", "18:00")


async def test_body_that_is_not_json(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.patch(
        "/me", headers={**auth(), "Content-Type": "application/json"}, content=b"{nope"
    )
    assert response.status_code == 422


async def test_patch_needs_auth(client: httpx.AsyncClient) -> None:
    response = await client.patch("/me", json={"timezone": "UTC"})
    assert response.status_code == 401


async def test_users_do_not_see_each_other(client: httpx.AsyncClient, auth: Auth) -> None:
    await client.patch("/me", headers=auth(1), json={"timezone": "Asia/Tokyo"})
    body = (await client.get("/me", headers=auth(2))).json()
    assert body["telegram_id"] == 2
    assert body["timezone"] == "UTC"
