"""Another user's lead or reminder answers exactly like one that does not exist.

For every endpoint that takes an id, the stranger's request with the owner's id must get
the same status and the same JSON body as a request with an id nobody has, and the owner's
data must be unchanged afterwards.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from app.clock import ManualClock
from app.main import create_app
from app.settings import Settings
from tests.api.plan_helpers import (
    OWNER,
    STRANGER,
    Auth,
    Json,
    create_lead,
    get_plan,
    list_plans,
    reminder_ids,
    step,
    steps_with_delays,
)

MISSING = 987_654

# (method, path template, JSON body). {lead} is an active plan, {paused} a paused one (so
# that resume would change something), {rid} the active plan's first reminder.
ENDPOINTS = [
    pytest.param("GET", "/plans/{lead}", None, id="get-plan"),
    pytest.param("PUT", "/plans/{lead}/steps", {"steps": [step(9, 0)]}, id="put-steps"),
    pytest.param("POST", "/plans/{lead}/pause", None, id="pause"),
    pytest.param("POST", "/plans/{paused}/resume", None, id="resume"),
    pytest.param("DELETE", "/leads/{lead}", None, id="delete-lead"),
    pytest.param("POST", "/leads/{lead}/notes", {"text": "a stranger's note"}, id="add-note"),
    pytest.param("POST", "/reminders/{rid}/complete", None, id="complete"),
    pytest.param("POST", "/reminders/{rid}/skip", None, id="skip"),
    pytest.param("POST", "/reminders/{rid}/snooze", {"days": 3}, id="snooze"),
    pytest.param("GET", "/reminders/{rid}/draft", None, id="draft"),
    pytest.param("POST", "/plans/{lead}/finish", {"outcome": "replied"}, id="finish"),
    pytest.param("PATCH", "/leads/{lead}", {"name": "Stolen", "status": "closed_lost"}, id="edit"),
    pytest.param("POST", "/reminders/{rid}/undo", None, id="undo"),
]


# The name of each id a path template takes, in the templates above.
_PLACEHOLDERS = {"lead_id": ("{lead}", "{paused}"), "reminder_id": ("{rid}",)}


def test_every_id_taking_route_is_covered(settings: Settings) -> None:
    """Enumerated from the app itself: a new route that takes an id fails here until it is
    added to ENDPOINTS above, so none can be forgotten."""
    app = create_app(settings)
    id_routes: set[tuple[str, str]] = set()
    # Included routers are resolved lazily; this walks them as the app's router does,
    # hidden routes (include_in_schema=False) too.
    for route in iter_route_contexts(app.routes):
        if route.path and re.search(r"\{\w+_id\}", route.path):
            for method in route.methods or ():
                id_routes.add((method, route.path))
    covered: set[tuple[str, str]] = set()
    for param in ENDPOINTS:
        verb, template, _body = param.values
        path = str(template)
        for name, placeholders in _PLACEHOLDERS.items():
            for placeholder in placeholders:
                path = path.replace(placeholder, "{" + name + "}")
        covered.add((str(verb), path))
    assert id_routes, "no route takes an id: the enumeration is broken"
    assert id_routes == covered


async def _owner_state(client: httpx.AsyncClient, auth: Auth, lead_ids: list[int]) -> Json:
    return {
        "plans": await list_plans(client, auth, OWNER),
        "details": [await get_plan(client, auth, lead_id, OWNER) for lead_id in lead_ids],
    }


@pytest.mark.parametrize(("method", "template", "body"), ENDPOINTS)
async def test_strangers_get_the_not_found_answer_and_change_nothing(
    client: httpx.AsyncClient,
    auth: Auth,
    clock: ManualClock,
    method: str,
    template: str,
    body: Any,
) -> None:
    active = await create_lead(
        client, auth, [step(1, 0, suggested_text="Secret pitch"), step(2, 2)], name="Owner's"
    )
    paused = await create_lead(client, auth, steps_with_delays(1), name="Owner's paused")
    response = await client.post(f"/plans/{paused['id']}/pause", headers=auth(OWNER))
    assert response.status_code == 200, response.text
    # The stranger has data of their own, so their account is real and populated.
    theirs = await create_lead(client, auth, steps_with_delays(0), user=STRANGER, name="Theirs")
    clock.advance(2 * 86400)  # so a resume or a late completion would move dates
    before = await _owner_state(client, auth, [active["id"], paused["id"]])

    ids = {"lead": active["id"], "paused": paused["id"], "rid": reminder_ids(active)[1]}
    missing = dict.fromkeys(ids, MISSING)
    kwargs: dict[str, Any] = {"headers": auth(STRANGER)}
    if body is not None:
        kwargs["json"] = body
    foreign = await client.request(method, template.format(**ids), **kwargs)
    absent = await client.request(method, template.format(**missing), **kwargs)

    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == absent.json() == {"detail": "not found"}
    assert foreign.headers.get("content-type") == absent.headers.get("content-type")
    assert await _owner_state(client, auth, [active["id"], paused["id"]]) == before
    # And the stranger's own lead is still theirs alone.
    mine = await list_plans(client, auth, STRANGER)
    assert [lead["id"] for lead in mine["leads"]] == [theirs["id"]]


async def test_lists_show_only_the_callers_leads(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_lead(client, auth, steps_with_delays(0), name="Owner's")
    body = await list_plans(client, auth, STRANGER)
    assert body["leads"] == []
    assert body["summary"]["total_leads"] == 0
    assert body["summary"]["active_plans"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/plans/9223372036854775808"),
        ("POST", "/reminders/9223372036854775808/complete"),
        ("DELETE", "/leads/99999999999999999999"),
    ],
)
async def test_out_of_range_ids_are_not_found(
    client: httpx.AsyncClient, auth: Auth, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=auth())
    assert (response.status_code, response.json()) == (404, {"detail": "not found"})
