"""`python -m bench [NAME ...] [--engines sqlite,postgresql]`, then BENCHMARKS.md."""

from __future__ import annotations

# First, before anything imports aiogram: its models are then built on first use, as in the
# service (app/patches/lazy_aiogram.py). Not in bench/__init__.py: bench.bare must not import app.
import app  # noqa: F401

# isort: split

import argparse
import asyncio
import sys
import traceback
from typing import cast

from bench import harness, report
from bench.registry import BENCHMARKS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmarks on each engine, write bench/results/*.json and BENCHMARKS.md.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})",
    )
    parser.add_argument(
        "--engines",
        default=",".join(harness.ENGINES),
        help="comma-separated engines (default: %(default)s)",
    )
    parser.add_argument(
        "--load-generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="auto: wrk, installed with apt-get if missing, else the Python generator",
    )
    parser.add_argument("--no-report", action="store_true", help="do not regenerate BENCHMARKS.md")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in harness.ENGINES]
    if bad or not engines:
        parser.error(f"--engines takes {', '.join(harness.ENGINES)}; got {args.engines!r}")
    args.engines = engines
    return args


async def run(names: list[str], engines: list[str]) -> list[str]:
    failures: list[str] = []
    for name in names:
        for engine in engines:
            harness.log(f"=== {name} on {engine}")
            try:
                await BENCHMARKS[name](engine)
            except Exception:
                # One broken benchmark must not cost the figures of the others.
                traceback.print_exc()
                failures.append(f"{name} [{engine}]")
    return failures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harness.use_load_generator(cast(harness.LoadKind, args.load_generator))
    names = args.names or list(BENCHMARKS)
    failures = asyncio.run(run(names, args.engines))
    if not args.no_report:
        path = report.write()
        harness.log(f"wrote {path.relative_to(harness.ROOT)}")
    if failures:
        harness.log(f"could not measure: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
