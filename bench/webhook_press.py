"""Issue 5's `Done` press end to end: Telegram's webhook in, the step transition, and the
answerCallbackQuery and editMessageText out to the Bot API, on the real server.

The server runs in telegram mode (a bot token), talking to the fake Bot API
(`tests.support.fake_telegram`), which runs in this process and records every call. The
reminders are first delivered through that fake by the real dispatcher (`POST
/internal/tick`), so each press carries the message Telegram would carry — text, entities and
the keyboard the bot sent — and the edit finds it. wrk then posts each press once, from 8
connections, in a shuffled order of thousands of distinct users and reminders.

The baseline, alternating with the presses, replays updates already handled: the webhook's
fixed cost (secret, JSON, Update validation, the dedupe transaction) without the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, text

from app.db.database import Database
from app.db.tables import users
from bench import harness, seed
from bench.harness import Load, Result, Server, Target
from tests.support.fake_telegram import FakeTelegram

NAME = "webhook_press"
LUA = harness.ROOT / "bench" / "lua" / "webhook_press.lua"
TEMPLATE_USER = 1
FIRST_USER = 2_000_000
USERS = 6_000
LEADS_PER_USER = 1
"""6,000 reminders delivered and pressed at most once each: enough for the warm-up and the
rounds at well over twice the target rate. One lead per user: see the note in `run`."""
FIRST_UPDATE_ID = 500_000_001
CONNECTIONS = 8
WARMUP_SECONDS = 2.0
ROUND_SECONDS = 3.0
ROUNDS = 3
SETTLE_WITHIN = 15.0
SETTLED_AFTER = 0.5

THROUGHPUT_TARGET = Target(
    words=(
        "a Done press end to end (webhook in -> transition -> answerCallbackQuery and "
        "editMessageText out to the Bot API): at least 300 per second in one process on "
        "PostgreSQL (SQLite measured for information)"
    ),
    op=">=",
    value=300.0,
    applies_to="measured_median",
)
# SQLite is measured for information: the targets are PostgreSQL's (one process there, as
# in production with several replicas). Its rows say so instead of failing a target that
# is not theirs.
SQLITE_THROUGHPUT = Target(
    words="the same on SQLite, for information (the 300/s target is PostgreSQL's)",
    op=">",
    value=0.0,
    applies_to="measured_median",
)
SQLITE_P99 = Target(
    words="the same on SQLite, for information (the 50 ms target is PostgreSQL's)",
    op=">",
    value=0.0,
    applies_to="measured_median",
)
P99_TARGET = Target(
    words=(
        "a Done press end to end: p99 of the webhook's response under 50 ms at that load "
        "(8 connections), on PostgreSQL (SQLite measured for information)"
    ),
    op="<",
    value=50.0,
    applies_to="measured_median",
)


@dataclass(frozen=True)
class Press:
    update_id: int
    chat_id: int
    reminder_id: int
    message_id: int
    body: str


@dataclass(frozen=True)
class Round:
    load: Load
    issued: int
    acted: int
    cpu_seconds: float
    """CPU the server process used during the round (user + system)."""

    def __str__(self) -> str:
        p99 = self.load.latency_p99_ms
        p99_words = f", p99 {p99:.1f} ms" if p99 is not None else ""
        cpu = (
            f", {1000 * self.cpu_seconds / self.acted:.2f} ms server CPU each" if self.acted else ""
        )
        return f"{self.load}{p99_words}, {self.acted} acted on of {self.issued} issued{cpu}"


# ---------------------------------------------------------------------------------------
# The server in telegram mode


async def start_server(database_url: str, extra_env: Mapping[str, str]) -> Server:
    """`uvicorn app.main:app` like `harness.start_server`, but expecting telegram mode."""
    port = harness.free_port()
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - outlives this function
        prefix="eplan_bench_server_", suffix=".log", delete=False
    )
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        str(harness._uvicorn()),
        "app.main:app",
        "--host",
        harness.HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        cwd=harness.ROOT,
        env=harness.server_env(database_url, extra_env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log_file,
        stderr=asyncio.subprocess.STDOUT,
    )
    log_file.close()
    server = Server(process, port, Path(log_file.name), ready_seconds=0.0, health={})
    try:
        while True:
            if process.returncode is not None:
                raise harness.BenchError(
                    f"the server exited with {process.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(OSError, TimeoutError):
                status, body = await harness.http_request(port, "/healthz")
                if status == 200:
                    server.ready_seconds = time.perf_counter() - started
                    server.health = json.loads(body) if body else {}
                    break
            if time.perf_counter() - started > 60:
                raise harness.BenchError(
                    "the server is not healthy after 60 s:\n" + server.log_tail()
                )
            await asyncio.sleep(0.02)
        if server.health.get("mode") != "telegram":
            raise harness.BenchError(f"the server started in {server.health.get('mode')!r} mode")
    except BaseException:
        await harness.stop_server(server)
        raise
    return server


@contextlib.asynccontextmanager
async def serve(database_url: str, extra_env: Mapping[str, str]) -> AsyncIterator[Server]:
    server = await start_server(database_url, extra_env)
    try:
        yield server
    finally:
        await harness.stop_server(server)


# ---------------------------------------------------------------------------------------
# Set-up: users with plans, their first steps delivered through the fake


async def seed_due_reminders(db: Database) -> None:
    """USERS users with LEADS_PER_USER six-step plans each, every first step due now."""
    now = datetime.now(UTC)
    template = await seed.make_template(db, TEMPLATE_USER, now)
    await seed.clone(
        db,
        template_user=TEMPLATE_USER,
        template_lead=template,
        first_user=FIRST_USER,
        user_count=USERS,
        leads_per_user=LEADS_PER_USER,
    )
    async with db.transaction() as conn:
        await conn.execute(delete(users).where(users.c.telegram_id == TEMPLATE_USER))
    last = FIRST_USER + USERS - 1
    changed = await seed.set_first_steps_due(db, FIRST_USER, last, now - timedelta(seconds=1))
    if changed != USERS * LEADS_PER_USER:
        raise harness.BenchError(f"{changed} first steps due; expected {USERS * LEADS_PER_USER}")
    await seed.analyze(db)


async def vacuum(db: Database) -> None:
    """After the delivery pass: its dead rows must not slow the rounds by chance of when
    autovacuum runs."""
    if db.is_postgres:
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))


async def deliver(port: int, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{harness.HOST}:{port}", timeout=600) as http:
        response = await http.post("/internal/tick", headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise harness.BenchError(f"/internal/tick answered {response.status_code}")
    counts: dict[str, Any] = response.json()
    return counts


_DONE = re.compile(r"^eplan:done:(\d+)$")


def presses_from(fake: FakeTelegram) -> list[Press]:
    """One Done press per reminder the fake delivered, as Telegram would post it: the
    callback data of the message's own Done button, the message itself as sent."""
    presses: list[Press] = []
    for call in fake.sent_messages():
        message: dict[str, Any] = call.result
        chat_id = int(message["chat"]["id"])
        done = [
            match.group(1)
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
            if (match := _DONE.match(str(button.get("callback_data", ""))))
        ]
        if len(done) != 1:
            raise harness.BenchError(f"message {message['message_id']} has no single Done button")
        presses.append(
            Press(
                update_id=0,
                chat_id=chat_id,
                reminder_id=int(done[0]),
                message_id=int(message["message_id"]),
                body=json.dumps(message, ensure_ascii=False),
            )
        )
    random.Random(5).shuffle(presses)
    return [_numbered(press, FIRST_UPDATE_ID + i) for i, press in enumerate(presses)]


