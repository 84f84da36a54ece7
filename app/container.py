"""What a running app holds: built once in the lifespan, handed to routers by dependency."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram import Dispatcher as BotDispatcher
from fastapi import Request

from app.auth_cache import VerifiedInitData
from app.clock import Clock
from app.db.database import Database
from app.links import Links
from app.llm.writer import Writer
from app.logs import exception_summary
from app.scheduler.drafts import DraftPrefetchLoop
from app.scheduler.loop import DispatchLoop
from app.scheduler.metrics import DispatchMetrics
from app.scheduler.reconcile import ReconcileLoop
from app.scheduler.tick import Dispatcher
from app.services.drafts import DraftService
from app.services.plans_cache import PlansCache
from app.services.users import UserCache
from app.settings import Settings
from app.telegram.outbox import Outbox

log = logging.getLogger(__name__)


class Background:
    """Work a handler starts but does not wait for (e.g. a plan the model is writing), so a
    webhook answers Telegram at once. Failures are logged; shutdown cancels what is left."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Without the exception's message: the work is a person's (a lead's plan), and
            # the message can quote what they wrote. The traceback is at DEBUG.
            log.error("background %s failed: %s", task.get_name(), exception_summary(exc))
            log.debug("background %s failure", task.get_name(), exc_info=exc)

    async def wait(self) -> None:
        """Until everything started so far has finished (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(slots=True)
class Container:
    settings: Settings
    clock: Clock
    db: Database
    metrics: DispatchMetrics
    links: Links
    dispatcher: Dispatcher
    writer: Writer
    drafts: DraftService
    outbox: Outbox | None = None
    bot: Bot | None = None
    bot_dispatcher: BotDispatcher | None = None
    loop: DispatchLoop | None = None
    prefetch: DraftPrefetchLoop | None = None
    reconcile: ReconcileLoop | None = None
    user_cache: UserCache = field(default_factory=UserCache)
    init_data: VerifiedInitData = field(default_factory=VerifiedInitData)
    plans_cache: PlansCache = field(default_factory=PlansCache)
    background: Background = field(default_factory=Background)


async def get_container(request: Request) -> Container:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread per call.
    container: Container = request.app.state.container
    return container
