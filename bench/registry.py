"""Every benchmark `python -m bench` knows. A new one is a module with an async `run(engine)`
returning its results, and one line here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bench import (
    dispatch,
    llm_drafts,
    me_throughput,
    plans_read,
    reconcile,
    startup,
    transitions,
    webhook_press,
)
from bench.harness import Result

Benchmark = Callable[[str], Awaitable[list[Result]]]

BENCHMARKS: dict[str, Benchmark] = {
    me_throughput.NAME: me_throughput.run,
    startup.NAME: startup.run,
    plans_read.NAME: plans_read.run,
    reconcile.NAME: reconcile.run,
    transitions.NAME: transitions.run,
    dispatch.NAME: dispatch.run,
    webhook_press.NAME: webhook_press.run,
    llm_drafts.NAME: llm_drafts.run,
}
