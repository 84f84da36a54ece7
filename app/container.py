"""What a running app holds: built once in the lifespan, handed to routers by dependency."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram import Dispatcher as BotDispatcher
from fastapi import Request

from app.clock import Clock
from app.db.database import Database
from app.llm.writer import Writer
from app.scheduler.drafts import DraftPrefetchLoop
from app.scheduler.loop import DispatchLoop
from app.scheduler.metrics import DispatchMetrics
from app.scheduler.tick import Dispatcher
from app.services.drafts import DraftService
from app.services.users import UserCache
from app.settings import Settings
from app.telegram.outbox import Outbox


class VerifiedInitData:
    """initData strings already verified, so a page's burst of requests (which all carry
    the same string) pays for parsing and two HMACs once. Verification is a pure function of
    the string and the token, so remembering it is exact; the age is still checked on every
    request. Bounded, least recently used first out; failures are never remembered."""

    def __init__(self, max_size: int = 4096) -> None:
        self.max_size = max_size
        self._entries: OrderedDict[str, Any] = OrderedDict()

    def get(self, raw: str) -> Any | None:
        found = self._entries.get(raw)
        if found is not None:
            self._entries.move_to_end(raw)
        return found

    def put(self, raw: str, value: Any) -> None:
        self._entries[raw] = value
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)


@dataclass(slots=True)
class Container:
    settings: Settings
    clock: Clock
    db: Database
    metrics: DispatchMetrics
    dispatcher: Dispatcher
    writer: Writer
    drafts: DraftService
    outbox: Outbox | None = None
    bot: Bot | None = None
    bot_dispatcher: BotDispatcher | None = None
    loop: DispatchLoop | None = None
    prefetch: DraftPrefetchLoop | None = None
    user_cache: UserCache = field(default_factory=UserCache)
    init_data: VerifiedInitData = field(default_factory=VerifiedInitData)


async def get_container(request: Request) -> Container:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread per call.
    container: Container = request.app.state.container
    return container
