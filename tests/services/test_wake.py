"""A transition that re-dates steps wakes the dispatchers: this process's loops once it
commits, and other replicas through NOTIFY (sent in the same statement as its writes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import URL

from app.clock import ManualClock
from app.db.database import Database
from app.db.signals import WAKE_CHANNEL, wake_signal
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services import users as users_service
from app.services.errors import Conflict
from tests.conftest import _asyncpg_dsn


class Wakes:
    """Counts in-process wake-ups and, on PostgreSQL, notifications on the wake channel."""

    def __init__(self) -> None:
        self.local = 0
        self.notified = 0
        self.listener: asyncpg.Connection | None = None

    def fire(self) -> None:
        self.local += 1

    def on_notify(self, *_: object) -> None:
        self.notified += 1

    async def settle(self) -> None:
        # A notification is delivered at commit; give the listening connection a moment.
        if self.listener is not None:
            await self.listener.execute("SELECT 1")
            await asyncio.sleep(0.2)


@pytest.fixture
async def wakes(db_url: URL) -> AsyncIterator[Wakes]:
    found = Wakes()
    wake_signal.subscribe(found.fire)
    if db_url.get_backend_name() == "postgresql":
        found.listener = await asyncpg.connect(_asyncpg_dsn(db_url))
        await found.listener.add_listener(WAKE_CHANNEL, found.on_notify)
    yield found
    wake_signal.unsubscribe(found.fire)
    if found.listener is not None:
        await found.listener.close()


async def test_snooze_wakes_and_a_refused_change_does_not(
    db: Database, db_url: URL, clock: ManualClock, wakes: Wakes
) -> None:
    user = await users_service.sign_in(
        db, TelegramProfile(telegram_id=41, first_name="W"), clock.now()
    )
    specs = [StepSpec(step_id=1, description="a", delay_days=0)]
    lead = await plans_service.create_lead(db, user, {"name": "L"}, specs, clock.now())
    reminder_id = lead.steps[0].reminder_id
    assert reminder_id is not None
    await wakes.settle()
    local, notified = wakes.local, wakes.notified

    await steps_service.snooze(db, user, reminder_id, 2, clock.now())
    await wakes.settle()
    assert wakes.local == local + 1
    if wakes.listener is not None:
        assert wakes.notified == notified + 1

    await steps_service.close_step(db, user, reminder_id, "skip", clock.now())
    await wakes.settle()
    local, notified = wakes.local, wakes.notified
    with pytest.raises(Conflict):
        await steps_service.snooze(db, user, reminder_id, 1, clock.now())
    await wakes.settle()
    assert (wakes.local, wakes.notified) == (local, notified)
