"""Cold start of `uvicorn app.main:app` to the first 200 on /healthz, and idle memory after."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench import harness
from bench.harness import Result, Target
from bench.me_throughput import auth_headers

NAME = "startup"
APP = "app.main:app"
BARE = "bench.bare:app"
STARTS = 7
# Not counted: the first start after an install or an edit compiles bytecode.
WARMUP_STARTS = 1
REQUESTS_BEFORE_IDLE = 20
IDLE_SECONDS = 2.0

SECONDS_TARGET = Target(
    words=(
        "cold start of uvicorn app.main:app to the first 200 on /healthz "
        "(environment installed, database migrated): median under 2 s"
    ),
    op="<",
    value=2.0,
    applies_to="measured_median",
)
RSS_TARGET = Target(
    words="idle resident memory under 120 MB",
    op="<",
    value=120.0,
    applies_to="measured_median",
)


@dataclass(frozen=True)
class Start:
    seconds: float
    rss_mb: float

    def __str__(self) -> str:
        return f"{self.seconds:.3f} s, {self.rss_mb:.1f} MB"


async def one_start(app_ref: str, database_url: str, headers: dict[str, str]) -> Start:
    async with harness.serve(app_ref, database_url) as server:
        for number in range(REQUESTS_BEFORE_IDLE):
            # The app also serves /me, so the memory figure includes the auth and database
            # paths having run; the bare app only has /healthz.
            path = "/me" if app_ref == APP and number % 2 else "/healthz"
            status, body = await harness.http_request(server.port, path, headers)
            if status != 200:
                raise harness.BenchError(f"{app_ref} {path} answered {status}: {body[:300]!r}")
        await asyncio.sleep(IDLE_SECONDS)
        return Start(seconds=server.ready_seconds, rss_mb=server.rss_mb())


async def run(engine: str) -> list[Result]:
    headers = auth_headers()
    async with harness.provision(engine) as database_url:

        async def app() -> Start:
            return await one_start(APP, database_url, headers)

        async def bare() -> Start:
            return await one_start(BARE, database_url, headers)

        harness.log(f"{NAME} [{engine}]: {WARMUP_STARTS} warm-up start(s), then {STARTS} of each")
        for _ in range(WARMUP_STARTS):
            await bare()
            await app()
        baselines, subjects = await harness.alternate(bare, app, STARTS)

    fair = (
        f"For context only, pass/fail is by the absolute target: {BARE}, a raw ASGI app that "
        "answers /healthz, started by the same uvicorn binary with the same flags and "
        "environment, alternating with the app in the same run, is the floor any service "
        "pays on this interpreter and machine."
    )
    details = {
        "starts": STARTS,
        "warmup_starts": WARMUP_STARTS,
        "poll_interval_ms": 10,
        "requests_before_idle": REQUESTS_BEFORE_IDLE,
        "idle_seconds": IDLE_SECONDS,
        "baseline_app": BARE,
    }
    return [
        harness.record(
            benchmark=NAME,
            name="startup_seconds",
            engine=engine,
            figure=(
                "seconds from spawning uvicorn app.main:app (one worker) to the first 200 on "
                "/healthz, polled every 10 ms"
            ),
            target=SECONDS_TARGET,
            unit="s",
            measured=[s.seconds for s in subjects],
            baseline=[b.seconds for b in baselines],
            fair_because=fair,
            load_generator=None,
            details=details,
        ),
        harness.record(
            benchmark=NAME,
            name="idle_rss_mb",
            engine=engine,
            figure=(
                f"VmRSS of the uvicorn process after start-up, {REQUESTS_BEFORE_IDLE} requests "
                f"(/healthz and /me) and {IDLE_SECONDS:g} s idle"
            ),
            target=RSS_TARGET,
            unit="MB",
            measured=[s.rss_mb for s in subjects],
            baseline=[b.rss_mb for b in baselines],
            fair_because=fair,
            load_generator=None,
            details=details,
        ),
    ]
