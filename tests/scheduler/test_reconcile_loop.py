"""The background reconcile: drift made behind the service's back is repaired with nobody
running `python -m app reconcile`, one replica at a time, and a failing pass is retried."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import delete, select
from sqlalchemy.engine import URL

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import scheduled_reminders
from app.main import create_app
from app.scheduler.reconcile import RECONCILE_LOCK_KEY, ReconcileLoop
from app.services.reconcile import ReconcileReport, reconcile
from tests.conftest import _asyncpg_dsn
from tests.services.test_reconcile import make_lead, statuses

TINY = 0.02


async def drop_reminder(db: Database, lead_id: int, step_id: int) -> None:
    """What an admin's DELETE would do: the plan still has the step, the table not."""
    async with db.transaction() as conn:
        await conn.execute(
            delete(scheduled_reminders).where(
                scheduled_reminders.c.lead_id == lead_id, scheduled_reminders.c.step_id == step_id
            )
        )


async def until(check: Callable[[], Any], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_the_app_repairs_drift_by_itself(
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lead_id = await make_lead(db, clock)
    await drop_reminder(db, lead_id, 2)
    settings = make_settings(scheduler_enabled=True, reconcile_interval=TINY)
    app = create_app(settings, clock=clock, database=db)
    caplog.set_level(logging.INFO)
    async with LifespanManager(app):
        container = app.state.container

        async def repaired() -> bool:
            return (await statuses(db, lead_id)).get(2) == "pending"

        await until(repaired)
        # Passes go on; drift made later is repaired by a later one.
        await drop_reminder(db, lead_id, 3)

        async def repaired_again() -> bool:
            return (await statuses(db, lead_id)).get(3) == "pending"

        await until(repaired_again)

        async def a_clean_pass() -> bool:
            return "reconcile: 1 leads checked, 0 repairs in 0.000 s" in caplog.messages

        await until(a_clean_pass)
        assert container.reconcile.failed == 0
    messages = [r.getMessage() for r in caplog.records]
    assert f"reconcile: lead {lead_id} step 2: had no reminder; created one (pending)" in messages
    assert "reconcile: 1 leads checked, 1 repairs in 0.000 s" in messages
    async with db.read() as conn:
        created = (
            await conn.execute(
                select(scheduled_reminders.c.created_at).where(
                    scheduled_reminders.c.lead_id == lead_id, scheduled_reminders.c.step_id == 2
                )
            )
        ).scalar_one()
    assert created == clock.now()  # the app's clock, not the machine's


@pytest.mark.parametrize(
    ("overrides", "running"),
    [
        ({"scheduler_enabled": True, "reconcile_interval": 0}, False),
        ({"scheduler_enabled": False, "reconcile_interval": TINY}, False),
        ({"scheduler_enabled": True}, True),
    ],
)
async def test_the_setting_turns_it_off(
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
    overrides: dict[str, Any],
    running: bool,
) -> None:
    lead_id = await make_lead(db, clock)
    await drop_reminder(db, lead_id, 2)
    app = create_app(make_settings(**overrides), clock=clock, database=db)
    async with LifespanManager(app):
        loop = app.state.container.reconcile
        assert (loop is not None) == running
        if loop is not None:
            assert loop.interval == 6 * 3600
            assert loop.first_after == 60
        await asyncio.sleep(0.2)
    assert 2 not in await statuses(db, lead_id)


async def test_a_failing_pass_is_logged_and_the_next_one_runs(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    lead_id = await make_lead(db, clock)
    await drop_reminder(db, lead_id, 2)
    calls = 0

    async def fails_once(database: Database, now: datetime) -> ReconcileReport:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away")
        return await reconcile(database, now)

    loop = ReconcileLoop(db, clock, interval=TINY, work=fails_once)
    loop.start()
    try:

        async def passed() -> bool:
            return loop.passes >= 1

        await until(passed)
    finally:
        await loop.stop()
    assert (await statuses(db, lead_id)).get(2) == "pending"
    assert loop.failed == 1
    failures = [r for r in caplog.records if r.getMessage().startswith("reconcile failed")]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "the database went away" in str(failures[0].exc_info[1])


async def test_stopping_cancels_a_pass_in_flight_and_frees_the_lock(
    db: Database, db_url: URL, clock: ManualClock
) -> None:
    started = asyncio.Event()

    async def endless(database: Database, now: datetime) -> ReconcileReport:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    loop = ReconcileLoop(db, clock, interval=TINY, work=endless)
    loop.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(loop.stop(), 5)
    if db.is_postgres:
        other = await asyncpg.connect(_asyncpg_dsn(db_url))
        try:
            assert await other.fetchval("SELECT pg_try_advisory_lock($1)", RECONCILE_LOCK_KEY)
        finally:
            await other.close()


@pytest.fixture
def postgres_only(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("the advisory lock is PostgreSQL's; SQLite is one process")


@pytest.mark.usefixtures("postgres_only")
async def test_replicas_never_reconcile_at_once(
    db: Database, db_url: URL, clock: ManualClock
) -> None:
    # Two replicas: two loops, each with its own engine, on one PostgreSQL database.
    other_db = Database.from_url(db_url)
    spans: list[tuple[str, float, float]] = []

    def slow(name: str) -> Callable[[Database, datetime], Any]:
        async def work(database: Database, now: datetime) -> ReconcileReport:
            began = asyncio.get_running_loop().time()
            report = await reconcile(database, now)
            await asyncio.sleep(0.05)  # long enough for the other replica's turn to come
            spans.append((name, began, asyncio.get_running_loop().time()))
            return report

        return work

    await make_lead(db, clock)
    loops = [
        ReconcileLoop(db, clock, interval=0.01, work=slow("a")),
        ReconcileLoop(other_db, clock, interval=0.01, work=slow("b")),
    ]
    try:
        for each in loops:
            each.start()
        await asyncio.sleep(1.5)
    finally:
        for each in loops:
            await each.stop()
        await other_db.dispose()
    spans.sort(key=lambda s: s[1])
    assert len(spans) >= 4
    for earlier, later in itertools.pairwise(spans):
        assert later[1] >= earlier[2], f"{earlier} overlaps {later}"
    assert all(each.skipped > 0 for each in loops)  # each found the other one running
    assert {name for name, _, _ in spans} == {"a", "b"}  # the lock is taken in turns, not kept


@pytest.mark.usefixtures("postgres_only")
async def test_a_replica_holding_the_lock_keeps_the_app_from_reconciling(
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
    db_url: URL,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lead_id = await make_lead(db, clock)
    await drop_reminder(db, lead_id, 2)
    holder = await asyncpg.connect(_asyncpg_dsn(db_url))
    caplog.set_level(logging.INFO)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", RECONCILE_LOCK_KEY)
        settings = make_settings(scheduler_enabled=True, reconcile_interval=TINY)
        app = create_app(settings, clock=clock, database=db)
        async with LifespanManager(app):
            container = app.state.container
            await asyncio.sleep(0.3)
            assert container.reconcile.skipped >= 2
            assert container.reconcile.passes == 0
            assert 2 not in await statuses(db, lead_id)
            await holder.execute("SELECT pg_advisory_unlock($1)", RECONCILE_LOCK_KEY)

            async def repaired() -> bool:
                return (await statuses(db, lead_id)).get(2) == "pending"

            await until(repaired)
    finally:
        await holder.close()
    assert "reconcile skipped: another replica is running it" in caplog.messages
    # Shut down, the app holds the lock no more.
    other = await asyncpg.connect(_asyncpg_dsn(db_url))
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", RECONCILE_LOCK_KEY)
    finally:
        await other.close()
