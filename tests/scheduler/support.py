"""A dispatcher wired to the real aiogram Bot and the fake Bot API, for dispatch tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from sqlalchemy import select

from app.clock import Clock
from app.db.database import Database
from app.db.tables import scheduled_reminders
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile, User
from app.domain.views import LeadRead
from app.links import Links
from app.scheduler.metrics import DispatchMetrics
from app.scheduler.tick import Dispatcher
from app.services import plans as plans_service
from app.services import users as users_service
from app.telegram.sender import BotTransport, Sender
from tests.support.fake_telegram import FakeTelegram, make_bot


@dataclass
class Env:
    fake: FakeTelegram
    bot: Bot
    sender: Sender
    dispatcher: Dispatcher
    metrics: DispatchMetrics


@asynccontextmanager
async def dispatch_env(
    db: Database,
    clock: Clock,
    *,
    cap: int = 3,
    global_rate: float = 1000.0,
    per_chat_rate: float = 1000.0,
    app_url: str | None = None,
    worker_id: str | None = None,
) -> AsyncIterator[Env]:
    async with FakeTelegram() as fake:
        bot = make_bot(fake, timeout=5)
        try:
            metrics = DispatchMetrics()
            sender = Sender(
                BotTransport(bot),
                clock,
                global_rate=global_rate,
                per_chat_rate=per_chat_rate,
                on_retry_after=lambda _s: metrics.retry_after.inc(),
            )
            dispatcher = Dispatcher(
                db=db,
                clock=clock,
                sender=sender,
                metrics=metrics,
                per_user_cap=cap,
                links=Links(app_url),
                worker_id=worker_id,
            )
            yield Env(fake, bot, sender, dispatcher, metrics)
        finally:
            await bot.session.close()


async def make_user(db: Database, clock: Clock, telegram_id: int = 1001, **settings: Any) -> User:
    user = await users_service.sign_in(
        db, TelegramProfile(telegram_id=telegram_id, first_name="Ana"), clock.now()
    )
    if settings:
        user = await users_service.update_settings(db, telegram_id, settings, clock.now())
    return user


async def make_lead(
    db: Database,
    clock: Clock,
    user: User,
    delays: list[int],
    *,
    name: str = "Lead",
    company: str | None = "Acme",
) -> LeadRead:
    specs = [
        StepSpec(
            step_id=i + 1,
            description=f"Step {i + 1} of {name}",
            delay_days=d,
            channel="email",
            suggested_text=f"Hello from step {i + 1}",
        )
        for i, d in enumerate(delays)
    ]
    return await plans_service.create_lead(
        db, user, {"name": name, "company": company}, specs, clock.now()
    )


async def reminder_status(db: Database, reminder_id: int) -> str:
    async with db.read() as conn:
        status: str = (
            await conn.execute(
                select(scheduled_reminders.c.status).where(scheduled_reminders.c.id == reminder_id)
            )
        ).scalar_one()
    return status
