"""The dispatch loop: a task in the app's lifespan that runs a pass whenever something may
be due.

It sleeps until the earliest upcoming action time (never longer than SCHEDULER_MAX_SLEEP),
and wakes at once when this process changes a schedule (app.db.signals) or, on PostgreSQL,
when any replica does (LISTEN/NOTIFY). A failing pass is logged and retried with backoff;
the loop itself never dies silently. On shutdown the pass in flight stops sending,
records what it sent and gives back the rest within a grace period, then is cancelled; a
cancelled pass leaves leases that expire seconds later, so nothing is lost. It also wakes
when another worker's lease runs out (a process killed mid-pass), to take those over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.engine import URL

from app.clock import Clock
from app.db.database import Database
from app.db.signals import WakeListener, wake_signal
from app.repositories import claims as claims_repo
from app.scheduler.tick import Dispatcher

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
SHUTDOWN_GRACE = 10.0


class DispatchLoop:
    def __init__(
        self,
        dispatcher: Dispatcher,
        db: Database,
        clock: Clock,
        *,
        max_sleep: float,
        database_url: URL | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.db = db
        self.clock = clock
        self.max_sleep = max_sleep
        self.database_url = database_url
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Without LISTEN (SQLite, or no URL) the loop still runs, only on its own timer.
        self._listener = (
            WakeListener(database_url, self.wake)
            if db.is_postgres and database_url is not None
            else None
        )
        self.passes = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        wake_signal.subscribe(self.wake)
        self._task = asyncio.create_task(self._run(), name="dispatch-loop")

    async def stop(self) -> None:
        self._stopping = True
        # The pass in flight stops sending and gives back its unsent claims, so a redeploy
        # hands them to the next process at once.
        self.dispatcher.stop_sending()
        wake_signal.unsubscribe(self.wake)
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), SHUTDOWN_GRACE)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._listener is not None:
            await self._listener.close()

    async def _run(self) -> None:
        backoff = 1.0
        while not self._stopping:
            self._wake.clear()
            try:
                if self._listener is not None:
                    await self._listener.ensure()
                await self.dispatcher.run_pass()
                self.passes += 1
                backoff = 1.0
                delay = await self._until_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch pass failed; retrying in %.0f s", backoff)
                delay = backoff
                backoff = min(backoff * 2, MAX_BACKOFF)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _until_next(self) -> float:
        now = self.clock.now()
        async with self.db.read() as conn:
            upcoming = await claims_repo.next_action_after(conn, now)
        if upcoming is None:
            return self.max_sleep
        return min(self.max_sleep, max(0.0, (upcoming - self.clock.now()).total_seconds()))
