"""GET /metrics behind METRICS_TOKEN: a public deployment must not show anyone its counts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.clock import ManualClock
from app.db.database import Database
from app.logs import RedactSecrets, secrets_of
from app.main import create_app

METRICS_TOKEN = "scrape-me-secret-7f3a"


@pytest.fixture
async def guarded(
    make_settings: Callable[..., Any], clock: ManualClock, db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(metrics_token=METRICS_TOKEN), clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong",
        f"Basic {METRICS_TOKEN}",
        f"Bearer {METRICS_TOKEN}x",
        f"Bearer {METRICS_TOKEN[:-1]}",
        "Bearer",
        METRICS_TOKEN,
    ],
)
async def test_with_a_token_a_missing_or_wrong_one_is_401(
    guarded: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await guarded.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid token"}
    assert response.headers["www-authenticate"] == "Bearer"
    assert "eplan_" not in response.text


async def test_with_a_token_the_right_one_reads_the_metrics(guarded: httpx.AsyncClient) -> None:
    # As Prometheus sends it with `authorization: {credentials: ...}` (type Bearer by default).
    response = await guarded.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "eplan_dispatch_passes_total" in response.text
    # The scheme is case-insensitive (RFC 9110).
    lower = await guarded.get("/metrics", headers={"Authorization": f"bearer {METRICS_TOKEN}"})
    assert lower.status_code == 200


async def test_without_a_token_metrics_stay_open(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "eplan_dispatch_passes_total" in response.text


def test_the_metrics_token_never_reaches_a_log_line(make_settings: Callable[..., Any]) -> None:
    redactor = RedactSecrets(secrets_of(make_settings(metrics_token=METRICS_TOKEN)))
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "scrape with %s", (f"Bearer {METRICS_TOKEN}",), None
    )
    redactor.filter(record)
    assert record.getMessage() == "scrape with Bearer ***"
