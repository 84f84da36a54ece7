"""What the reliability tests share: throw-away databases, fast seeding, real server processes
and the fake Bot API's messages read back as reminder ids.

Seeding goes straight to the tables (one lead per reminder, one step per lead, the lead's
plan active, the user reachable and unpaused), because building thousands of plans through
the services would cost more time than the behaviour under test.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import os
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.engine import URL, make_url

from app.db import migrate
from app.db.database import Database
from app.db.tables import lead_registry, users
from app.db.tables import scheduled_reminders as sr
from app.settings import Settings
from tests.conftest import ENGINES, PG_ADMIN_URL
from tests.support.fake_telegram import Call, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
INTERNAL_TOKEN = "reliability-internal-token"

requires_postgres = pytest.mark.skipif(
    "postgresql" not in ENGINES, reason="PostgreSQL is not among TEST_DATABASES"
)
requires_sqlite = pytest.mark.skipif(
    "sqlite" not in ENGINES, reason="SQLite is not among TEST_DATABASES"
)
# `slow` is only registered in pyproject (nothing deselects it), so the long variants skip
# themselves unless asked for: RUN_SLOW=1 uv run pytest tests/reliability
RUN_SLOW = os.environ.get("RUN_SLOW") == "1"
unless_run_slow = pytest.mark.skipif(not RUN_SLOW, reason="long variant; set RUN_SLOW=1")


# --- databases --------------------------------------------------------------------------


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_execute(sql: str) -> None:
    admin = make_url(PG_ADMIN_URL)
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(admin), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is not reachable at {admin.render_as_string()} ({exc})")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[URL]:
    """A migrated PostgreSQL database of its own, dropped afterwards (even if a server that
    used it is still connected: WITH (FORCE))."""
    name = f"eplan_rel_{uuid.uuid4().hex[:10]}"
    await _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
        db = Database.from_url(url)
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()
        yield url
    finally:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def throwaway_sqlite(directory: Path) -> URL:
    url = make_url(f"sqlite+aiosqlite:///{directory / f'rel_{uuid.uuid4().hex[:8]}.db'}")
    db = Database.from_url(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()
    return url


@contextlib.asynccontextmanager
async def throwaway_database(engine: str, directory: Path) -> AsyncIterator[URL]:
    """A migrated database of its own on `engine`: PostgreSQL's dropped afterwards,
    SQLite's a file in `directory`."""
    if engine == "postgresql":
        async with throwaway_postgres() as url:
            yield url
    else:
        yield await throwaway_sqlite(directory)


# --- seeding ------------------------------------------------------------------------------


def plan_json(name: str) -> list[dict[str, Any]]:
    return [
        {
            "step_id": 1,
            "description": f"Call {name}",
            "timing": "Day 0",
            "delay_days": 0,
            "channel": "email",
            "suggested_text": f"Hello {name}",
            "status": "pending",
            "completed_at": None,
        }
    ]


async def seed_reminders(
    db: Database,
    *,
    users_count: int,
    per_user: int,
    due_at: datetime,
    now: datetime,
    first_user: int = 100_000,
) -> list[int]:
    """`users_count` users with `per_user` leads each, every lead one open step due at
    `due_at`. Returns the reminder ids, user by user."""
    user_rows = [
        {
            "telegram_id": first_user + u,
            "first_name": f"User {u}",
            "created_at": now,
            "updated_at": now,
        }
        for u in range(users_count)
    ]
    lead_rows = [
        {
            "telegram_id": first_user + u,
            "name": f"Lead {u}-{k}",
            "company": "Acme",
            "engagement_plan": plan_json(f"Lead {u}-{k}"),
            "plan_status": "active",
            "plan_started_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for u in range(users_count)
        for k in range(per_user)
    ]
    async with db.transaction() as conn:
        await conn.execute(insert(users), user_rows)
        leads = (
            await conn.execute(
                insert(lead_registry).returning(
                    lead_registry.c.id, lead_registry.c.telegram_id, sort_by_parameter_order=True
                ),
                lead_rows,
            )
        ).all()
        reminder_rows = [
            {
                "lead_id": lead_id,
                "telegram_id": telegram_id,
                "step_id": 1,
                "position": 0,
                "due_at": due_at,
                "planned_due_at": due_at,
                "status": "pending",
                "nudge_stage": 0,
                "next_action_at": due_at,
                "created_at": now,
                "updated_at": now,
            }
            for lead_id, telegram_id in leads
        ]
        ids = (
            await conn.execute(
                insert(sr).returning(sr.c.id, sort_by_parameter_order=True), reminder_rows
            )
        ).scalars()
        return list(ids)


@dataclass(frozen=True)
class ReminderState:
    status: str
    reminder_count: int
    claimed_by: str | None
    message_id: int | None


async def reminder_states(db: Database) -> dict[int, ReminderState]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(sr.c.id, sr.c.status, sr.c.reminder_count, sr.c.claimed_by, sr.c.message_id)
        )
        return {row.id: ReminderState(*row[1:]) for row in rows}


