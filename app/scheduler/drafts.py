"""The draft prefetch loop: a lifespan task beside the dispatch loop.

Every scan only *schedules* regeneration of stale drafts due within the hour
(app.services.drafts.DraftService.prefetch); generations run as tasks of their own, so
neither this loop nor any dispatch pass ever waits for a model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.services.drafts import DraftService

log = logging.getLogger(__name__)

SCAN_EVERY = 30.0


class DraftPrefetchLoop:
    def __init__(self, drafts: DraftService, *, every: float = SCAN_EVERY) -> None:
        self.drafts = drafts
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="draft-prefetch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                scheduled = await self.drafts.prefetch()
                if scheduled:
                    log.info("draft prefetch: %s drafts being written", scheduled)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("draft prefetch scan failed")
            await asyncio.sleep(self.every)
