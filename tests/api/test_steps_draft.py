"""GET /reminders/{id}/draft: the text a salesperson sends for a step."""

from __future__ import annotations

import httpx

from app.clock import ManualClock
from tests.api.plan_helpers import Auth, Json, create_lead, put_steps, reminder_ids, step, utc


async def _draft(client: httpx.AsyncClient, auth: Auth, reminder_id: int) -> Json:
    response = await client.get(f"/reminders/{reminder_id}/draft", headers=auth())
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def test_draft_is_the_plans_suggested_text(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await create_lead(
        client,
        auth,
        [step(1, 0, suggested_text="Hi Ana, loved your talk on pricing."), step(2, 3)],
    )
    rid = reminder_ids(lead)
    assert await _draft(client, auth, rid[1]) == {
        "text": "Hi Ana, loved your talk on pricing.",
        "generated_at": "2026-03-02T10:00:00Z",  # when the plan (and its text) arrived
        "source": "plan",
    }
    # A step the plan gave no text gets one from the writer (offline here: no model is set).
    written = await _draft(client, auth, rid[2])
    assert written["source"] == "template"
    assert written["generated_at"] == "2026-03-02T10:00:00Z"
    assert written["text"].startswith("Subject: ")  # the step is an email


async def test_draft_follows_an_edited_plan(
    client: httpx.AsyncClient, auth: Auth, clock: ManualClock
) -> None:
    lead = await create_lead(client, auth, [step(1, 1, suggested_text="First words")])
    rid = reminder_ids(lead)[1]
    clock.set(utc(2026, 3, 2, 12))
    response = await put_steps(
        client, auth, lead["id"], [step(1, 1, suggested_text="Better words")]
    )
    assert response.status_code == 200, response.text
    draft = await _draft(client, auth, rid)
    assert (draft["text"], draft["source"]) == ("Better words", "plan")


async def test_draft_of_unknown_reminder_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.get("/reminders/31337/draft", headers=auth())
    assert (response.status_code, response.json()) == (404, {"detail": "not found"})