def _numbered(press: Press, update_id: int) -> Press:
    message = json.loads(press.body)
    update = {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": {
                "id": press.chat_id,
                "is_bot": False,
                "first_name": "Ana",
                "language_code": "en",
            },
            "message": message,
            "chat_instance": str(press.chat_id),
            "data": f"eplan:done:{press.reminder_id}",
        },
    }
    return Press(
        update_id=update_id,
        chat_id=press.chat_id,
        reminder_id=press.reminder_id,
        message_id=press.message_id,
        body=json.dumps(update, ensure_ascii=False, separators=(",", ":")),
    )


# ---------------------------------------------------------------------------------------
# Load


_ISSUED = re.compile(r"^press-issued: (\d+)$", re.MULTILINE)
_OVERFLOW = re.compile(r"^press-overflow: (\d+)$", re.MULTILINE)


async def wrk(
    port: int, secret: str, bodies: Sequence[Press], *, cycle: bool, seconds: float, tmp: Path
) -> tuple[Load, int]:
    """wrk posting `bodies` in order (once each, or round and round); (load, issued)."""
    data = tmp / "bodies.jsonl"
    data.write_text("".join(press.body + "\n" for press in bodies), encoding="utf-8")
    argv = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        f"http://{harness.HOST}:{port}/telegram/webhook",
        "--",
        str(data),
        secret,
        "cycle" if cycle else "once",
    ]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out_bytes, _ = await process.communicate()
    out = out_bytes.decode(errors="replace")
    if process.returncode != 0:
        raise harness.BenchError(f"wrk failed ({process.returncode}):\n{out}")
    result = harness.parse_wrk(out)
    issued, overflow = _ISSUED.search(out), _OVERFLOW.search(out)
    if issued is None or overflow is None:
        raise harness.BenchError(f"the wrk script reported nothing:\n{out}")
    if int(overflow.group(1)):
        raise harness.BenchError(
            f"{len(bodies)} fresh presses ran out after {seconds:g} s; raise LEADS_PER_USER"
        )
    if result.errors or result.requests == 0:
        raise harness.BenchError(f"{result.errors} failed webhook posts:\n{out}")
    return result, int(issued.group(1))


