"""The reconcile loop: a lifespan task that repairs plans edited apart from outside the
service (app.services.reconcile) every RECONCILE_INTERVAL seconds, without anyone running
`python -m app reconcile`.

One replica at a time: on PostgreSQL the pass runs under an advisory lock of its own (not
the dispatcher's, so neither waits for the other), and a replica that finds it taken skips
its turn; SQLite is one process, and this loop never overlaps itself. A failing pass is
logged and the loop waits for its next turn. Stopping cancels a pass in flight: each lead
is repaired in a transaction of its own, so a cancelled pass leaves every lead either
repaired or untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from sqlalchemy import text

from app.clock import Clock
from app.db.database import Database
from app.scheduler.background import BackgroundTask
from app.services.reconcile import ReconcileReport, reconcile

log = logging.getLogger(__name__)

RECONCILE_LOCK_KEY = 0x65706C616E + 2
# Start-up has its own work (migrations, the first dispatch pass, a deploy's burst of
# requests); the first pass comes a minute later, or sooner if the interval is shorter.
FIRST_PASS_AFTER = 60.0

Work = Callable[[Database, datetime], Awaitable[ReconcileReport]]


class ReconcileLoop(BackgroundTask):
    name = "reconcile-loop"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        interval: float,
        first_after: float = FIRST_PASS_AFTER,
        work: Work = reconcile,
    ) -> None:
        super().__init__()
        self.db = db
        self.clock = clock
        self.interval = interval
        self.first_after = min(first_after, interval)
        self.work = work
        self.passes = 0
        self.skipped = 0
        self.failed = 0

    async def _run(self) -> None:
        await asyncio.sleep(self.first_after)
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval)

    async def run_once(self) -> ReconcileReport | None:
        """One pass if no other replica is running one; never raises but on cancellation."""
        started = self.clock.monotonic()
        try:
            async with self._exclusive() as mine:
                if not mine:
                    self.skipped += 1
                    log.info("reconcile skipped: another replica is running it")
                    return None
                report = await self.work(self.db, self.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failed += 1
            log.exception("reconcile failed; next try in %.0f s", self.interval)
            return None
        self.passes += 1
        # Each repair has its own warning line (app.services.reconcile); this is the summary.
        log.info(
            "reconcile: %s leads checked, %s repairs in %.3f s",
            report.leads_checked,
            len(report.repairs),
            self.clock.monotonic() - started,
        )
        return report

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[bool]:
        if not self.db.is_postgres:
            yield True
            return
        async with self.db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(
                (
                    await conn.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": RECONCILE_LOCK_KEY}
                    )
                ).scalar_one()
            )
            try:
                yield got
            finally:
                if got:
                    try:
                        await conn.execute(
                            text("SELECT pg_advisory_unlock(:key)"), {"key": RECONCILE_LOCK_KEY}
                        )
                    except Exception:
                        # A session lock outlives its statement: a pooled connection still
                        # holding it would keep every replica from reconciling. Closing the
                        # connection releases it.
                        await conn.invalidate()
                        raise
