"""Both ends of the cross-replica wake: a committed schedule change sends NOTIFY, and a
WakeListener hears it; an unreachable database leaves the listener retrying, not failing."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.engine import URL, make_url

from app.db.database import Database
from app.db.signals import WakeListener, schedule_changed


async def _heard(count: list[int], at_least: int) -> bool:
    # NOTIFY is delivered after commit, asynchronously on the listening connection.
    for _ in range(50):
        if len(count) >= at_least:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_committed_change_wakes_the_listener_until_it_closes(
    db: Database, db_url: URL
) -> None:
    if not db.is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    wakes: list[int] = []
    listener = WakeListener(db_url, lambda: wakes.append(1))
    await listener.ensure()
    await listener.ensure()  # already listening: no second connection, no double wake
    try:
        async with db.transaction() as conn:
            await schedule_changed(conn)
        assert await _heard(wakes, 1)
        await asyncio.sleep(0.1)
        assert len(wakes) == 1
    finally:
        await listener.close()
    async with db.transaction() as conn:
        await schedule_changed(conn)
    await asyncio.sleep(0.2)
    assert len(wakes) == 1


async def test_a_rolled_back_change_sends_nothing(db: Database, db_url: URL) -> None:
    if not db.is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    wakes: list[int] = []
    listener = WakeListener(db_url, lambda: wakes.append(1))
    await listener.ensure()
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await schedule_changed(conn)
                raise RuntimeError("refused")
        await asyncio.sleep(0.2)
        assert wakes == []
    finally:
        await listener.close()


async def test_an_unreachable_database_is_logged_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Port 1 on loopback: refused at once, no server there.
    url = make_url("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    listener = WakeListener(url, lambda: None)
    with caplog.at_level(logging.WARNING, logger="app.db.signals"):
        await listener.ensure()
        await listener.ensure()
    refusals = [r.getMessage() for r in caplog.records if r.name == "app.db.signals"]
    assert len(refusals) == 2
    assert refusals[0].startswith("LISTEN eplan_wake unavailable: ")
    await listener.close()
