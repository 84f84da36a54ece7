"""Every route that is not deliberately public refuses a request without a valid
initData, whatever the body, with the same 401 and never a 5xx. Enumerated from the app,
so a new route is covered the day it is added."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from app.clock import ManualClock
from app.main import create_app
from app.settings import Settings
from tests.support import initdata

# Public by design, each with its own guard (or none needed).
PUBLIC = re.compile(
    r"^/(healthz|metrics|internal/tick|telegram/webhook|openapi\.json|docs.*|redoc|app.*)$"
)


def _private_routes(settings: Settings) -> list[tuple[str, str]]:
    app = create_app(settings)
    routes = set()
    for route in iter_route_contexts(app.routes):
        if route.path and not PUBLIC.match(route.path):
            for method in route.methods or ():
                if method != "HEAD":
                    routes.add((method, route.path))
    return sorted(routes)


def _forgeries(clock: ManualClock) -> dict[str, str]:
    now = int(clock.now().timestamp())
    good = initdata.sign(user=initdata.default_user(), auth_date=now)
    forged = good.replace("%22id%22%3A1001", "%22id%22%3A1002")
    assert forged != good
    return {
        "missing": "",
        "forged": forged,
        "duplicated-hash": f"{good}&hash={'0' * 64}",
        "no-hash": good.partition("&hash=")[0],
        "other-bot": initdata.sign(token="42:other", user=initdata.default_user(), auth_date=now),
        "expired": initdata.sign(user=initdata.default_user(), auth_date=now - 86400 - 1),
        "64-kb": initdata.sign(
            user=initdata.default_user(), auth_date=now, extra={"pad": "x" * 65536}
        ),
    }


async def test_every_private_route_demands_init_data(
    client: httpx.AsyncClient,
    settings: Settings,
    clock: ManualClock,
    auth: Callable[..., dict[str, str]],
) -> None:
    routes = _private_routes(settings)
    assert ("GET", "/me") in routes
    assert ("POST", "/reminders/{reminder_id}/snooze") in routes
    for label, raw in _forgeries(clock).items():
        headers = {"Authorization": f"tma {raw}"} if raw else {}
        for method, template in routes:
            path = re.sub(r"\{[^}]+\}", "1", template)
            # A body that would be valid, so only the missing authentication can refuse it.
            response = await client.request(method, path, headers=headers, json={"days": 1})
            assert response.status_code == 401, (label, method, path, response.text)
            assert response.headers["www-authenticate"] == "tma"
            assert isinstance(response.json()["detail"], str)
    # And the same requests with a valid initData are not refused for authentication.
    for method, template in routes:
        path = re.sub(r"\{[^}]+\}", "1", template)
        response = await client.request(method, path, headers=auth(), json={"days": 1})
        assert response.status_code not in (401, 500), (method, path, response.text)


@pytest.mark.parametrize("size", [4097, 64 * 1024, 1024 * 1024])
async def test_init_data_kilobytes_long_is_a_quick_401(
    client: httpx.AsyncClient, clock: ManualClock, size: int
) -> None:
    """Refused on its length before any parsing or hashing, however long."""
    raw = initdata.sign(user=initdata.default_user(), auth_date=int(clock.now().timestamp()))
    padded = raw + "&pad=" + "x" * (size - len(raw) - 5)
    assert len(padded) == size
    response = await client.get("/me", headers={"Authorization": f"tma {padded}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "initData is too long"}
