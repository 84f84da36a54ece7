"""A dispatcher that loses its hold mid-pass stops sending before its leases run out.

Leases are seconds long so a killed process's claims come back quickly; the price is that
a process which is alive but cut off (its database connection gone, or the database's
write lock held by someone else) must notice within the lease and stop. Here the pass's
hold is taken away while it sends at Telegram's pace: on PostgreSQL the session holding
the dispatch lock is terminated, on SQLite another writer holds the file for longer than
an extension may take. The pass must stop within HOLD_FOR, send nothing after that, and a
second worker, taking over once the leases run out, sends the rest: everything once,
except what was on the wire at the cut.

A database that is only slow for a while (a lock held a few seconds, as on a loaded
machine) also stops the pass, but then costs nothing twice: what was on the wire is
answered within HOLD_MARGIN and recorded once the database answers again.

(On SQLite the pass's own records need the write lock too, so its sending also stops when
its unrecorded messages use up their permits: either way it must stop in time.)
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.clock import SystemClock
from app.db.database import Database
from app.links import Links
from app.repositories import claims as claims_repo
from app.scheduler import tick
from app.scheduler.metrics import DispatchMetrics
from app.scheduler.tick import (
    DISPATCH_LOCK_KEY,
    HOLD_FOR,
    HOLD_MARGIN,
    KEEP_EVERY,
    LEASE,
    RECORD_AFTER_STOP,
    SEND_CONCURRENCY,
    Dispatcher,
    LeaseLost,
)
from app.telegram.sender import BotTransport, Sender
from tests.reliability.support import (
    requires_postgres,
    requires_sqlite,
    seed_reminders,
    sends_per_reminder,
    throwaway_database,
)
from tests.support.fake_telegram import FakeTelegram, make_bot

TOTAL = 150


def _dispatcher(db: Database, sender: Sender, name: str) -> Dispatcher:
    return Dispatcher(
        db=db,
        clock=SystemClock(),
        sender=sender,
        metrics=DispatchMetrics(),
        per_user_cap=3,
        links=Links(),
        worker_id=name,
    )


async def _terminate_dispatch_lock_holder(url: URL) -> None:
    admin = Database.from_url(url)
    try:
        async with admin.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            terminated = (
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE "
                        "locktype = 'advisory' AND granted AND "
                        "((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": DISPATCH_LOCK_KEY},
                )
            ).all()
        assert terminated == [(True,)], "no session held the dispatch lock"
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def _sqlite_held(url: URL, seconds: float) -> AsyncIterator[None]:
    """Another process's writer: BEGIN IMMEDIATE on the file, held for `seconds` in a
    thread, so the event loop (and the pass) run meanwhile."""
    path = url.database
    assert path is not None
    taken = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        try:
            conn.execute("BEGIN IMMEDIATE")
            loop.call_soon_threadsafe(taken.set)
            time.sleep(seconds)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    holder = asyncio.create_task(asyncio.to_thread(hold))
    await taken.wait()
    try:
        yield
    finally:
        await holder


async def _cut_mid_pass(
    tmp_path: Path,
    engine: str,
    cut: Callable[[URL], contextlib.AbstractAsyncContextManager[None]],
    *,
    repeats_allowed: bool = True,
) -> None:
    async with throwaway_database(engine, tmp_path) as url, FakeTelegram() as fake:
        db = Database.from_url(url)
        bot = make_bot(fake, timeout=5)
        try:
            now = datetime.now(UTC)
            ids = await seed_reminders(
                db, users_count=TOTAL, per_user=1, due_at=now - timedelta(minutes=1), now=now
            )
            clock = SystemClock()
            sender = Sender(BotTransport(bot), clock, global_rate=30, per_chat_rate=1)
            first = _dispatcher(db, sender, "cut-off")
            passing = asyncio.create_task(first.run_pass())
            while len(fake.sent_messages()) < 20:
                assert not passing.done(), passing
                await asyncio.sleep(0.01)
            async with cut(url):
                cut_at = time.monotonic()
                try:
                    await passing
                except Exception as exc:  # how it fails (lease lost, lock gone) is the engine's
                    failure: Exception = exc
                else:
                    pytest.fail("the pass went on as if nothing had happened")
                failed_at = time.monotonic()
                await asyncio.sleep(0.5)
            # It stopped sending within HOLD_FOR of its last good extension (before the
            # cut), before its leases could run out, and its pass ended with an error.
            last_by_first = max(call.at for call in fake.sent_messages())
            assert last_by_first < cut_at + HOLD_FOR + 0.3, failure
            # The pass ends once what was on the wire is answered and it has tried to
            # record it (the database may still be out of reach).
            assert failed_at - cut_at < HOLD_FOR + HOLD_MARGIN + RECORD_AFTER_STOP + 0.5
            sent_by_first = sends_per_reminder(fake.sent_messages())
            assert 20 <= len(sent_by_first) < TOTAL

            # Another worker, once the leases have run out, finishes the job.
            await asyncio.sleep(max(0.0, cut_at + LEASE.total_seconds() + 0.2 - time.monotonic()))
            second = _dispatcher(
                db, Sender(BotTransport(bot), clock, global_rate=30, per_chat_rate=1), "takes-over"
            )
            while sum(sends_per_reminder(fake.sent_messages()).values()) < TOTAL:
                counts = await second.run_pass()
                if counts.due == 0:
                    await asyncio.sleep(0.2)
            sends = sends_per_reminder(fake.sent_messages())
            assert set(sends) == set(ids)
            twice = {rid for rid, n in sends.items() if n > 1}
            assert twice <= set(sent_by_first)
            assert max(sends.values()) <= 2
            assert len(twice) <= SEND_CONCURRENCY
            if not repeats_allowed:
                assert not twice, f"{len(twice)} sent twice after a slow spell"
        finally:
            await bot.session.close()
            await db.dispose()


@requires_postgres
async def test_a_pass_whose_lock_session_dies_stops_sending(tmp_path: Path) -> None:
    @contextlib.asynccontextmanager
    async def terminate(url: URL) -> AsyncIterator[None]:
        await _terminate_dispatch_lock_holder(url)
        yield

    await _cut_mid_pass(tmp_path, "postgresql", terminate)


@requires_sqlite
async def test_a_pass_that_cannot_write_stops_sending(tmp_path: Path) -> None:
    def held(url: URL) -> contextlib.AbstractAsyncContextManager[None]:
        return _sqlite_held(url, seconds=HOLD_FOR + KEEP_EVERY + 1.5)

    await _cut_mid_pass(tmp_path, "sqlite", held)


@contextlib.asynccontextmanager
async def _postgres_table_locked(url: URL, seconds: float) -> AsyncIterator[None]:
    """Another session holds the reminders table against writes for `seconds`."""
    other = Database.from_url(url)
    release = asyncio.Event()
    taken = asyncio.Event()

    async def hold() -> None:
        async with other.engine.begin() as conn:
            await conn.execute(text("LOCK TABLE scheduled_reminders IN EXCLUSIVE MODE"))
            taken.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await taken.wait()
    asyncio.get_running_loop().call_later(seconds, release.set)
    try:
        yield
    finally:
        await holder
        await other.dispose()


# Longer than an extension may take (it is started at most KEEP_EVERY after the last good
# one and must answer within HOLD_FOR of it), shorter than the pass's wait for what is on
# the wire plus its record after the stop.
SLOW_SPELL = HOLD_FOR + 0.5


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("sqlite", marks=requires_sqlite),
        pytest.param("postgresql", marks=requires_postgres),
    ],
)
async def test_a_slow_spell_stops_the_pass_but_repeats_nothing(tmp_path: Path, engine: str) -> None:
    def slow(url: URL) -> contextlib.AbstractAsyncContextManager[None]:
        if engine == "sqlite":
            return _sqlite_held(url, seconds=SLOW_SPELL)
        return _postgres_table_locked(url, seconds=SLOW_SPELL)

    await _cut_mid_pass(tmp_path, engine, slow, repeats_allowed=False)


@requires_sqlite
async def test_a_process_that_wakes_after_its_hold_sends_nothing_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frozen process cannot notice its freeze while it lasts; on waking, whichever of its
    tasks runs first, no send starts and the pass ends with LeaseLost. The freeze is the
    loop's clock jumping past the hold, as it does for a process that was stopped."""
    async with throwaway_database("sqlite", tmp_path) as url, FakeTelegram() as fake:
        db = Database.from_url(url)
        bot = make_bot(fake, timeout=5)
        try:
            now = datetime.now(UTC)
            await seed_reminders(
                db, users_count=TOTAL, per_user=1, due_at=now - timedelta(minutes=1), now=now
            )
            clock = SystemClock()
            sender = Sender(BotTransport(bot), clock, global_rate=30, per_chat_rate=1)
            passing = asyncio.create_task(_dispatcher(db, sender, "frozen").run_pass())
            while len(fake.sent_messages()) < 20:
                assert not passing.done(), passing
                await asyncio.sleep(0.01)
            loop = asyncio.get_running_loop()
            monkeypatch.setattr(tick, "_loop_time", lambda: loop.time() + LEASE.total_seconds())
            woke_at = time.monotonic()
            with pytest.raises(LeaseLost):
                await passing
            late = [c for c in fake.sent_messages() if c.at > woke_at + 0.3]
            assert not late, f"{len(late)} sent after waking past the hold"
            assert len(fake.sent_messages()) < TOTAL
        finally:
            await bot.session.close()
            await db.dispose()