# ---------------------------------------------------------------------------------------
# Checks: every press acted once, and only the presses did


async def completed(db: Database) -> int:
    return await seed.count(db, "status = 'completed'")


async def settle(fake: FakeTelegram, at_least: int, at_most: int) -> int:
    """How many presses the server acted on, once the fake's answerCallbackQuery count is
    between the two bounds, as many edits arrived, and nothing moved for a moment.

    wrk counts the answers it read; requests still in flight when its duration ends were
    sent but not counted, and the server may or may not act on them (uvicorn reports a
    client gone before the app read the body as a disconnect, and Telegram would redeliver)."""
    deadline = time.monotonic() + SETTLE_WITHIN
    previous, still_since = (-1, -1), time.monotonic()
    while True:
        got = len(fake.calls_to("answerCallbackQuery")), len(fake.calls_to("editMessageText"))
        now = time.monotonic()
        if got != previous:
            previous, still_since = got, now
        consistent = got[0] == got[1] and at_least <= got[0] <= at_most
        if consistent and (got[0] == at_most or now - still_since >= SETTLED_AFTER):
            return got[0]
        if got[0] > at_most or now > deadline:
            raise harness.BenchError(
                f"the fake got {got[0]} answerCallbackQuery and {got[1]} editMessageText; "
                f"expected between {at_least} and {at_most} of each"
            )
        await asyncio.sleep(0.05)


def check_calls(fake: FakeTelegram, presses: Sequence[Press]) -> None:
    """One answer "✅ Done" per press, to that press's query, and one successful edit of
    that press's message."""
    answers = fake.calls_to("answerCallbackQuery")
    expected = {f"cq{press.update_id}" for press in presses}
    got = [call.params.get("callback_query_id") for call in answers]
    if len(got) != len(expected) or set(got) != expected:
        raise harness.BenchError("answerCallbackQuery calls do not match the presses one to one")
    wrong = [c for c in answers if not c.ok or c.params.get("text") != "✅ Done"]
    if wrong:
        raise harness.BenchError(
            f"{len(wrong)} presses were not answered ✅ Done, e.g. {wrong[0].params}"
        )
    edits = fake.calls_to("editMessageText")
    edited = {(c.chat_id, c.params.get("message_id")) for c in edits if c.ok}
    if len(edits) != len(presses) or edited != {(p.chat_id, p.message_id) for p in presses}:
        failed = [c.description for c in edits if not c.ok][:3]
        raise harness.BenchError(f"edits do not match the presses one to one; failures {failed}")


