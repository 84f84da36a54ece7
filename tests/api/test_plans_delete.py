"""DELETE /leads/{lead_id}: the lead, its reminders and its activity go together."""

from __future__ import annotations

import httpx

from app.db.database import Database
from tests.api.plan_helpers import (
    Auth,
    act,
    act_ok,
    create_lead,
    get_plan,
    list_plans,
    reminder_ids,
    scalar,
    steps_with_delays,
)


async def _rows(db: Database, lead_id: int) -> dict[str, int]:
    return {
        table: int(
            await scalar(
                db,
                f"SELECT count(*) FROM {table} WHERE {column} = :id",
                id=lead_id,
            )
        )
        for table, column in (
            ("lead_registry", "id"),
            ("scheduled_reminders", "lead_id"),
            ("lead_activity_log", "lead_id"),
        )
    }


async def test_delete_cascades_to_reminders_and_activity(
    client: httpx.AsyncClient, auth: Auth, db: Database
) -> None:
    doomed = await create_lead(client, auth, steps_with_delays(0, 2, 4), name="Doomed")
    kept = await create_lead(client, auth, steps_with_delays(1), name="Kept")
    rid = reminder_ids(doomed)
    await act_ok(client, auth, rid[1], "complete")
    assert await _rows(db, doomed["id"]) == {
        "lead_registry": 1,
        "scheduled_reminders": 3,
        "lead_activity_log": 3,  # activated, completed, status reached_out
    }
    kept_before = await get_plan(client, auth, kept["id"])

    response = await client.delete(f"/leads/{doomed['id']}", headers=auth())
    assert response.status_code == 204
    assert response.content == b""

    assert await _rows(db, doomed["id"]) == {
        "lead_registry": 0,
        "scheduled_reminders": 0,
        "lead_activity_log": 0,
    }
    response = await client.get(f"/plans/{doomed['id']}", headers=auth())
    assert (response.status_code, response.json()) == (404, {"detail": "not found"})
    for step_id, action in ((1, "complete"), (2, "complete"), (3, "snooze")):
        response = await act(client, auth, rid[step_id], action, days=1)
        assert (response.status_code, response.json()) == (404, {"detail": "not found"})
    response = await client.get(f"/reminders/{rid[2]}/draft", headers=auth())
    assert response.status_code == 404
    # The other lead is untouched.
    assert await get_plan(client, auth, kept["id"]) == kept_before
    body = await list_plans(client, auth)
    assert [lead["name"] for lead in body["leads"]] == ["Kept"]
    assert body["summary"]["total_leads"] == 1


async def test_delete_twice_or_unknown_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(client, auth, None)
    assert (await client.delete(f"/leads/{lead['id']}", headers=auth())).status_code == 204
    again = await client.delete(f"/leads/{lead['id']}", headers=auth())
    assert (again.status_code, again.json()) == (404, {"detail": "not found"})
    unknown = await client.delete("/leads/777777", headers=auth())
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "not found"})
