"""A crash loop: two replicas on one PostgreSQL database, their loops on and cron ticks
arriving at both, while one of them is killed with SIGKILL and restarted again and again at
random (seeded) moments. All reminders are due at once, so one replica holds the dispatch
lock and sends at full pace while the other answers "busy"; at each moment the one sending
is killed, and the other takes over at once, under load.

What must hold: every reminder's first message goes out; a reminder goes out again only if
it was in flight at a kill (sent by the dead process, not yet recorded), and then once more
per such kill; each kill repeats at most SEND_CONCURRENCY messages; and the two replicas
together never exceed either send limit in any one second, across every handover.

The dead process's leases would free its claims two minutes later; each kill moves that
process's leases (and only its) into the past, which is what those two minutes would do.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.db.database import Database
from app.scheduler.tick import SEND_CONCURRENCY
from tests.reliability.support import (
    INTERNAL_TOKEN,
    ServerProcess,
    assert_within_rates,
    count_recorded_and_free,
    dispatch_env,
    expire_leases_of,
    kill_server,
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


@dataclass
class Kill:
    at: float  # seconds into the run
    pid: int
    in_flight: set[int]  # delivered by the dead process, not recorded when it died


async def _first_sent(http: httpx.AsyncClient, server: ServerProcess) -> float:
    with contextlib.suppress(httpx.HTTPError):
        response = await http.get(f"{server.url}/metrics")
        return metric_value(response.text, "eplan_messages_sent_total", 'kind="first"')
    return -1.0


async def _the_sender(
    http: httpx.AsyncClient, servers: list[ServerProcess], within: float
) -> ServerProcess | None:
    """The replica seen sending (its count of first reminders moves), if one is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    before = [await _first_sent(http, s) for s in servers]
    while loop.time() < deadline:
        await asyncio.sleep(0.02)
        now = [await _first_sent(http, s) for s in servers]
        for server, was, is_ in zip(servers, before, now, strict=True):
            if is_ != was:
                return server
        before = now
    return None


async def _crash_loop(
    tmp_path: Path,
    *,
    users: int,
    per_user: int,
    pace: dict[str, str],
    kills: int,
    seed: int,
    within: float,
) -> None:
    total = users * per_user
    rng = random.Random(seed)
    async with throwaway_postgres() as url, FakeTelegram() as fake:
        db = Database.from_url(url)
        env = dispatch_env(fake, **pace)
        # Telegram answers in 50-200 ms; the dispatcher records a message right after its
        # answer, so with instant answers a kill would almost never find one in flight.
        fake.delay = 0.2
        history: list[Kill] = []
        in_flight_before: Counter[int] = Counter()
        try:
            with steady_fake():
                async with (
                    servers_stopped_at_exit() as servers,
                    httpx.AsyncClient(timeout=30.0, trust_env=False) as http,
                ):
                    servers.extend(
                        await asyncio.gather(
                            start_server("a", url, env, tmp_path),
                            start_server("b", url, env, tmp_path),
                        )
                    )
                    now = datetime.now(UTC)
                    ids = await seed_reminders(
                        db,
                        users_count=users,
                        per_user=per_user,
                        due_at=now - timedelta(minutes=1),
                        now=now,
                    )

                    async def cron() -> None:
                        while True:
                            for server in list(servers):
                                with contextlib.suppress(httpx.HTTPError):
                                    await http.post(
                                        f"{server.url}/internal/tick",
                                        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
                                    )
                            await asyncio.sleep(rng.uniform(0.2, 1.0))

                    loop = asyncio.get_running_loop()
                    started = began = loop.time()
                    ticks = asyncio.create_task(cron())
                    try:
                        for _ in range(kills):
                            await asyncio.sleep(rng.uniform(0.5, 3.0))
                            victim = await _the_sender(http, servers, within=5.0)
                            assert victim is not None, "nobody is sending any more"
                            pid = victim.process.pid
                            await kill_server(victim)
                            at = loop.time() - started
                            await asyncio.sleep(0.3)  # a request on the wire still arrives
                            delivered = sends_per_reminder(fake.sent_messages())
                            states = await reminder_states(db)
                            # Claimed by the dead process, unrecorded, and delivered once
                            # more than the earlier kills account for: the dead one sent it.
                            # (Delivered by an earlier victim and merely re-claimed is not.)
                            in_flight = {
                                rid
                                for rid, times in delivered.items()
                                if states[rid].status != "sent"
                                and f":{pid}:" in (states[rid].claimed_by or "")
                                and times > in_flight_before[rid]
                            }
                            in_flight_before.update(in_flight)
                            history.append(Kill(at, pid, in_flight))
                            # The survivor takes over while the dead leases still live, as
                            # it would in the two minutes they really last.
                            await asyncio.sleep(1.5)
                            await expire_leases_of(db, pid)
                            servers.remove(victim)
                            servers.append(await start_server(victim.name, url, env, tmp_path))

                        async def everything_recorded() -> bool:
                            return await count_recorded_and_free(db) == total

                        await wait_until(
                            everything_recorded,
                            within=within,
                            what=f"all {total} reminders recorded",
                            servers=servers,
                            interval=0.25,
                        )
                        await asyncio.sleep(2.5)  # two more loop periods: nothing else goes out
                    finally:
                        ticks.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await ticks
        finally:
            await db.dispose()

    sends = sends_per_reminder(fake.sent_messages())
    caught = [len(k.in_flight) for k in history]
    summary = f"kills at {[round(k.at, 1) for k in history]} s caught {caught} in flight"
    assert set(sends) == set(ids), "a reminder was never sent"
    # Exactly once, plus once more for every kill that caught it in flight: nothing the
    # dead process had recorded, and nothing it had not sent, went out again.
    in_flight_at: Counter[int] = Counter()
    for kill in history:
        in_flight_at.update(kill.in_flight)
    wrong = {rid: n for rid, n in sends.items() if n != 1 + in_flight_at[rid]}
    assert not wrong, f"{dict(list(wrong.items())[:20])}; {summary}"
    assert max(caught) <= SEND_CONCURRENCY, summary
    assert any(caught), f"no kill landed mid-dispatch: {summary}"
    busiest = assert_within_rates(fake.calls, env, since=began, context=summary)
    # Recorded in tests/reliability/RESULTS.md.
    print(f"\ncrash loop figures: {summary}; busiest second in all and per chat {busiest}")


async def test_the_sending_replica_killed_three_times(tmp_path: Path) -> None:
    # Telegram's own default pace, 30/s and 1/s per chat: 500 reminders take ~17 s.
    await _crash_loop(
        tmp_path,
        users=100,
        per_user=5,
        pace={"SEND_RATE_GLOBAL": "30", "SEND_RATE_PER_CHAT": "1"},
        kills=3,
        seed=3,
        within=60,
    )


@pytest.mark.slow
@unless_run_slow
async def test_the_sending_replica_killed_ten_times_among_ten_thousand(tmp_path: Path) -> None:
    await _crash_loop(
        tmp_path,
        users=2000,
        per_user=5,
        pace={"SEND_RATE_GLOBAL": "100", "SEND_RATE_PER_CHAT": "4"},
        kills=10,
        seed=10,
        within=180,
    )
