"""The database goes away in the middle of a dispatch, then comes back.

PostgreSQL "restarts": the server reaches it through a TCP proxy of this test's own
(tests/reliability/pg_proxy.py), which cuts every connection, refuses new ones for a few
seconds, then accepts again; the shared cluster is never touched. SQLite is locked: another
connection holds the write lock (BEGIN IMMEDIATE) for longer than the busy timeout.

While it lasts, GET /healthz answers 503 and an API write a clear 503 with Retry-After (not a
500). Afterwards the service recovers by itself: /healthz is 200 again, the loop's LISTEN
connection is back, and every reminder goes out. Messages that were sent but not yet
recorded when the database went away go out once more (the dispatcher cannot know Telegram
took them); at most SEND_CONCURRENCY of them, as for a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.db.database import Database
from app.scheduler.tick import SEND_CONCURRENCY
from tests.reliability.pg_proxy import PgProxy
from tests.reliability.support import (
    HOST,
    ServerProcess,
    count_recorded_and_free,
    dispatch_env,
    reminder_states,
    requires_postgres,
    requires_sqlite,
    seed_reminders,
    sends_per_reminder,
    servers_stopped_at_exit,
    start_server,
    throwaway_postgres,
    throwaway_sqlite,
    wait_until,
)
from tests.support.fake_telegram import FakeTelegram
from tests.support.initdata import default_user, sign

USERS = 300  # one reminder each, at 30 messages a second: ~10 s of dispatching
PACE = {"SEND_RATE_GLOBAL": "30", "SEND_RATE_PER_CHAT": "1"}


@dataclass
class DuringFault:
    health: list[int] = field(default_factory=list)
    write_status: int = 0
    write_retry_after: str | None = None
    write_detail: object = None


async def _watch(http: httpx.AsyncClient, server: ServerProcess, seen: DuringFault) -> None:
    while True:
        with contextlib.suppress(httpx.HTTPError):
            seen.health.append((await http.get(f"{server.url}/healthz")).status_code)
        await asyncio.sleep(0.25)


async def _write(
    http: httpx.AsyncClient, server: ServerProcess, token: str, seen: DuringFault
) -> None:
    init = sign(token=token, user=default_user(4242), auth_date=int(time.time()))
    response = await http.patch(
        f"{server.url}/me",
        json={"work_end": "17:00"},
        headers={"Authorization": f"tma {init}"},
    )
    seen.write_status = response.status_code
    seen.write_retry_after = response.headers.get("retry-after")
    with contextlib.suppress(ValueError):
        seen.write_detail = response.json()


async def _fault_mid_dispatch(
    tmp_path: Path,
    url: URL,
    server_url: URL,
    fault: Callable[[], contextlib.AbstractAsyncContextManager[None]],
    *,
    listening: Callable[[Database], Awaitable[bool]] | None = None,
) -> DuringFault:
    seen = DuringFault()
    async with FakeTelegram() as fake:
        fake.delay = 0.05
        db = Database.from_url(url)  # the test's own way in, around the fault
        try:
            now = datetime.now(UTC)
            ids = await seed_reminders(
                db, users_count=USERS, per_user=1, due_at=now - timedelta(minutes=1), now=now
            )
            env = dispatch_env(fake, **PACE)
            async with (
                servers_stopped_at_exit() as servers,
                httpx.AsyncClient(timeout=30.0, trust_env=False) as http,
            ):
                server = await start_server("faulty", server_url, env, tmp_path)
                servers.append(server)

                async def some_sent() -> bool:
                    return len(fake.sent_messages()) >= 60

                await wait_until(some_sent, within=30, what="60 sends", servers=servers)
                recorded_before = {
                    rid for rid, s in (await reminder_states(db)).items() if s.status == "sent"
                }
                watcher = asyncio.create_task(_watch(http, server, seen))
                try:
                    async with fault():
                        await asyncio.sleep(2.5)  # a health probe's time limit is 2 s
                        await _write(http, server, fake.token, seen)
                        unhealthy_during = list(seen.health)
                    sent_during = set(sends_per_reminder(fake.sent_messages()))
                finally:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher

                async def healthy() -> bool:
                    with contextlib.suppress(httpx.HTTPError):
                        return (await http.get(f"{server.url}/healthz")).status_code == 200
                    return False

                recovered_in = await wait_until(
                    healthy, within=15, what="healthy again", servers=servers
                )
                if listening is not None:
                    await wait_until(
                        lambda: listening(db), within=15, what="LISTEN again", servers=servers
                    )

                async def everything_recorded() -> bool:
                    return await count_recorded_and_free(db) == USERS

                await wait_until(
                    everything_recorded,
                    within=60,
                    what=f"all {USERS} reminders recorded",
                    servers=servers,
                    interval=0.25,
                )
                await asyncio.sleep(1.5)  # one more loop period: nothing else goes out
                assert server.alive
        finally:
            await db.dispose()

    assert 503 in unhealthy_during, f"never unhealthy while the database was away: {seen}"
    assert recovered_in < 15
    assert seen.write_status == 503, seen
    assert seen.write_retry_after is not None, seen
    assert isinstance(seen.write_detail, dict), seen
    assert seen.write_detail.get("detail") == "database unavailable, try again shortly", seen
    sends = sends_per_reminder(fake.sent_messages())
    assert set(sends) == set(ids), "a reminder was never sent"
    twice = {rid for rid, n in sends.items() if n > 1}
    # Only what had gone out without being recorded when the database went away.
    assert twice <= sent_during - recorded_before, twice
    assert len(twice) <= SEND_CONCURRENCY, twice
    return seen


@requires_postgres
async def test_postgres_restarted_mid_dispatch(tmp_path: Path) -> None:
    async with throwaway_postgres() as url, PgProxy(url.host or HOST, url.port or 5432) as proxy:

        @contextlib.asynccontextmanager
        async def restart() -> AsyncIterator[None]:
            down = asyncio.create_task(proxy.outage(4.0))
            try:
                yield
            finally:
                await down

        async def listening(db: Database) -> bool:
            async with db.read() as conn:
                found = await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query LIKE 'LISTEN %'"
                    )
                )
                return bool(found.scalar_one())

        await _fault_mid_dispatch(
            tmp_path,
            url,
            url.set(host=HOST, port=proxy.port),
            restart,
            listening=listening,
        )
        assert proxy.outages == 1


@requires_sqlite
async def test_sqlite_locked_by_another_writer(tmp_path: Path) -> None:
    url = await throwaway_sqlite(tmp_path)
    assert url.database is not None
    path = url.database

    @contextlib.asynccontextmanager
    async def locked() -> AsyncIterator[None]:
        # Longer than the busy timeout (5 s): writers give up, not merely wait.
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
            started = time.monotonic()
            yield
            await asyncio.sleep(max(0.0, 8.0 - (time.monotonic() - started)))
        finally:
            other.execute("ROLLBACK")
            other.close()

    await _fault_mid_dispatch(tmp_path, url, url, locked)
