"""Bot start-up: register the webhook, commands and menu button, or run long polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, MenuButtonWebApp, WebAppInfo

from app.container import Container

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
COMMANDS = [
    BotCommand(command="today", description="Steps due now and overdue"),
    BotCommand(
        command="lead", description="Add a lead with a written plan: Name, Company — context"
    ),
    BotCommand(command="pause", description="Pause reminders (optionally for N days)"),
    BotCommand(command="resume", description="Resume reminders"),
    BotCommand(command="help", description="How this bot works"),
]


async def start_bot(container: Container) -> asyncio.Task[None] | None:
    """Returns the polling task when polling, else None."""
    bot, dispatcher, settings = container.bot, container.bot_dispatcher, container.settings
    if bot is None or dispatcher is None or settings.local_mode:
        return None
    try:
        await bot.set_my_commands(COMMANDS)
        app_url = container.links.app_url
        if app_url is not None:
            await bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(text="Plans", web_app=WebAppInfo(url=app_url))
            )
        if settings.telegram_updates == "polling":
            await bot.delete_webhook(drop_pending_updates=False)
        elif settings.public_base_url is not None:
            secret = settings.telegram_webhook_secret
            await bot.set_webhook(
                url=f"{settings.public_base_url}/telegram/webhook",
                secret_token=secret.get_secret_value() if secret is not None else None,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("webhook registered at %s/telegram/webhook", settings.public_base_url)
    except TelegramAPIError as exc:
        # The service still serves the Mini App and sends reminders; say why loudly.
        log.error("bot registration failed: %s", exc.message)
    if settings.telegram_updates != "polling":
        return None
    return asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, allowed_updates=ALLOWED_UPDATES
        ),
        name="telegram-polling",
    )


async def stop_bot(container: Container, polling: asyncio.Task[None] | None) -> None:
    if polling is not None and container.bot_dispatcher is not None:
        with contextlib.suppress(RuntimeError):
            await container.bot_dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(polling, timeout=5)
