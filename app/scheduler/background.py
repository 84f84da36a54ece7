"""A lifespan task that runs until the app stops: started once, cancelled on the way out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class BackgroundTask:
    """Subclasses give `_run`, which loops until cancelled."""

    name = "background"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _run(self) -> Coroutine[Any, Any, None]:
        raise NotImplementedError
