"""`GET /me` with valid initData against a constant endpoint of the same size, side by side."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.settings import LOCAL_MODE_BOT_TOKEN
from bench import harness
from bench.apps import CONSTANT_BODY_ENV, CONSTANT_PATH
from bench.harness import Load, Result, Target
from tests.support import initdata

NAME = "me_throughput"
BENCH_USER_ID = 424242
CONNECTIONS = 8
WARMUP_SECONDS = 2.0
ROUND_SECONDS = 3.0
ROUNDS = 5

TARGET = Target(
    words=(
        "GET /me with a valid initData: throughput at least 0.6× that of a bare FastAPI "
        "endpoint returning a constant of the same size, measured side by side"
    ),
    op=">=",
    value=0.6,
    applies_to="ratio",
)


def auth_headers() -> dict[str, str]:
    # Signed now, so it stays valid for the run (TMA_INIT_DATA_MAX_AGE defaults to a day).
    raw = initdata.sign(
        token=LOCAL_MODE_BOT_TOKEN,
        user=initdata.default_user(BENCH_USER_ID),
        auth_date=int(time.time()),
    )
    return {"Authorization": f"tma {raw}"}


async def capture_me_body(database_url: str, headers: dict[str, str]) -> bytes:
    """The exact bytes /me answers for the bench user, which also creates the user's row."""
    async with harness.serve("app.main:app", database_url) as server:
        for _ in range(2):
            # The first call creates the user; the second is the steady-state answer.
            status, body = await harness.http_request(server.port, "/me", headers)
            if status != 200:
                raise harness.BenchError(f"/me answered {status}: {body[:300]!r}")
    return body


async def run(engine: str) -> list[Result]:
    headers = auth_headers()
    async with harness.provision(engine) as database_url:
        body = await capture_me_body(database_url, headers)
        with tempfile.TemporaryDirectory(prefix="eplan_bench_") as tmp:
            body_file = Path(tmp) / "me.json"
            body_file.write_bytes(body)
            extra = {CONSTANT_BODY_ENV: str(body_file)}
            async with harness.serve("bench.apps:app", database_url, extra_env=extra) as server:
                status, constant = await harness.http_request(server.port, CONSTANT_PATH)
                if status != 200 or constant != body:
                    raise harness.BenchError("the constant endpoint does not serve the /me body")

                async def me() -> Load:
                    return await harness.checked_load(
                        server.port,
                        "/me",
                        headers=headers,
                        connections=CONNECTIONS,
                        seconds=ROUND_SECONDS,
                    )

                async def baseline() -> Load:
                    # The same Authorization header, so both parse the same request bytes.
                    return await harness.checked_load(
                        server.port,
                        CONSTANT_PATH,
                        headers=headers,
                        connections=CONNECTIONS,
                        seconds=ROUND_SECONDS,
                    )

                harness.log(f"{NAME} [{engine}]: warm-up, then {ROUNDS} rounds of each")
                for path in ("/me", CONSTANT_PATH):
                    await harness.checked_load(
                        server.port,
                        path,
                        headers=headers,
                        connections=CONNECTIONS,
                        seconds=WARMUP_SECONDS,
                    )
                baselines, subjects = await harness.alternate(baseline, me, ROUNDS)
                rss_after = server.rss_mb()

    generator = harness.load_generator()
    return [
        harness.record(
            benchmark=NAME,
            name=NAME,
            engine=engine,
            figure=(
                "requests/s of GET /me with a valid initData (one known user sending the same "
                "initData, as one Mini App session does), "
                f"{CONNECTIONS} keep-alive connections, one uvicorn worker"
            ),
            target=TARGET,
            unit="req/s",
            measured=[s.requests_per_second for s in subjects],
            baseline=[b.requests_per_second for b in baselines],
            fair_because=(
                f"The baseline is GET {CONSTANT_PATH} in the same app and the same uvicorn "
                f"process, returning the {len(body)}-byte body captured from a real /me call, "
                "requested with the same Authorization header and connections, in rounds "
                "alternating with /me; the only difference is the work /me does."
            ),
            load_generator=f"{generator}, -c{CONNECTIONS}, {ROUND_SECONDS:g} s per round",
            details={
                "body_bytes": len(body),
                "rounds": ROUNDS,
                "round_seconds": ROUND_SECONDS,
                "connections": CONNECTIONS,
                "me_latency_p50_ms": [s.latency_p50_ms for s in subjects],
                "me_latency_p99_ms": [s.latency_p99_ms for s in subjects],
                "baseline_latency_p50_ms": [b.latency_p50_ms for b in baselines],
                "baseline_latency_p99_ms": [b.latency_p99_ms for b in baselines],
                "server_rss_mb_after": round(rss_after, 1),
            },
        )
    ]