# ---------------------------------------------------------------------------------------
# The benchmark


async def run(engine: str) -> list[Result]:
    secret = secrets.token_urlsafe(24)
    internal = secrets.token_urlsafe(24)
    async with (
        harness.provision(engine) as url,
        FakeTelegram() as fake,
    ):
        db = seed.open_database(url)
        try:
            # One lead per user: on SQLite, delivering several reminders per user in one pass
            # took ~17 ms a reminder (200 users × 6: 20 s, against 3 s for 1,200 × 1), which
            # would cost this benchmark minutes of set-up; PostgreSQL has no such stall.
            harness.log(
                f"{NAME} [{engine}]: seeding {USERS:,} users × {LEADS_PER_USER} six-step plans"
            )
            await seed_due_reminders(db)
            env = {
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE": fake.base_url,
                "TELEGRAM_WEBHOOK_SECRET": secret,
                "INTERNAL_TOKEN": internal,
                "REMINDERS_PER_USER_PER_TICK": "50",
                "SEND_RATE_GLOBAL": "1000000",
                "SEND_RATE_PER_CHAT": "1000000",
            }
            async with serve(url, env) as server:
                return await measure(engine, db, fake, server, secret, internal)
        finally:
            await db.dispose()


async def measure(
    engine: str, db: Database, fake: FakeTelegram, server: Server, secret: str, internal: str
) -> list[Result]:
    started = time.perf_counter()
    counts = await deliver(server.port, internal)
    pool = presses_from(fake)
    harness.log(
        f"{NAME} [{engine}]: delivered {len(pool):,} reminders through the fake in "
        f"{time.perf_counter() - started:.1f} s ({counts})"
    )
    if len(pool) != USERS * LEADS_PER_USER:
        raise harness.BenchError(
            f"{len(pool)} reminders delivered; expected {USERS * LEADS_PER_USER}"
        )
    await vacuum(db)
    fake.calls.clear()
    if await completed(db):
        raise harness.BenchError("reminders completed before any press")

    pressed: list[Press] = []
    """The presses the server acted on, in the order they were sent."""
    consumed = 0
    """Presses taken from the pool: acted on, or lost in flight at the end of a round."""
    last: list[Press] = []

    with tempfile.TemporaryDirectory(prefix="eplan_bench_") as tmp_name:
        tmp = Path(tmp_name)

        async def presses(seconds: float) -> Round:
            nonlocal consumed, last
            fresh = pool[consumed:]
            cpu_before = server.cpu_seconds()
            load, issued = await wrk(
                server.port, secret, fresh, cycle=False, seconds=seconds, tmp=tmp
            )
            # +1: wrk calls request() once before starting, to check the script (that first
            # update is counted but never sent).
            if not load.requests <= issued <= load.requests + CONNECTIONS + 1:
                raise harness.BenchError(f"wrk completed {load.requests}, issued {issued}")
            sent, consumed = fresh[:issued], consumed + issued
            acted = await settle(fake, len(pressed) + load.requests, len(pressed) + issued)
            cpu = server.cpu_seconds() - cpu_before
            answered = {
                call.params.get("callback_query_id")
                for call in fake.calls_to("answerCallbackQuery")[len(pressed) :]
            }
            last = [press for press in sent if f"cq{press.update_id}" in answered]
            if len(last) != acted - len(pressed):
                raise harness.BenchError("the fake answered queries that were not sent")
            pressed.extend(last)
            done = await completed(db)
            if done != len(pressed):
                raise harness.BenchError(
                    f"{done} reminders completed after {len(pressed)} presses acted on"
                )
            return Round(load, issued, len(last), cpu)

        async def replays() -> Round:
            cpu_before = server.cpu_seconds()
            load, issued = await wrk(
                server.port, secret, last, cycle=True, seconds=ROUND_SECONDS, tmp=tmp
            )
            await asyncio.sleep(SETTLED_AFTER)
            await settle(fake, len(pressed), len(pressed))
            done = await completed(db)
            if done != len(pressed):
                raise harness.BenchError(f"replays changed reminders: {done} != {len(pressed)}")
            return Round(load, issued, 0, server.cpu_seconds() - cpu_before)

        async def subject() -> Round:
            return await presses(ROUND_SECONDS)

        harness.log(f"{NAME} [{engine}]: warm-up, then {ROUNDS} rounds of replays and presses")
        warm = await presses(WARMUP_SECONDS)
        harness.log(f"  warm-up: {warm}")
        baselines, subjects = await harness.alternate(replays, subject, ROUNDS)
        check_calls(fake, pressed)
        rss_after = server.rss_mb()
        log_tail = server.log_tail(5)

    generator = harness.load_generator()
    p99s = [s.load.latency_p99_ms for s in subjects]
    base_p99s = [b.load.latency_p99_ms for b in baselines]
    if any(v is None for v in (*p99s, *base_p99s)):
        raise harness.BenchError("wrk reported no p99")
    details = {
        "users": USERS,
        "leads_per_user": LEADS_PER_USER,
        "reminders_delivered": len(pool),
        "presses_acted_on": len(pressed),
        "presses_lost_in_flight": consumed - len(pressed),
        "presses_per_round": [s.acted for s in subjects],
        "warmup_presses": warm.acted,
        "rounds": ROUNDS,
        "round_seconds": ROUND_SECONDS,
        "connections": CONNECTIONS,
        "press_rps": [round(s.load.requests_per_second, 1) for s in subjects],
        "press_latency_p50_ms": [s.load.latency_p50_ms for s in subjects],
        "press_latency_p99_ms": p99s,
        "replay_rps": [round(b.load.requests_per_second, 1) for b in baselines],
        "replay_latency_p50_ms": [b.load.latency_p50_ms for b in baselines],
        "replay_latency_p99_ms": base_p99s,
        "server_cpu_ms_per_press": [
            round(1000 * s.cpu_seconds / max(s.acted, 1), 3) for s in subjects
        ],
        "verified": (
            "after every round: completed reminders == presses issued, one answerCallbackQuery "
            "'✅ Done' and one successful editMessageText per press at the fake; replays "
            "changed nothing"
        ),
        "server_rss_mb_after": round(rss_after, 1),
        "server_log_tail": log_tail,
        "median_press_body_bytes": statistics.median(len(p.body.encode()) for p in pool),
    }
    fair = (
        "The baseline is the same webhook in the same server, posted the same way, replaying "
        "updates of the previous round (already handled, so answered after the secret check, "
        "JSON parse, Update validation and the dedupe transaction, without the handler), in "
        "rounds alternating with fresh presses. Each press is a distinct update for a distinct "
        "reminder, shuffled over "
        f"{USERS:,} users, carrying the message the bot really sent through the fake Bot API."
    )
    load_words = (
        f"{generator} + bench/lua/webhook_press.lua, -c{CONNECTIONS}, {ROUND_SECONDS:g} s per round"
    )
    return [
        harness.record(
            benchmark=NAME,
            name="webhook_press_throughput",
            engine=engine,
            figure=(
                "Done presses/s through POST /telegram/webhook (transition, answerCallbackQuery "
                f"and editMessageText to the fake Bot API), {CONNECTIONS} keep-alive "
                "connections, one uvicorn worker in telegram mode"
            ),
            target=THROUGHPUT_TARGET if engine == "postgresql" else SQLITE_THROUGHPUT,
            unit="presses/s",
            measured=[s.load.requests_per_second for s in subjects],
            baseline=[b.load.requests_per_second for b in baselines],
            fair_because=fair,
            load_generator=load_words,
            details=details,
        ),
        harness.record(
            benchmark=NAME,
            name="webhook_p99_ms",
            engine=engine,
            figure=(
                "p99 of the webhook's response time to a Done press, per round, at the load of "
                f"webhook_press_throughput ({CONNECTIONS} connections)"
            ),
            target=P99_TARGET if engine == "postgresql" else SQLITE_P99,
            unit="ms",
            measured=[v for v in p99s if v is not None],
            baseline=[v for v in base_p99s if v is not None],
            fair_because=fair,
            load_generator=load_words,
            details=details,
        ),
    ]
