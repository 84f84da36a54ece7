"""A process that only dispatches, driven by `bench.dispatch` one command at a time.

It holds what the app's lifespan builds for the dispatcher (the real `Dispatcher`, `Sender`,
aiogram `Bot` with the app's session, the database engine) and nothing else, on the event
loop uvicorn would use (uvloop). The Bot talks to the fake Bot API that runs in the
benchmark's own process: the fake's work is Telegram's, so it must not share this process's
CPU time or memory.

Protocol: one JSON command per line on stdin, one JSON answer per line on stdout, prefixed
with `@@ ` so nothing else printed can be mistaken for one.

    {"cmd": "pass"}                        one Dispatcher.run_pass()
    {"cmd": "passes", "n": 50}             n passes, each timed
    {"cmd": "claim_record"}                claim batches of 500 and record them, until none due
    {"cmd": "raw", "n": 5000, "first_chat": 1}
                                           n sends straight through the Sender, no database
    {"cmd": "memory"}                      VmRSS and VmHWM of this process
    {"cmd": "trim"}                        the same after giving free heap back to the system
    {"cmd": "departures"}                  when each message left the Sender, and to whom
    {"cmd": "trace_start"} / {"cmd": "trace_top", "n": 15}
                                           tracemalloc: what the live memory is, by line
    {"cmd": "quit"}
"""

from __future__ import annotations

# First, before anything imports aiogram: its models are then built on first use, as in the
# service (app/patches/lazy_aiogram.py). Not in bench/__init__.py: bench.bare must not import app.
import app  # noqa: F401

# isort: split

import argparse
import asyncio
import ctypes
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy.engine import make_url

from app.clock import SystemClock
from app.db.database import Database
from app.domain.calendar import WorkSchedule
from app.domain.users import (
    DEFAULT_TIMEZONE,
    DEFAULT_WORK_END,
    DEFAULT_WORK_START,
    DEFAULT_WORKDAYS,
    parse_hhmm,
)
from app.links import Links
from app.repositories import claims as claims_repo
from app.scheduler.metrics import DispatchMetrics
from app.scheduler.tick import BATCH_SIZE, LEASE, SEND_CONCURRENCY, Dispatcher
from app.services import steps as steps_service
from app.services.steps import Delivery
from app.telegram import render
from app.telegram.json_session import telegram_bot
from app.telegram.sender import BotTransport, Outgoing, Sender

PREFIX = "@@ "


