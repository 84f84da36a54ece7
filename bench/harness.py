"""What every benchmark needs: a throw-away database, the real server as a subprocess, a load
generator, side-by-side rounds against a baseline, and a result file per figure.

Figures are compared with a baseline measured in the same run, alternating rounds, because
on a shared 2-core machine an absolute figure from one minute is not comparable with one
from the next; a ratio of medians taken side by side is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

from app.db import migrate
from app.db.database import Database
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
ENGINES: tuple[str, ...] = ("sqlite", "postgresql")
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"
# Longer than any healthy answer here; /healthz itself gives up on the database after 2 s.
REQUEST_TIMEOUT_SECONDS = 5.0

B = TypeVar("B")
S = TypeVar("S")


class BenchError(Exception):
    """A benchmark could not produce a trustworthy figure; the message says why."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Databases


@contextlib.asynccontextmanager
async def provision(engine: str) -> AsyncIterator[str]:
    """A migrated database nobody else uses, removed afterwards; yields its DATABASE_URL."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="eplan_bench_") as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            await _migrate(url)
            yield url
    elif engine == "postgresql":
        admin = make_url(PG_ADMIN_URL)
        name = f"eplan_bench_{secrets.token_hex(5)}"
        await _admin_execute(admin, f'CREATE DATABASE "{name}"')
        try:
            url = admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(
                hide_password=False
            )
            await _migrate(url)
            yield url
        finally:
            # FORCE: a server that did not stop in time must not leave the database behind.
            await _admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        raise BenchError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")


async def _admin_execute(admin: URL, sql: str) -> None:
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(
            f"PostgreSQL is not reachable at {admin.render_as_string()} ({exc}); "
            "start it, set BENCH_POSTGRES_URL, or pass --engines sqlite"
        ) from None
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    db = Database.from_url(make_url(url))
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


# ---------------------------------------------------------------------------------------
# The server


def _uvicorn() -> Path:
    # The interpreter running us is the project's venv one (`uv run`); starting its uvicorn
    # script directly, not through `uv run`, makes the child's pid the server's own.
    candidate = Path(sys.executable).parent / "uvicorn"
    if candidate.exists():
        return candidate
    fallback = ROOT / ".venv" / "bin" / "uvicorn"
    if fallback.exists():
        return fallback
    raise BenchError("uvicorn not found next to the interpreter nor in .venv/bin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # Settings the shell happens to export (a real bot token, another DATABASE_URL, a log
    # level) would silently change what is measured, so every one of them is dropped first.
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(
        {
            "DATABASE_URL": database_url,
            "AUTO_MIGRATE": "false",
            "SCHEDULER_ENABLED": "false",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class Server:
    process: asyncio.subprocess.Process
    port: int
    log_path: Path
    ready_seconds: float
    """From just before spawning the process to the first 200 on /healthz."""
    health: dict[str, Any]

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        """Resident memory of the uvicorn process itself, in MB (10^6 bytes)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                kib = int(line.split()[1])
                return kib * 1024 / 1_000_000
        raise BenchError(f"no VmRSS for pid {self.pid}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far: what its requests
        cost whatever else the shared machine is running."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


async def start_server(
    app_ref: str,
    database_url: str,
    *,
    extra_env: Mapping[str, str] | None = None,
    poll_interval: float = 0.01,
    ready_within: float = 60.0,
) -> Server:
    """`uvicorn <app_ref>` on a free port, one worker, returned once /healthz answers 200."""
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - outlives this function
        prefix="eplan_bench_server_", suffix=".log", delete=False
    )
    log_path = Path(log_file.name)
    args = [
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        str(_uvicorn()),
        app_ref,
        *args,
        cwd=ROOT,
        env=server_env(database_url, extra_env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log_file,
        stderr=asyncio.subprocess.STDOUT,
    )
    log_file.close()
    server = Server(process, port, log_path, ready_seconds=0.0, health={})
    try:
        await _wait_ready(server, app_ref, started, poll_interval, ready_within)
    except BaseException:
        # Including cancellation (Ctrl-C): no server may outlive the run that started it.
        await stop_server(server)
        raise
    return server


async def _wait_ready(
    server: Server, app_ref: str, started: float, poll_interval: float, ready_within: float
) -> None:
    deadline = started + ready_within
    while True:
        if server.process.returncode is not None:
            raise BenchError(
                f"{app_ref} exited with {server.process.returncode} before it was ready:\n"
                + server.log_tail()
            )
        with contextlib.suppress(OSError, TimeoutError):
            status, body = await http_request(server.port, "/healthz")
            if status == 200:
                server.ready_seconds = time.perf_counter() - started
                server.health = json.loads(body) if body else {}
                break
        if time.perf_counter() > deadline:
            raise BenchError(
                f"{app_ref} not healthy after {ready_within:.0f} s:\n" + server.log_tail()
            )
        await asyncio.sleep(poll_interval)
    mode = server.health.get("mode")
    if mode is not None and mode != "local":
        # Bench initData is signed with the local-mode key; a telegram-mode server would
        # answer 401 to every /me and look wonderfully fast.
        raise BenchError(f"{app_ref} started in {mode!r} mode; expected local mode")


async def stop_server(server: Server, grace: float = 10.0) -> None:
    process = server.process
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            log(f"pid {process.pid} ignored SIGTERM for {grace:.0f} s; killing it")
            process.kill()
            await process.wait()
    server.log_path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def serve(
    app_ref: str, database_url: str, *, extra_env: Mapping[str, str] | None = None
) -> AsyncIterator[Server]:
    server = await start_server(app_ref, database_url, extra_env=extra_env)
    try:
        yield server
    finally:
        await stop_server(server)


async def http_request(
    port: int,
    path: str,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """One GET on a fresh connection. Small on purpose: start-up polling every 10 ms must
    not take CPU away from the server it is waiting for."""

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(_request_bytes(path, headers, keep_alive=False))
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
        raw = await exchange()
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise OSError("incomplete HTTP response")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    if any(line.lower().startswith("transfer-encoding:") for line in header_lines):
        raise BenchError(f"chunked response from {path}; not expected from these endpoints")
    return int(status_line.split()[1]), body


def _request_bytes(path: str, headers: Mapping[str, str] | None, *, keep_alive: bool) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# ---------------------------------------------------------------------------------------
# Load


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    requests: int
    errors: int
    """Non-2xx answers plus socket errors: either makes the figure meaningless."""
    latency_p50_ms: float | None
    latency_p99_ms: float | None

    def __str__(self) -> str:
        p50 = f", p50 {self.latency_p50_ms:.2f} ms" if self.latency_p50_ms is not None else ""
        return f"{self.requests_per_second:,.0f} req/s{p50}"


LoadKind = Literal["auto", "wrk", "python"]
_load_choice: LoadKind = "auto"
_load_resolved: str | None = None


def use_load_generator(kind: LoadKind) -> None:
    global _load_choice, _load_resolved
    _load_choice = kind
    _load_resolved = None


def load_generator() -> str:
    """Which generator is used, in words for the result files; installs wrk if it can."""
    global _load_resolved
    if _load_resolved is None:
        _load_resolved = _resolve_load_generator()
    return _load_resolved


def _resolve_load_generator() -> str:
    if _load_choice == "python":
        return PYTHON_GENERATOR
    wrk = shutil.which("wrk")
    if wrk is None and _load_choice in ("auto", "wrk"):
        wrk = _install_wrk()
    if wrk is None:
        if _load_choice == "wrk":
            raise BenchError("wrk was asked for but is not installed and could not be installed")
        log("wrk is unavailable; falling back to the asyncio keep-alive generator")
        return PYTHON_GENERATOR
    probe = _run_quiet([wrk, "-v"])
    version = probe.splitlines()[0].split("[")[0].strip() if probe else "wrk"
    return f"{version} (C, keep-alive, -t1)"


PYTHON_GENERATOR = "bench asyncio raw-socket keep-alive generator (Python; slower than wrk)"


def _install_wrk() -> str | None:
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None
    log("wrk not found; running: apt-get update && apt-get install -y wrk")
    _run_quiet([apt, "update"])
    _run_quiet([apt, "install", "-y", "wrk"])
    return shutil.which("wrk")


def _run_quiet(argv: Sequence[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip()


async def load(
    port: int,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    connections: int = 8,
    seconds: float = 3.0,
) -> Load:
    """Keep-alive GETs of one path from `connections` connections for `seconds`."""
    if load_generator() == PYTHON_GENERATOR:
        return await _python_load(port, path, headers, connections, seconds)
    return await _wrk_load(port, path, headers, connections, seconds)


async def _wrk_load(
    port: int, path: str, headers: Mapping[str, str] | None, connections: int, seconds: float
) -> Load:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(f"http://{HOST}:{port}{path}")
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out_bytes, _ = await process.communicate()
    out = out_bytes.decode(errors="replace")
    if process.returncode != 0:
        raise BenchError(f"wrk failed ({process.returncode}):\n{out}")
    return parse_wrk(out)


_WRK_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_WRK_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(out: str) -> Load:
    rps = _WRK_RPS.search(out)
    total = _WRK_TOTAL.search(out)
    if rps is None or total is None:
        raise BenchError(f"cannot read wrk's output:\n{out}")
    errors = 0
    if (non_2xx := _WRK_NON_2XX.search(out)) is not None:
        errors += int(non_2xx.group(1))
    if (sock := _WRK_SOCKET.search(out)) is not None:
        errors += sum(int(n) for n in sock.groups())
    percentiles = {
        int(p): float(value) * _TO_MS[unit] for p, value, unit in _WRK_PERCENTILE.findall(out)
    }
    return Load(
        requests_per_second=float(rps.group(1)),
        requests=int(total.group(1)),
        errors=errors,
        latency_p50_ms=percentiles.get(50),
        latency_p99_ms=percentiles.get(99),
    )


async def _python_load(
    port: int, path: str, headers: Mapping[str, str] | None, connections: int, seconds: float
) -> Load:
    request = _request_bytes(path, headers, keep_alive=True)
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def connection() -> None:
        nonlocal errors
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            errors += 1
            return
        try:
            while (sent := time.perf_counter()) < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status_line, *lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                if not status_line.split()[1].startswith("2"):
                    errors += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errors += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return Load(
        requests_per_second=len(latencies) / elapsed,
        requests=len(latencies),
        errors=errors,
        latency_p50_ms=percentile(0.50),
        latency_p99_ms=percentile(0.99),
    )


async def checked_load(
    port: int,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    connections: int = 8,
    seconds: float = 3.0,
) -> Load:
    """`load`, refusing a run with any error: a 401 or 500 is faster than the real thing."""
    result = await load(port, path, headers=headers, connections=connections, seconds=seconds)
    if result.errors:
        raise BenchError(f"{result.errors} failed requests to {path} out of {result.requests}")
    if result.requests == 0:
        raise BenchError(f"no request to {path} completed")
    return result


# ---------------------------------------------------------------------------------------
# Side by side


async def alternate(
    baseline: Callable[[], Awaitable[B]],
    subject: Callable[[], Awaitable[S]],
    rounds: int,
) -> tuple[list[B], list[S]]:
    """baseline, subject, baseline, subject, …: drift in the machine's load hits both."""
    baselines: list[B] = []
    subjects: list[S] = []
    for number in range(1, rounds + 1):
        baselines.append(await baseline())
        subjects.append(await subject())
        log(f"  round {number}/{rounds}: baseline {baselines[-1]}, subject {subjects[-1]}")
    return baselines, subjects


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Target:
    words: str
    op: Literal["<", "<=", ">", ">="]
    value: float
    applies_to: Literal["measured_median", "ratio"]

    def met(self, measured: float, ratio: float) -> bool:
        actual = ratio if self.applies_to == "ratio" else measured
        if self.op == "<":
            return actual < self.value
        if self.op == "<=":
            return actual <= self.value
        if self.op == ">":
            return actual > self.value
        return actual >= self.value


@dataclass
class Result:
    benchmark: str
    name: str
    figure: str
    target: str
    target_value: float
    target_op: str
    target_applies_to: str
    engine: str
    unit: str
    measured_median: float
    baseline_median: float
    ratio: float
    passed: bool
    samples: dict[str, list[float]]
    load_generator: str | None
    fair_because: str
    date: str
    machine: dict[str, Any]
    code: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # `pass` is the name the issue uses; it is a keyword, hence `passed` in Python.
        return {("pass" if key == "passed" else key): value for key, value in asdict(self).items()}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb: float | None = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) * 1024 / 1e9, 1)
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "kernel": platform.release(),
        # One number of how busy the shared machine was while measuring.
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }


def code_revision() -> dict[str, Any]:
    """Which code was measured: the commit, and the files of the app that differ from it."""
    commit = _git("rev-parse", "--short", "HEAD").strip()
    status = _git("status", "--porcelain", "--", "app", "migrations", "pyproject.toml", "uv.lock")
    changed = sorted(line[3:] for line in status.splitlines() if line.strip())
    return {"commit": commit or None, "uncommitted_changes": changed}


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    # Not stripped: porcelain status lines start with a meaningful space.
    return done.stdout if done.returncode == 0 else ""


def record(
    *,
    benchmark: str,
    name: str,
    engine: str,
    figure: str,
    target: Target,
    unit: str,
    measured: Sequence[float],
    baseline: Sequence[float],
    fair_because: str,
    load_generator: str | None,
    details: Mapping[str, Any] | None = None,
) -> Result:
    """Build the result of one figure on one engine and write bench/results/<name>.<engine>.json."""
    measured_median = statistics.median(measured)
    baseline_median = statistics.median(baseline)
    ratio = measured_median / baseline_median if baseline_median else float("inf")
    result = Result(
        benchmark=benchmark,
        name=name,
        figure=figure,
        target=target.words,
        target_value=target.value,
        target_op=target.op,
        target_applies_to=target.applies_to,
        engine=engine,
        unit=unit,
        measured_median=round(measured_median, 4),
        baseline_median=round(baseline_median, 4),
        ratio=round(ratio, 4),
        passed=target.met(measured_median, ratio),
        samples={
            "measured": [round(v, 4) for v in measured],
            "baseline": [round(v, 4) for v in baseline],
        },
        load_generator=load_generator,
        fair_because=fair_because,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine(),
        code=code_revision(),
        details=dict(details or {}),
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.{engine}.json"
    path.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    log(
        f"{name} [{engine}]: {result.measured_median:g} {unit} vs baseline "
        f"{result.baseline_median:g} (ratio {result.ratio:.3f}) -> "
        f"{'PASS' if result.passed else 'FAIL'}; wrote {path.relative_to(ROOT)}"
    )
    return result
