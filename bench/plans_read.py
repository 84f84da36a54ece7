"""`GET /plans` for a user with 100 leads of 6 steps: the server's time per request, and
throughput against a constant endpoint serving the same bytes, side by side in one process."""

from __future__ import annotations

import json
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import harness, seed
from bench.apps import CONSTANT_BODY_ENV, CONSTANT_PATH, DOCUMENT_PATH
from bench.harness import Load, Result, Target
from bench.timed_app import TIMINGS_PATH

NAME = "plans_read"
APP = "bench.timed_app:app"
USER_ID = 515151
LEADS = 100
WARMUP_SECONDS = 2.0
ROUND_SECONDS = 3.0
ROUNDS = 5
CONNECTIONS = 8

SERVER_MS_TARGET = Target(
    words="GET /plans for a user with 100 leads of 6 steps: median server time under 15 ms",
    op="<",
    value=15.0,
    applies_to="measured_median",
)
THROUGHPUT_TARGET = Target(
    words=(
        "GET /plans for a user with 100 leads of 6 steps: throughput at least 0.5× a bare "
        "FastAPI endpoint returning the same JSON document, side by side in one run"
    ),
    op=">=",
    value=0.5,
    applies_to="ratio",
)


async def seed_plans(database_url: str, headers: dict[str, str]) -> bytes:
    """100 leads through POST /leads on the real server; the bytes GET /plans then answers."""
    async with (
        harness.serve("app.main:app", database_url) as server,
        httpx.AsyncClient(
            base_url=f"http://{harness.HOST}:{server.port}", headers=headers, timeout=30
        ) as client,
    ):
        for index in range(LEADS):
            response = await client.post("/leads", json=seed.lead_payload(index))
            if response.status_code != 201:
                raise harness.BenchError(f"POST /leads: {response.status_code} {response.text}")
        response = await client.get("/plans")
        if response.status_code != 200:
            raise harness.BenchError(f"GET /plans: {response.status_code}")
        plans = response.json()
        steps = sum(len(lead["steps"]) for lead in plans["leads"])
        if len(plans["leads"]) != LEADS or steps != LEADS * 6:
            raise harness.BenchError(f"/plans has {len(plans['leads'])} leads, {steps} steps")
        return response.content


@dataclass(frozen=True)
class Timing:
    median_ms: float
    cpu_median_ms: float
    requests: int
    client_p50_ms: float | None

    def __str__(self) -> str:
        return (
            f"{self.median_ms:.2f} ms server median ({self.cpu_median_ms:.2f} ms CPU) over "
            f"{self.requests} requests"
        )