def memory() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak since start) of this process, in MB (10^6 bytes)."""
    values: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name.lower() + "_mb"] = round(int(rest.split()[0]) * 1024 / 1e6, 1)
    return values


def answer(payload: dict[str, Any]) -> None:
    sys.stdout.write(PREFIX + json.dumps(payload) + "\n")
    sys.stdout.flush()


class Timestamped:
    """The real BotTransport, noting when each message left the Sender (monotonic clock, the
    same on every process here, so it lines up with the fake's arrival times)."""

    def __init__(self, inner: BotTransport) -> None:
        self.inner = inner
        self.departures: list[tuple[float, int]] = []

    async def send_message(self, message: Outgoing) -> int:
        self.departures.append((time.monotonic(), message.chat_id))
        return await self.inner.send_message(message)


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.db = Database.from_url(make_url(args.database_url))
        self.bot = telegram_bot(args.token, args.api_base)
        self.metrics = DispatchMetrics()
        self.clock = SystemClock()
        # Only when asked: a list of every message would add to the memory figure.
        self.transport: Timestamped | BotTransport = (
            Timestamped(BotTransport(self.bot))
            if args.record_departures
            else BotTransport(self.bot)
        )
        self.sender = Sender(
            self.transport,
            self.clock,
            global_rate=args.global_rate,
            per_chat_rate=args.per_chat_rate,
            on_retry_after=lambda _seconds: self.metrics.retry_after.inc(),
        )
        self.dispatcher = Dispatcher(
            db=self.db,
            clock=self.clock,
            sender=self.sender,
            metrics=self.metrics,
            per_user_cap=args.per_user_cap,
            links=Links(),
        )

    async def close(self) -> None:
        await self.bot.session.close()
        await self.db.dispose()

    async def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command["cmd"]
        if name == "pass":
            cpu = time.process_time()
            started = time.perf_counter()
            counts = await self.dispatcher.run_pass()
            elapsed = time.perf_counter() - started
            return {
                "seconds": elapsed,
                "cpu_seconds": time.process_time() - cpu,
                "counts": counts.as_dict(),
                **self._state(),
            }
        if name == "passes":
            durations = []
            for _ in range(int(command["n"])):
                started = time.perf_counter()
                counts = await self.dispatcher.run_pass()
                durations.append(time.perf_counter() - started)
                if counts.due:
                    raise RuntimeError(f"a pass found {counts.due} due reminders; none expected")
            return {"durations": durations, **self._state()}
        if name == "claim_record":
            return await self._claim_record()
        if name == "raw":
            return await self._raw(int(command["n"]), int(command["first_chat"]))
        if name == "memory":
            return memory()
        if name == "trim":
            # How much of the resident memory is free heap the C allocator kept, not live data.
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            return memory()
        if name == "departures":
            if not isinstance(self.transport, Timestamped):
                raise ValueError("started without --record-departures")
            return {"departures": self.transport.departures}
        if name == "trace_start":
            tracemalloc.start(int(command.get("frames", 1)))
            return memory()
        if name == "trace_top":
            gc.collect()
            snapshot = tracemalloc.take_snapshot()
            stats = snapshot.statistics(str(command.get("by", "lineno")))
            return {
                "traced_mb": round(tracemalloc.get_traced_memory()[0] / 1e6, 1),
                "top": [
                    {"where": str(stat.traceback), "mb": round(stat.size / 1e6, 2), "n": stat.count}
                    for stat in stats[: int(command.get("n", 15))]
                ],
                **memory(),
            }
        raise ValueError(f"unknown command {name!r}")

    async def _raw(self, n: int, first_chat: int) -> dict[str, Any]:
        """The sending part of a pass alone: the same Sender, the same concurrency and a
        message of the same shape, with no claim, no rendering per message and no record."""
        text = "🔔 <b>Step 1 of 6 is due</b>\n👤 Ana Lima · Acme\n\nEmail: " + "x" * 180
        keyboard = render.reminder_keyboard(1, None)
        gate = asyncio.Semaphore(SEND_CONCURRENCY)
        outcomes: dict[str, int] = {}

        async def one(chat: int) -> None:
            async with gate:
                result = await self.sender.send(Outgoing(chat, text, keyboard))
                outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1

        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(one(first_chat + i) for i in range(n)))
        return {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
            "outcomes": outcomes,
            **self._state(),
        }

    async def _claim_record(self) -> dict[str, Any]:
        """The dispatcher's bookkeeping alone: claim batches of 500 due reminders and record
        each as sent (the ladder moves on, the activity is logged), until none is due."""
        worker = self.dispatcher.worker
        schedule = WorkSchedule(
            timezone=DEFAULT_TIMEZONE,
            work_start=parse_hhmm(DEFAULT_WORK_START),
            work_end=parse_hhmm(DEFAULT_WORK_END),
            workdays=frozenset(DEFAULT_WORKDAYS),
        )
        claimed = recorded = batches = 0
        cpu = time.process_time()
        started = time.perf_counter()
        while True:
            async with self.db.transaction() as conn:
                batch = await claims_repo.claim(
                    conn, worker=worker, now=self.clock.now(), lease=LEASE, limit=BATCH_SIZE
                )
            if not batch:
                break
            batches += 1
            claimed += len(batch)
            deliveries = [Delivery(r, "first", 1000 + r.id, False) for r in batch]
            schedules = {r.telegram_id: schedule for r in batch}
            recorded += await steps_service.record_deliveries(
                self.db, worker, deliveries, schedules, self.clock.now()
            )
        return {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
            "claimed": claimed,
            "recorded": recorded,
            "batches": batches,
            **memory(),
        }

    def _state(self) -> dict[str, Any]:
        retry_after = self.metrics.registry.get_sample_value("eplan_telegram_429_total")
        return {"retry_after": int(retry_after or 0), **memory()}


async def serve(args: argparse.Namespace) -> None:
    worker = Worker(args)
    # As the server does once started (create_app's freeze_heap): the start-up heap is
    # set aside from the garbage collector, so full collections do not walk it.
    gc.collect()
    gc.freeze()
    try:
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        answer({"ready": True, **memory()})
        while True:
            line = await reader.readline()
            if not line:
                break
            command = json.loads(line)
            if command.get("cmd") == "quit":
                break
            try:
                reply = await worker.handle(command)
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            answer(reply)
    finally:
        await worker.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch_worker")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--global-rate", type=float, default=1e6)
    parser.add_argument("--per-chat-rate", type=float, default=1e6)
    parser.add_argument("--per-user-cap", type=int, default=3)
    parser.add_argument("--record-departures", action="store_true")
    uvloop.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
