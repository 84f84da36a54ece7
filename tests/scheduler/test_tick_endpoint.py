"""POST /internal/tick and GET /metrics through the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.clock import ManualClock
from app.db.database import Database
from app.main import create_app
from tests.scheduler.support import make_lead, make_user
from tests.support.fake_telegram import FakeTelegram

TOKEN = "internal-test-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def tick_client(
    make_settings: Callable[..., Any], clock: ManualClock, db: Database, fake: FakeTelegram
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        internal_token=TOKEN,
        telegram_bot_token=fake.token,
        telegram_api_base=fake.base_url,
    )
    app = create_app(settings, clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
async def test_wrong_or_missing_token_is_401(
    tick_client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await tick_client.post("/internal/tick", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]


async def test_without_internal_token_the_endpoint_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/internal/tick", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404


async def test_tick_runs_a_pass_and_answers_counts(
    tick_client: httpx.AsyncClient, db: Database, clock: ManualClock, fake: FakeTelegram
) -> None:
    user = await make_user(db, clock)
    for k in range(5):
        await make_lead(db, clock, user, [0], name=f"Lead {k}")
    response = await tick_client.post(
        "/internal/tick", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200, response.text
    counts = response.json()
    assert {
        k: counts[k] for k in ("due", "sent", "nudged", "auto_snoozed", "digested", "failed")
    } == {
        "due": 5,
        "sent": 5,
        "nudged": 0,
        "auto_snoozed": 0,
        "digested": 2,
        "failed": 0,
    }
    assert len(fake.sent_messages()) == 4  # three reminders and one digest
    again = await tick_client.post("/internal/tick", headers={"Authorization": f"Bearer {TOKEN}"})
    assert again.json()["due"] == 0

    metrics = (await tick_client.get("/metrics")).text
    assert 'eplan_messages_sent_total{kind="first"} 3.0' in metrics
    assert 'eplan_messages_sent_total{kind="digest"} 1.0' in metrics
    assert "eplan_first_reminder_lateness_seconds_count 5.0" in metrics
    assert "eplan_dispatch_pass_seconds_count 2.0" in metrics
    assert "eplan_backlog 0.0" in metrics
    assert fake.token not in metrics