async def run(engine: str) -> list[Result]:
    headers = {"Authorization": seed.auth_header(USER_ID)}
    async with harness.provision(engine) as database_url:
        harness.log(f"{NAME} [{engine}]: {LEADS} leads × 6 steps through POST /leads")
        body = await seed_plans(database_url, headers)
        with tempfile.TemporaryDirectory(prefix="eplan_bench_") as tmp:
            body_file = Path(tmp) / "plans.json"
            body_file.write_bytes(body)
            extra = {CONSTANT_BODY_ENV: str(body_file)}
            async with harness.serve(APP, database_url, extra_env=extra) as server:
                status, constant = await harness.http_request(server.port, CONSTANT_PATH)
                if status != 200 or constant != body:
                    raise harness.BenchError("the constant endpoint does not serve /plans' body")
                status, encoded = await harness.http_request(server.port, DOCUMENT_PATH)
                if status != 200 or json.loads(encoded) != json.loads(body):
                    raise harness.BenchError("the bare endpoint does not serve /plans' document")
                status, live = await harness.http_request(server.port, "/plans", headers)
                if status != 200 or len(live) != len(body):
                    raise harness.BenchError(f"/plans answered {status}, {len(live)} bytes")

                async def load(path: str, connections: int, seconds: float) -> Load:
                    return await harness.checked_load(
                        server.port,
                        path,
                        headers=headers,
                        connections=connections,
                        seconds=seconds,
                    )

                async def timed(path: str) -> Timing:
                    await harness.http_request(server.port, TIMINGS_PATH)  # start afresh
                    result = await load(path, 1, ROUND_SECONDS)
                    _, report = await harness.http_request(server.port, TIMINGS_PATH)
                    entry = json.loads(report)[path]
                    return Timing(
                        entry["median_ms"],
                        entry["cpu_median_ms"],
                        entry["count"],
                        result.latency_p50_ms,
                    )

                async def plans_time() -> Timing:
                    return await timed("/plans")

                async def constant_time() -> Timing:
                    return await timed(CONSTANT_PATH)

                async def plans_load() -> Load:
                    return await load("/plans", CONNECTIONS, ROUND_SECONDS)

                async def constant_load() -> Load:
                    return await load(CONSTANT_PATH, CONNECTIONS, ROUND_SECONDS)

                async def document_load() -> Load:
                    return await load(DOCUMENT_PATH, CONNECTIONS, ROUND_SECONDS)

                harness.log(f"{NAME} [{engine}]: warm-up, then {ROUNDS} rounds of each, twice")
                for path in ("/plans", DOCUMENT_PATH, CONSTANT_PATH):
                    await load(path, CONNECTIONS, WARMUP_SECONDS)
                base_times, plan_times = await harness.alternate(constant_time, plans_time, ROUNDS)
                base_loads, plan_loads = await harness.alternate(document_load, plans_load, ROUNDS)
                harness.log(f"{NAME} [{engine}]: the constant bytes, for context")
                byte_loads = [await constant_load() for _ in range(ROUNDS)]
                rss_after = server.rss_mb()

    generator = harness.load_generator()
    document = (
        f"the {len(body):,}-byte /plans document of one user with {LEADS} leads × 6 steps "
        "(seeded through POST /leads: names, companies, context, step descriptions, timing "
        "text, ~200-character suggested messages)"
    )
    return [
        harness.record(
            benchmark=NAME,
            name="plans_server_ms",
            engine=engine,
            figure=(
                f"median server time of GET /plans, {document}; one connection, so no request "
                "waits for another"
            ),
            target=SERVER_MS_TARGET,
            unit="ms",
            measured=[t.median_ms for t in plan_times],
            baseline=[t.median_ms for t in base_times],
            fair_because=(
                "Server time is measured in the server process by an ASGI middleware "
                "(bench/timed_app.py) wrapping the whole app: from the request entering the "
                "app to its last body byte being handed to uvicorn (auth, both queries, "
                "building and serialising the document), one wrk connection so nothing "
                f"queues; per-round medians. For context, the baseline is {CONSTANT_PATH} in "
                "the same process, serving the same bytes, measured the same way in "
                "alternating rounds."
            ),
            load_generator=f"{generator}, -c1, {ROUND_SECONDS:g} s per round",
            details={
                "body_bytes": len(body),
                "rounds": ROUNDS,
                "plans_requests_per_round": [t.requests for t in plan_times],
                "plans_server_cpu_ms": [round(t.cpu_median_ms, 3) for t in plan_times],
                "constant_server_cpu_ms": [round(t.cpu_median_ms, 3) for t in base_times],
                "plans_client_p50_ms": [t.client_p50_ms for t in plan_times],
                "constant_client_p50_ms": [t.client_p50_ms for t in base_times],
                "how": "ASGI middleware in the server process (bench/timed_app.py)",
                "cpu_note": (
                    "CPU time of the server process over each request (one at a time): what a "
                    "request costs whatever else the shared machine is running"
                ),
            },
        ),
        harness.record(
            benchmark=NAME,
            name="plans_throughput_ratio",
            engine=engine,
            figure=(
                f"requests/s of GET /plans, {document}; {CONNECTIONS} keep-alive connections, "
                "one uvicorn worker"
            ),
            target=THROUGHPUT_TARGET,
            unit="req/s",
            measured=[s.requests_per_second for s in plan_loads],
            baseline=[b.requests_per_second for b in base_loads],
            fair_because=(
                f"The baseline is GET {DOCUMENT_PATH}, a bare FastAPI endpoint in the same app "
                "and uvicorn process returning the same JSON document (the parsed /plans "
                "answer for this user, held in memory) the way such an endpoint does: FastAPI "
                "encodes the returned object on every request. Same Authorization header and "
                "connections, rounds alternating with /plans; the only difference is the work "
                "/plans does (auth, two queries, statuses, building the document). For "
                f"context, details give GET {CONSTANT_PATH}, the same bytes pre-encoded, "
                "which skips encoding as well."
            ),
            load_generator=f"{generator}, -c{CONNECTIONS}, {ROUND_SECONDS:g} s per round",
            details={
                "body_bytes": len(body),
                "rounds": ROUNDS,
                "plans_latency_p50_ms": [s.latency_p50_ms for s in plan_loads],
                "plans_latency_p99_ms": [s.latency_p99_ms for s in plan_loads],
                "document_latency_p50_ms": [b.latency_p50_ms for b in base_loads],
                "constant_bytes_requests_per_second": [
                    round(b.requests_per_second, 1) for b in byte_loads
                ],
                "server_rss_mb_after": round(rss_after, 1),
                "median_plans_server_ms": round(
                    statistics.median(t.median_ms for t in plan_times), 3
                ),
            },
        ),
    ]
