"""Input is read exactly as the OpenAPI document describes it, and values the document
allows but no real moment has (past year 9999 in UTC, in the future of the app's clock)
are 422s, never 500s. On both engines: the values reach storage when accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.main import create_app
from app.settings import Settings
from tests.support import initdata

Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]

OVERFLOW = "9999-12-31T23:59:59-14:00"  # year 10000 once in UTC
# The test clock is 2026-03-02T10:00Z, months before the machine's: these lie after the
# app's now though not after the system's, so they tell the two clocks apart.
AFTER_APP_CLOCK = ["2026-03-02T10:01:00Z", "2026-03-02T11:00:00+00:59", "2026-06-01T00:00:00Z"]
BEFORE_2000 = ["1999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "1970-01-01T00:00:00Z"]


def _steps(**fields: Any) -> list[Json]:
    return [
        {"step_id": 1, "description": "Connect", "delay_days": 0, **fields},
        {"step_id": 2, "description": "Email", "delay_days": 3},
    ]


def _done(completed_at: object) -> list[Json]:
    return _steps(status="done", completed_at=completed_at)


async def _lead(client: httpx.AsyncClient, auth: Auth) -> Json:
    response = await client.post(
        "/leads", headers=auth(), json={"name": "Ana", "plan": {"steps": _steps()}}
    )
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


async def _lead_count(client: httpx.AsyncClient, auth: Auth) -> int:
    response = await client.get("/plans", headers=auth())
    count: int = response.json()["summary"]["total_leads"]
    return count


def _field_errors(response: httpx.Response, field: str) -> list[Json]:
    assert response.status_code == 422, response.text
    return [e for e in response.json()["detail"] if field in [str(part) for part in e["loc"]]]


# --- completed_at: an RFC 3339 string for a real moment between 2000 and now ---------


@pytest.mark.parametrize("completed_at", [OVERFLOW, *AFTER_APP_CLOCK, *BEFORE_2000])
async def test_completed_at_outside_2000_to_now_is_422_on_post_leads(
    client: httpx.AsyncClient, auth: Auth, completed_at: str
) -> None:
    response = await client.post(
        "/leads", headers=auth(), json={"name": "Ana", "plan": {"steps": _done(completed_at)}}
    )
    errors = _field_errors(response, "completed_at")
    assert errors
    assert errors[0]["loc"] == ["body", "plan", "steps", 0, "completed_at"]
    assert "between 2000-01-01 and now" in errors[0]["msg"]
    assert await _lead_count(client, auth) == 0  # nothing half-created


@pytest.mark.parametrize("completed_at", [OVERFLOW, *AFTER_APP_CLOCK, *BEFORE_2000])
async def test_completed_at_outside_2000_to_now_is_422_on_put_steps(
    client: httpx.AsyncClient, auth: Auth, completed_at: str
) -> None:
    lead = await _lead(client, auth)
    response = await client.put(
        f"/plans/{lead['id']}/steps", headers=auth(), json={"steps": _done(completed_at)}
    )
    errors = _field_errors(response, "completed_at")
    assert errors
    assert errors[0]["loc"] == ["body", "steps", 0, "completed_at"]
    after = (await client.get(f"/plans/{lead['id']}", headers=auth())).json()
    assert [s["state"] for s in after["steps"]] == ["pending", "pending"]


@pytest.mark.parametrize(
    ("completed_at", "stored"),
    [
        ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"),
        ("2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"),  # the app's now exactly
        ("2026-03-02T12:00:00+02:00", "2026-03-02T10:00:00Z"),
        ("2025-07-01t08:30:00.5-04:30", "2025-07-01T13:00:00.500000Z"),
    ],
)
async def test_completed_at_between_2000_and_now_is_kept(
    client: httpx.AsyncClient, auth: Auth, completed_at: str, stored: str
) -> None:
    response = await client.post(
        "/leads", headers=auth(), json={"name": "Ana", "plan": {"steps": _done(completed_at)}}
    )
    assert response.status_code == 201, response.text
    first = response.json()["steps"][0]
    assert (first["state"], first["completed_at"]) == ("completed", stored)


@pytest.mark.parametrize(
    "completed_at",
    [
        0,
        1_700_000_000,
        1.5,
        True,
        "0",
        "1700000000",
        "2026-01-01",
        "2026-01-01T10:00Z",
        "2026-01-01 10:00:00Z",
        "2026-01-01T10:00:00",
        "2026-13-01T10:00:00Z",
        ["2026-01-01T10:00:00Z"],
    ],
)
async def test_completed_at_is_an_rfc3339_string_only(
    client: httpx.AsyncClient, auth: Auth, completed_at: object
) -> None:
    response = await client.post(
        "/leads", headers=auth(), json={"name": "Ana", "plan": {"steps": _done(completed_at)}}
    )
    assert _field_errors(response, "completed_at")
    assert await _lead_count(client, auth) == 0


# --- integers: JSON's one number type, so 2.0 is 2; never a bool, a string or 2.5 -----


async def test_integral_floats_are_integers(client: httpx.AsyncClient, auth: Auth) -> None:
    steps = [
        {"step_id": 1.0, "description": "Connect", "delay_days": 0.0},
        {"step_id": 2.0, "description": "Email", "delay_days": 3.0},
    ]
    created = await client.post(
        "/leads", headers=auth(), json={"name": "Ana", "plan": {"steps": steps}}
    )
    assert created.status_code == 201, created.text
    assert [(s["step_id"], s["delay_days"]) for s in created.json()["steps"]] == [(1, 0), (2, 3)]
    reminder = created.json()["steps"][0]["reminder_id"]
    snoozed = await client.post(f"/reminders/{reminder}/snooze", headers=auth(), json={"days": 2.0})
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["step"]["snooze_count"] == 1
    me = await client.patch("/me", headers=auth(), json={"workdays": [1.0, 3.0, 5]})
    assert me.status_code == 200, me.text
    assert me.json()["workdays"] == [1, 3, 5]


@pytest.mark.parametrize("value", [2.5, True, "2", 1e300, -1.0])
async def test_other_numbers_are_not_integers(
    client: httpx.AsyncClient, auth: Auth, value: object
) -> None:
    steps = [{"step_id": value, "description": "Connect"}]
    response = await client.post(
        "/leads", headers=auth(), json={"name": "Ana", "plan": {"steps": steps}}
    )
    assert _field_errors(response, "step_id")
    me = await client.patch("/me", headers=auth(), json={"workdays": [1, value]})
    assert _field_errors(me, "workdays")


# --- PATCH /me: what may be null, what must be a real boolean, which zones exist ------


@pytest.mark.parametrize(
    "field", ["timezone", "work_start", "work_end", "workdays", "reminders_paused"]
)
async def test_settings_are_never_null(client: httpx.AsyncClient, auth: Auth, field: str) -> None:
    response = await client.patch("/me", headers=auth(), json={field: None})
    errors = _field_errors(response, field)
    assert len(errors) == 1, errors
    assert "cannot be null" in errors[0]["msg"]


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "false", [], {}])
async def test_reminders_paused_is_a_json_boolean_only(
    client: httpx.AsyncClient, auth: Auth, value: object
) -> None:
    response = await client.patch("/me", headers=auth(), json={"reminders_paused": value})
    assert _field_errors(response, "reminders_paused")
    assert (await client.get("/me", headers=auth())).json()["reminders_paused"] is False


async def test_reminders_paused_true_pauses(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.patch("/me", headers=auth(), json={"reminders_paused": True})
    assert response.status_code == 200, response.text
    assert response.json()["reminders_paused"] is True


@pytest.mark.parametrize(
    "zone", ["Factory", "localtime", "posixrules", "posix/Europe/Berlin", "right/UTC", "Europe"]
)
async def test_zones_that_are_no_place_are_refused(
    client: httpx.AsyncClient, auth: Auth, zone: str
) -> None:
    response = await client.patch("/me", headers=auth(), json={"timezone": zone})
    errors = _field_errors(response, "timezone")
    assert any("IANA" in e["msg"] for e in errors), errors


@pytest.mark.parametrize(
    "zone", ["UTC", "Etc/UTC", "GMT", "Europe/Berlin", "America/Argentina/Salta"]
)
async def test_real_zones_are_accepted(client: httpx.AsyncClient, auth: Auth, zone: str) -> None:
    response = await client.patch("/me", headers=auth(), json={"timezone": zone})
    assert response.status_code == 200, response.text
    assert response.json()["timezone"] == zone


@pytest.mark.parametrize(
    ("paused_until", "reason"),
    [
        (OVERFLOW, "9999"),
        ("9999-12-31T23:59:59.999999-00:01", "9999"),
        ("0001-01-01T00:00:00+14:00", "future"),
        ("2026-03-02T09:59:59Z", "future"),
        (0, "RFC 3339"),
        ("1800000000", "RFC 3339"),
        ("2030-01-01", "RFC 3339"),
    ],
)
async def test_paused_until_out_of_range_or_not_a_date_time_is_422(
    client: httpx.AsyncClient, auth: Auth, paused_until: object, reason: str
) -> None:
    response = await client.patch("/me", headers=auth(), json={"paused_until": paused_until})
    errors = _field_errors(response, "paused_until")
    assert any(reason in e["msg"] for e in errors), errors
    assert (await client.get("/me", headers=auth())).json()["paused_until"] is None


async def test_paused_until_far_ahead_is_kept_in_utc(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    response = await client.patch(
        "/me", headers=auth(), json={"paused_until": "9999-12-31T23:59:59+00:00"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["paused_until"] == "9999-12-31T23:59:59Z"
    # The dispatch pass and the plans view cope with a pause that ends at the calendar's end.
    plans = await client.get("/plans", headers=auth())
    assert plans.status_code == 200, plans.text


# --- the OpenAPI document says the same ------------------------------------------------


def _document() -> Json:
    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///never-opened.db",
        telegram_bot_token=initdata.TEST_BOT_TOKEN,
    )
    document: Json = create_app(settings).openapi()
    return document


DOCUMENT = _document()


def _schema(name: str) -> Json:
    schema: Json = DOCUMENT["components"]["schemas"][name]
    return schema


def _nullable(prop: Json) -> bool:
    return prop.get("type") == "null" or any(o.get("type") == "null" for o in prop.get("anyOf", []))


def test_document_says_which_settings_may_be_null() -> None:
    props = _schema("MePatch")["properties"]
    for field in ("timezone", "work_start", "work_end", "workdays", "reminders_paused"):
        assert not _nullable(props[field]), field
        assert "default" not in props[field], field
    assert _nullable(props["paused_until"])
    assert props["reminders_paused"]["type"] == "boolean"
    assert props["workdays"]["items"] == {"type": "integer", "minimum": 1, "maximum": 7}
    zones = props["timezone"]["enum"]
    assert {"UTC", "Etc/UTC", "Europe/Berlin"} <= set(zones)
    assert not {"Factory", "localtime", "posixrules"} & set(zones)


def test_document_states_integer_bounds_and_date_times() -> None:
    step = _schema("StepIn")["properties"]
    assert step["step_id"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1_000_000,
        "title": "Step Id",
    }
    assert {"type": "integer", "minimum": 0, "maximum": 365} in step["delay_days"]["anyOf"]
    assert {"type": "string", "format": "date-time"} in step["completed_at"]["anyOf"]
    assert "not after now" in step["completed_at"]["description"]
    assert _schema("SnoozeIn")["properties"]["days"]["minimum"] == 1
