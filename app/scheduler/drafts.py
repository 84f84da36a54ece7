"""The draft prefetch loop: a lifespan task beside the dispatch loop.

Every scan only *schedules* regeneration of stale drafts due within the hour
(app.services.drafts.DraftService.prefetch); generations run as tasks of their own, so
neither this loop nor any dispatch pass ever waits for a model.
"""

from __future__ import annotations

import asyncio
import logging

from app.scheduler.background import BackgroundTask
from app.services.drafts import DraftService

log = logging.getLogger(__name__)

SCAN_EVERY = 30.0


class DraftPrefetchLoop(BackgroundTask):
    name = "draft-prefetch"

    def __init__(self, drafts: DraftService, *, every: float = SCAN_EVERY) -> None:
        super().__init__()
        self.drafts = drafts
        self.every = every

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