async def count_recorded(db: Database) -> int:
    """Reminders whose first message is recorded (the dispatcher wrote status 'sent')."""
    return sum(s.status == "sent" for s in (await reminder_states(db)).values())


async def all_recorded_and_free(db: Database, expected: int) -> bool:
    states = (await reminder_states(db)).values()
    return sum(s.status == "sent" and s.claimed_by is None for s in states) == expected


async def count_recorded_and_free(db: Database) -> int:
    """The same as `all_recorded_and_free` counts, in one cheap statement: polled while the
    fake Bot API in this process timestamps arrivals, so it must not hog the event loop."""
    async with db.read() as conn:
        found = await conn.execute(
            select(func.count())
            .select_from(sr)
            .where(sr.c.status == "sent", sr.c.claimed_by.is_(None))
        )
        return int(found.scalar_one())


async def expire_leases_of(db: Database, pid: int) -> int:
    """`expire_leases` for one dead process only (worker ids are `host:pid:random`), so the
    claims of the replica still running stay its own."""
    async with db.transaction() as conn:
        result: CursorResult[Any] = await conn.execute(
            update(sr)
            .where(sr.c.claimed_by.like(f"%:{pid}:%"))
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        return result.rowcount or 0


async def expire_leases(db: Database) -> int:
    """What two minutes of waiting would do to the leases a dead process left behind."""
    async with db.transaction() as conn:
        result: CursorResult[Any] = await conn.execute(
            update(sr)
            .where(sr.c.claimed_by.is_not(None))
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        return result.rowcount or 0


# --- the fake Bot API's messages -----------------------------------------------------------


def done_ids(call: Call) -> list[int]:
    """Reminder ids of the ✅ Done buttons under a sent message (one per single reminder)."""
    markup = call.params.get("reply_markup")
    found: list[int] = []
    if not isinstance(markup, dict):
        return found
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if isinstance(data, str) and data.startswith("eplan:done:"):
                found.append(int(data.rsplit(":", 1)[1]))
    return found


def sends_per_reminder(calls: Iterable[Call]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for call in calls:
        counts.update(done_ids(call))
    return counts


def busiest_windows(calls: Iterable[Call]) -> tuple[int, int, float]:
    """The most `sendMessage` requests that reached the fake Bot API within one second, in
    all and to one chat, and when (time.monotonic()) the busiest window in all began: every
    window [t, t + 1 s) that starts at an arrival is counted (a window holding the most
    arrivals can always be slid to start at one). Refused requests count too; Telegram
    counts them against the limit as well."""
    everything: list[float] = []
    by_chat: dict[object, list[float]] = {}
    for call in calls:
        if call.method.lower() != "sendmessage":
            continue
        everything.append(call.at)
        by_chat.setdefault(call.chat_id, []).append(call.at)
    busiest, began = _densest(everything)
    per_chat = max((_densest(times)[0] for times in by_chat.values()), default=0)
    return busiest, per_chat, began


def _densest(times: list[float]) -> tuple[int, float]:
    times = sorted(times)
    best, began = 0, 0.0
    for i, start in enumerate(times):
        count = bisect.bisect_left(times, start + 1.0, lo=i) - i
        if count > best:
            best, began = count, start
    return best, began


@contextlib.contextmanager
def steady_fake() -> Iterator[None]:
    """While the fake Bot API in this process timestamps arrivals, keep the garbage
    collector from stalling it. A full collection walks the whole heap (aiogram's and
    pydantic's models, SQLAlchemy, and by the end of a long run the fake's own record of
    10,000 calls) and stalls this event loop for 100-200 ms; the requests that queued
    meanwhile are then stamped as one burst, a rate the server never sent (seen: 22
    messages within 7 ms after a 203 ms collection). For the few minutes of a run nothing
    is collected; reference counting still frees what is no longer used."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _around(calls: list[Call], began: float) -> str:
    """The arrivals just before and at the start of a window: a long gap followed by a
    burst is a stall of whoever stamped them."""
    times = sorted(c.at for c in calls if c.method.lower() == "sendmessage")
    i = bisect.bisect_left(times, began)
    gaps = [
        round((b - a) * 1000, 1)
        for a, b in zip(times[max(0, i - 5) : i + 10], times[max(1, i - 4) : i + 11], strict=False)
    ]
    return f"gaps in ms around its start: {gaps}"


def assert_within_rates(
    calls: Iterable[Call], env: Mapping[str, str], *, since: float = 0.0, context: str = ""
) -> tuple[int, int]:
    """Every one-second window of arrivals at the fake Bot API within SEND_RATE_GLOBAL in
    all and SEND_RATE_PER_CHAT per chat, with nothing over; returns the busiest windows."""
    global_rate = float(env["SEND_RATE_GLOBAL"])
    per_chat_rate = float(env["SEND_RATE_PER_CHAT"])
    calls = list(calls)
    busiest, busiest_chat, began = busiest_windows(calls)
    assert busiest <= global_rate, (
        f"{busiest} messages in one second (limit {global_rate:g}) from "
        f"{began - since:.2f} s ({_around(calls, began)}); {context}"
    )
    assert busiest_chat <= per_chat_rate, (
        f"{busiest_chat} messages to one chat in one second (limit {per_chat_rate:g}); {context}"
    )
    return busiest, busiest_chat


# --- real server processes ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def dispatch_env(fake: FakeTelegram, **overrides: str) -> dict[str, str]:
    """A server that dispatches to `fake`, paced fast enough for a test."""
    env = {
        "SCHEDULER_ENABLED": "true",
        "SCHEDULER_MAX_SLEEP": "1",
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.base_url,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "SEND_RATE_GLOBAL": "200",
        "SEND_RATE_PER_CHAT": "50",
        "REMINDERS_PER_USER_PER_TICK": "50",
    }
    env.update(overrides)
    return env


def _server_env(database_url: URL, extra: Mapping[str, str]) -> dict[str, str]:
    # Settings this shell exports (a real token, another DATABASE_URL) must not leak in.
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(
        {
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "AUTO_MIGRATE": "false",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    name: str
    process: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            content = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(content.splitlines()[-lines:])


async def start_server(
    name: str,
    database_url: URL,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    ready_within: float = 60.0,
) -> ServerProcess:
    """`python -m uvicorn app.main:app` on a free port, returned once /healthz answers 200.

    The interpreter is the venv's own, started directly (not through `uv run`), so the pid
    is the server's and a SIGKILL reaches exactly it.
    """
    port = free_port()
    log_path = log_dir / f"server-{name}-{port}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            cwd=ROOT,
            env=_server_env(database_url, env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    server = ServerProcess(name, process, port, log_path)
    try:
        await _wait_healthy(server, ready_within)
    except BaseException:
        await stop_server(server)
        raise
    return server


async def _wait_healthy(server: ServerProcess, ready_within: float) -> None:
    deadline = time.monotonic() + ready_within
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
        while True:
            if not server.alive:
                raise AssertionError(
                    f"server {server.name} exited with {server.process.returncode} before it "
                    f"was ready:\n{server.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{server.url}/healthz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"server {server.name} not healthy after {ready_within:.0f} s:\n"
                    f"{server.log_tail()}"
                )
            await asyncio.sleep(0.05)


async def stop_server(server: ServerProcess, grace: float = 20.0) -> None:
    """SIGTERM (the lifespan finishes the pass in flight), SIGKILL if that takes too long.
    Always reaps the process; safe to call twice."""
    process = server.process
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    await process.wait()


async def kill_server(server: ServerProcess) -> None:
    """SIGKILL: no lifespan shutdown, no finally blocks, leases left behind."""
    with contextlib.suppress(ProcessLookupError):
        server.process.kill()
    await server.process.wait()


@contextlib.asynccontextmanager
async def servers_stopped_at_exit() -> AsyncIterator[list[ServerProcess]]:
    """A list to put started servers in; every one of them is stopped when the block ends."""
    started: list[ServerProcess] = []
    try:
        yield started
    finally:
        await asyncio.gather(*(stop_server(s) for s in started), return_exceptions=True)
        for server in started:
            await server.process.wait()


async def start_and_drain(
    name: str,
    database_url: URL,
    env: Mapping[str, str],
    log_dir: Path,
    servers: list[ServerProcess],
    db: Database,
    total: int,
    *,
    interval: float = 0.1,
) -> ServerProcess:
    """Start a server (kept in `servers`, so it is stopped at exit) and wait until it has
    recorded all `total` reminders."""
    server = await start_server(name, database_url, env, log_dir)
    servers.append(server)
    await wait_until(
        lambda: all_recorded_and_free(db, total),
        within=90,
        what=f"all {total} reminders recorded",
        servers=[server],
        interval=interval,
    )
    return server


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    *,
    within: float,
    what: str,
    servers: Iterable[ServerProcess] = (),
    interval: float = 0.1,
) -> float:
    """Poll `condition` until true; returns the seconds it took. A server that died while
    waiting fails the test at once, with its log."""
    started = time.monotonic()
    watched = list(servers)
    while True:
        if await condition():
            return time.monotonic() - started
        for server in watched:
            if not server.alive:
                raise AssertionError(
                    f"server {server.name} died ({server.process.returncode}) while waiting "
                    f"for {what}:\n{server.log_tail()}"
                )
        if time.monotonic() - started > within:
            logs = "\n\n".join(f"--- {s.name} ---\n{s.log_tail()}" for s in watched)
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}\n{logs}")
        await asyncio.sleep(interval)


def metric_value(exposition: str, name: str, labels: str = "") -> float:
    """One sample from Prometheus' text format, 0 when absent."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in exposition.splitlines():
        key, _, value = line.rpartition(" ")
        if key == wanted:
            return float(value)
    return 0.0
