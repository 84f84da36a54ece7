"""The app on the webhook, its Bot API the fake on loopback, for every bot test here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.clock import ManualClock
from app.container import Container
from app.db.database import Database
from app.main import create_app
from tests.bot.support import SECRET, Delivered, deliver_one_reminder
from tests.support.fake_telegram import FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """More settings of the app, for a module to override."""
    return {}


@pytest.fixture
async def app_client(
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
    fake: FakeTelegram,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    settings = make_settings(
        telegram_bot_token=fake.token,
        telegram_api_base=fake.base_url,
        telegram_webhook_secret=SECRET,
        internal_token="tick",
        **settings_overrides,
    )
    app = create_app(settings, clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, app.state.container


@pytest.fixture
def http(app_client: tuple[httpx.AsyncClient, Container]) -> httpx.AsyncClient:
    return app_client[0]


@pytest.fixture
async def delivered(
    http: httpx.AsyncClient, fake: FakeTelegram, db: Database, clock: ManualClock
) -> Delivered:
    """User 1001 with a lead whose first reminder the dispatcher has just sent."""
    return await deliver_one_reminder(http, fake, db, clock)
