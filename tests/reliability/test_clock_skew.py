"""Replicas whose clocks disagree. Every time the dispatcher compares with is its own
clock's (no SQL `now()`), so a clock 5 minutes fast may send up to 5 minutes early but never
a reminder 10 minutes ahead, and a clock 5 minutes slow sends late but once. Side by side,
the first to see the step due sends it and the other finds it done.

Lease expiry is judged on the claimer's clock too, so leases alone would not protect a
replica whose clock is more than LEASE behind another's; the dispatch lock (one pass at a
time, across replicas) does, and the last test shows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_activity_log
from app.db.tables import scheduled_reminders as sr
from app.links import Links
from app.scheduler.metrics import DispatchMetrics
from app.scheduler.tick import Dispatcher
from app.telegram.sender import BotTransport, Sender
from tests.reliability.support import done_ids, requires_postgres, seed_reminders
from tests.support.fake_telegram import FakeTelegram, make_bot

pytestmark = requires_postgres

REAL = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, inside default working hours
DUE = REAL + timedelta(minutes=10)
SKEW = timedelta(minutes=5)


@dataclass
class Replica:
    name: str
    skew: timedelta
    clock: ManualClock
    dispatcher: Dispatcher

    def at(self, real: datetime) -> None:
        self.clock.set(real + self.skew)


@dataclass
class World:
    fake: FakeTelegram
    replicas: dict[str, Replica]

    def at(self, real: datetime) -> None:
        for replica in self.replicas.values():
            replica.at(real)


@asynccontextmanager
async def world(db: Database, **skews: timedelta) -> AsyncIterator[World]:
    """A dispatcher per named skew, all on `db`, all sending to one fake Bot API."""
    async with FakeTelegram() as fake:
        bot = make_bot(fake, timeout=5)
        try:
            replicas: dict[str, Replica] = {}
            for name, skew in skews.items():
                clock = ManualClock(REAL + skew)
                dispatcher = Dispatcher(
                    db=db,
                    clock=clock,
                    sender=Sender(BotTransport(bot), clock, global_rate=1000, per_chat_rate=1000),
                    metrics=DispatchMetrics(),
                    per_user_cap=3,
                    links=Links(),
                    worker_id=f"replica-{name}",
                )
                replicas[name] = Replica(name, skew, clock, dispatcher)
            yield World(fake, replicas)
        finally:
            await bot.session.close()


async def _one_reminder_due_in_ten_minutes(db: Database) -> int:
    [rid] = await seed_reminders(db, users_count=1, per_user=1, due_at=DUE, now=REAL)
    return rid


async def _row(db: Database, rid: int) -> dict[str, object]:
    async with db.read() as conn:
        row = (await conn.execute(select(sr).where(sr.c.id == rid))).one()
        return dict(row._mapping)


async def _sent_records(db: Database) -> int:
    async with db.read() as conn:
        rows = await conn.execute(
            select(lead_activity_log.c.id).where(
                lead_activity_log.c.activity_type == "step_reminder_sent"
            )
        )
        return len(rows.all())


def _minutes(start: int, stop: int) -> list[datetime]:
    return [REAL + timedelta(minutes=m) for m in range(start, stop + 1)]


async def test_a_clock_five_minutes_fast_never_sends_a_reminder_ten_minutes_ahead(
    pg: Database,
) -> None:
    rid = await _one_reminder_due_in_ten_minutes(pg)
    async with world(pg, fast=SKEW) as w:
        fast = w.replicas["fast"].dispatcher
        w.at(REAL)
        assert (await fast.run_pass()).due == 0
        w.at(REAL + timedelta(minutes=4, seconds=59))
        assert (await fast.run_pass()).due == 0
        assert w.fake.sent_messages() == []
        # Its clock says the step is due once real time is within the skew of the due time:
        # early by the skew, never more.
        w.at(REAL + timedelta(minutes=5))
        assert (await fast.run_pass()).sent == 1
        for real in _minutes(6, 30):
            w.at(real)
            assert (await fast.run_pass()).due == 0
        assert [done_ids(c) for c in w.fake.sent_messages()] == [[rid]]
    row = await _row(pg, rid)
    assert (row["status"], row["reminder_count"]) == ("sent", 1)


async def test_a_clock_five_minutes_slow_sends_later_and_once(pg: Database) -> None:
    rid = await _one_reminder_due_in_ten_minutes(pg)
    async with world(pg, slow=-SKEW) as w:
        slow = w.replicas["slow"].dispatcher
        sent_at: list[datetime] = []
        for real in _minutes(0, 40):
            w.at(real)
            if (await slow.run_pass()).sent:
                sent_at.append(real)
        assert sent_at == [DUE + SKEW]
        assert [done_ids(c) for c in w.fake.sent_messages()] == [[rid]]
    row = await _row(pg, rid)
    assert (row["status"], row["reminder_count"]) == ("sent", 1)
    assert row["last_reminded_at"] == DUE  # the slow clock's reading when it sent
    assert await _sent_records(pg) == 1


async def test_fast_and_slow_replicas_side_by_side_send_once(pg: Database) -> None:
    rid = await _one_reminder_due_in_ten_minutes(pg)
    async with world(pg, fast=SKEW, slow=-SKEW, exact=timedelta(0)) as w:
        order = list(w.replicas.values())
        for minute, real in enumerate(_minutes(0, 40)):
            w.at(real)
            # Sometimes one after the other (in turn), sometimes all at once.
            if minute % 2:
                await asyncio.gather(*(r.dispatcher.run_pass() for r in order))
            else:
                for replica in order:
                    await replica.dispatcher.run_pass()
            order = order[1:] + order[:1]
        assert [done_ids(c) for c in w.fake.sent_messages()] == [[rid]]
        sent_by = {
            name: r.dispatcher.metrics.registry.get_sample_value(
                "eplan_messages_sent_total", {"kind": "first"}
            )
            or 0
            for name, r in w.replicas.items()
        }
    # The fast one saw it due first, at real +5 min, or at +6 if that minute's passes ran
    # together and another replica held the dispatch lock (it then answers busy).
    assert sent_by == {"fast": 1, "slow": 0, "exact": 0}
    row = await _row(pg, rid)
    assert (row["status"], row["reminder_count"]) == ("sent", 1)
    assert row["last_reminded_at"] in (DUE, DUE + timedelta(minutes=1))
    assert await _sent_records(pg) == 1


async def test_a_fast_replica_does_not_cut_into_a_slow_replicas_pass(pg: Database) -> None:
    rid = await _one_reminder_due_in_ten_minutes(pg)
    async with world(pg, fast=SKEW, slow=-SKEW) as w:
        fast, slow = w.replicas["fast"].dispatcher, w.replicas["slow"].dispatcher
        # Real time REAL + 15 min: the slow replica (at +10) claims and starts sending, and
        # Telegram takes a second to answer. Its lease ends at +12 by its clock, which the
        # fast replica (at +20) would call expired: only the dispatch lock keeps it out.
        w.at(DUE + SKEW)
        w.fake.delay = 1.0
        slow_pass = asyncio.create_task(slow.run_pass())
        try:
            for _ in range(200):
                if w.fake.calls_to("sendMessage"):
                    break
                await asyncio.sleep(0.01)
            assert w.fake.calls_to("sendMessage"), "the slow replica never started sending"
            assert (await fast.run_pass()).busy
        finally:
            counts = await slow_pass
        assert counts.sent == 1
        w.fake.delay = 0.0
        assert (await fast.run_pass()).due == 0
        assert [done_ids(c) for c in w.fake.sent_messages()] == [[rid]]
    row = await _row(pg, rid)
    assert (row["status"], row["reminder_count"]) == ("sent", 1)