@requires_postgres
async def test_a_pass_ending_mid_extension_ends_well(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keeper extends on the dispatch lock's session; a pass that ends while an
    extension is on the wire lets it finish rather than cut it off (which left the session
    unusable: the unlock failed, and a pass that had sent everything answered 500)."""
    monkeypatch.setattr(tick, "KEEP_EVERY", 0.001)
    extend = claims_repo.extend

    async def slow_extend(conn: Any, **kwargs: Any) -> None:
        await conn.execute(text("SELECT pg_sleep(0.2)"))  # an extension always on the wire
        await extend(conn, **kwargs)

    monkeypatch.setattr(claims_repo, "extend", slow_extend)
    async with throwaway_database("postgresql", tmp_path) as url, FakeTelegram() as fake:
        db = Database.from_url(url)
        bot = make_bot(fake, timeout=5)
        try:
            now = datetime.now(UTC)
            await seed_reminders(
                db, users_count=20, per_user=1, due_at=now - timedelta(minutes=1), now=now
            )
            sender = Sender(BotTransport(bot), SystemClock(), global_rate=1000, per_chat_rate=100)
            dispatcher = _dispatcher(db, sender, "steady")
            for _ in range(3):
                counts = await dispatcher.run_pass()  # raises if any pass fails
                assert not counts.busy  # the last pass's lock was given back
            assert len(fake.sent_messages()) == 20
        finally:
            await bot.session.close()
            await db.dispose()
