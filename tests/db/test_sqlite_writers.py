"""SQLite's writers of one process queue in order on the Database, not on SQLite's busy
handler; one that cannot get in within the busy timeout fails as SQLite would."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from app.db import database as database_module
from app.db.database import Database
from app.db.tables import processed_updates
from tests.db.test_storage import NOW


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if db.is_postgres:
        pytest.skip("SQLite's single writer")
    return db


async def test_concurrent_writers_go_in_the_order_they_came(sqlite_db: Database) -> None:
    entered: list[int] = []

    async def writer(number: int) -> None:
        async with sqlite_db.transaction() as conn:
            entered.append(number)
            await conn.execute(insert(processed_updates).values(update_id=number, processed_at=NOW))
            await asyncio.sleep(0.005)  # hold the lock across an await, as real units do

    started = time.perf_counter()
    tasks = []
    for number in range(40):
        tasks.append(asyncio.create_task(writer(number)))
        await asyncio.sleep(0)  # each starts waiting before the next is created
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    assert entered == list(range(40))
    async with sqlite_db.read() as conn:
        stored = (await conn.execute(select(processed_updates.c.update_id))).scalars().all()
    assert sorted(stored) == list(range(40))
    # Queued, not polling: the busy handler's sleeps (up to 100 ms each) would take far longer.
    assert elapsed < 2.0


async def test_a_writer_kept_out_past_the_busy_timeout_fails_as_sqlite_would(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    release = asyncio.Event()

    async def holder() -> None:
        async with sqlite_db.transaction() as conn:
            await conn.execute(insert(processed_updates).values(update_id=1, processed_at=NOW))
            await release.wait()

    holding = asyncio.create_task(holder())
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    with pytest.raises(OperationalError, match="database is locked"):
        async with sqlite_db.transaction():
            pass
    assert 0.15 < time.perf_counter() - started < 2.0
    release.set()
    await holding
    # The lock is free again, and the holder's write stands.
    async with sqlite_db.transaction() as conn:
        await conn.execute(insert(processed_updates).values(update_id=2, processed_at=NOW))
    async with sqlite_db.read() as conn:
        stored = (await conn.execute(select(processed_updates.c.update_id))).scalars().all()
    assert sorted(stored) == [1, 2]
