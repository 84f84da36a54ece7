"""Two real server processes on one PostgreSQL database, both with their dispatch loop on,
both hammered with POST /internal/tick while they work: every reminder goes out exactly
once, through the real aiogram Bot, to the fake Bot API running in this test."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from app.db.database import Database
from app.scheduler.tick import PassCounts
from tests.reliability.support import (
    INTERNAL_TOKEN,
    ServerProcess,
    assert_within_rates,
    count_recorded_and_free,
    dispatch_env,
    done_ids,
    metric_value,
    reminder_states,
    requires_postgres,
    seed_reminders,
    sends_per_reminder,
    servers_stopped_at_exit,
    start_server,
    steady_fake,
    throwaway_postgres,
    unless_run_slow,
    wait_until,
)
from tests.support.fake_telegram import FakeTelegram

pytestmark = requires_postgres

COUNT_KEYS = set(PassCounts.__dataclass_fields__)
# The global limit binds (32 users served at once × 4/s each would be 128/s), and a user's
# 5 reminders need more than one second at 4/s: both limits are met, neither is idle.
PACE = {"SEND_RATE_GLOBAL": "100", "SEND_RATE_PER_CHAT": "4"}


async def fully_recorded(db: Database, total: int) -> bool:
    return await count_recorded_and_free(db) == total


async def _tick_burst(
    http: httpx.AsyncClient, servers: list[ServerProcess], per_server: int
) -> list[tuple[str, int, Any]]:
    async def tick(server: ServerProcess) -> tuple[str, int, Any]:
        response = await http.post(
            f"{server.url}/internal/tick", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
        )
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return server.name, response.status_code, body

    return await asyncio.gather(*(tick(s) for s in servers for _ in range(per_server)))


async def _run_replicas(
    tmp_path: Path, *, replicas: int, users: int, per_user: int, waves: int
) -> None:
    async with throwaway_postgres() as url, FakeTelegram() as fake:
        db = Database.from_url(url)
        try:
            with steady_fake():
                await _scenario(tmp_path, url, db, fake, replicas, users, per_user, waves)
        finally:
            await db.dispose()


async def _scenario(
    tmp_path: Path,
    url: URL,
    db: Database,
    fake: FakeTelegram,
    replicas: int,
    users: int,
    per_user: int,
    waves: int,
) -> None:
    total = users * per_user
    env = dispatch_env(fake, **PACE)
    answers: list[tuple[str, int, Any]] = []
    async with (
        servers_stopped_at_exit() as servers,
        httpx.AsyncClient(timeout=300.0, trust_env=False) as http,
    ):
        started = await asyncio.gather(
            *(start_server(f"r{i}", url, env, tmp_path) for i in range(replicas)),
            return_exceptions=True,
        )
        servers.extend(s for s in started if isinstance(s, ServerProcess))
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        # Seeded once all are up (however long that took): their loops, looking every
        # second, race for the first pass while the ticks start arriving.
        now = datetime.now(UTC)
        ids = await seed_reminders(
            db, users_count=users, per_user=per_user, due_at=now - timedelta(minutes=1), now=now
        )

        async def bursts() -> None:
            for _ in range(waves):
                answers.extend(await _tick_burst(http, servers, per_server=6))
                await asyncio.sleep(0.5)

        burst_task = asyncio.create_task(bursts())
        try:
            await wait_until(
                lambda: fully_recorded(db, total),
                within=max(120.0, total / 60),  # 100/s at best; 10,000 take ~105 s
                what=f"all {total} reminders recorded as sent",
                servers=servers,
                interval=0.25,
            )
            await burst_task
        finally:
            if not burst_task.done():
                burst_task.cancel()
            await asyncio.gather(burst_task, return_exceptions=True)
        # Two more loop periods (SCHEDULER_MAX_SLEEP=1) and a last burst: nothing more goes out.
        await asyncio.sleep(2.5)
        answers.extend(await _tick_burst(http, servers, per_server=3))
        metrics = [(await http.get(f"{s.url}/metrics")).text for s in servers]

    messages = fake.sent_messages()
    sends = sends_per_reminder(messages)
    assert all(len(done_ids(m)) == 1 for m in messages), "a digest or a message without a step"
    assert len(messages) == total, f"{len(messages)} messages for {total} reminders"
    assert set(sends) == set(ids)
    twice = {rid: n for rid, n in sends.items() if n != 1}
    assert not twice, f"sent more than once: {dict(list(twice.items())[:20])}"
    assert not [c for c in fake.calls_to("sendMessage") if not c.ok], "a refused send"
    # Together, by the fake's arrival times: never over either limit in any one second.
    busiest = assert_within_rates(fake.calls, env)
    print(f"\nreplicas figures: {total} reminders, busiest second in all and per chat {busiest}")

    assert answers
    assert all(status == 200 for _, status, _ in answers), answers[:5]
    for _, _, body in answers:
        assert isinstance(body, dict), body
        assert set(body) == COUNT_KEYS, body
        assert all(isinstance(v, int) for v in body.values()), body
    # While one replica held the dispatch lock the other answered "busy" at once.
    assert any(body["busy"] for _, _, body in answers), "no tick ever met the lock"

    states = await reminder_states(db)
    assert {rid: (s.status, s.reminder_count) for rid, s in states.items()} == {
        rid: ("sent", 1) for rid in ids
    }
    assert all(s.message_id is not None and s.claimed_by is None for s in states.values())
    # Each replica's own count of first reminders; together they sent each one once.
    sent_by = [metric_value(m, "eplan_messages_sent_total", 'kind="first"') for m in metrics]
    assert sum(sent_by) == total, sent_by


async def test_two_replicas_and_a_tick_storm_send_each_reminder_once(tmp_path: Path) -> None:
    await _run_replicas(tmp_path, replicas=2, users=400, per_user=5, waves=3)


@pytest.mark.slow
@unless_run_slow
async def test_three_replicas_ten_thousand_reminders(tmp_path: Path) -> None:
    await _run_replicas(tmp_path, replicas=3, users=2000, per_user=5, waves=20)
