from __future__ import annotations

from collections.abc import Callable

import httpx

Auth = Callable[..., dict[str, str]]

PLAN = {
    "steps": [
        {
            "step_id": 1,
            "description": "Connect on LinkedIn",
            "timing": "Day 1",
            "channel": "linkedin",
        },
        {
            "step_id": 2,
            "description": "Follow-up email",
            "timing": "after 3 days",
            "channel": "email",
        },
        {
            "step_id": 3,
            "description": "Call",
            "timing": "1 week later",
            "delay_days": 7,
            "channel": "phone",
        },
    ]
}


async def test_create_list_complete(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.post(
        "/leads", headers=auth(), json={"name": "Ana", "company": "Acme", "plan": PLAN}
    )
    assert r.status_code == 201, r.text
    lead = r.json()
    assert [s["delay_days"] for s in lead["steps"]] == [1, 3, 7]
    r = await client.get("/plans", headers=auth())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["active_plans"] == 1
    rid = body["leads"][0]["steps"][0]["reminder_id"]
    r = await client.post(f"/reminders/{rid}/complete", headers=auth())
    assert r.status_code == 200, r.text
    assert r.json()["step"]["status"] == "done"
    r = await client.post(f"/reminders/{rid}/complete", headers=auth())
    assert r.status_code == 200
    assert r.json()["changed"] is False
    r = await client.post(f"/reminders/{rid}/skip", headers=auth())
    assert r.status_code == 409
    rid2 = body["leads"][0]["steps"][1]["reminder_id"]
    r = await client.post(f"/reminders/{rid2}/snooze", headers=auth(), json={"days": 3})
    assert r.status_code == 200, r.text
    r = await client.get(f"/plans/{lead['id']}", headers=auth())
    assert r.status_code == 200, r.text
    types = [a["activity_type"] for a in r.json()["activity"]]
    assert types == ["step_snoozed", "step_completed", "status_change", "plan_activated"]
    r = await client.put(
        f"/plans/{lead['id']}/steps", headers=auth(), json={"steps": PLAN["steps"][:2]}
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/plans/{lead['id']}/pause", headers=auth())
    assert r.status_code == 200, r.text
    assert r.json()["plan_status"] == "paused"
    r = await client.post(f"/plans/{lead['id']}/resume", headers=auth())
    assert r.json()["plan_status"] == "active"
    r = await client.delete(f"/leads/{lead['id']}", headers=auth())
    assert r.status_code == 204
    r = await client.get(f"/plans/{lead['id']}", headers=auth())
    assert r.status_code == 404
