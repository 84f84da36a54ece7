"""Local mode's Telegram: an aiogram session that keeps messages in memory.

With no bot token the service still runs whole: the real aiogram Bot, dispatcher and
handlers run, but every Bot API call lands here instead of on Telegram, where a person can
read the messages and press their buttons (GET /dev/outbox).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, Message, User

from app.clock import Clock

LOCAL_BOT = User(
    id=0, is_bot=True, first_name="Engagement Plan Executor (local)", username="local_bot"
)


class Outbox:
    """Messages the bot 'sent', newest last, with their buttons and the toasts it showed."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self.messages: list[dict[str, Any]] = []
        self.toasts: list[dict[str, Any]] = []
        self._next_id = 0

    def add(self, chat_id: int, text: str, parse_mode: str | None, markup: Any) -> dict[str, Any]:
        self._next_id += 1
        entry = {
            "message_id": self._next_id,
            "chat_id": chat_id,
            "text": text,
            "parse_mode": parse_mode,
            "reply_markup": _markup(markup),
        }
        self.messages.append(entry)
        del self.messages[: -self.limit]
        return entry

    def find(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        for entry in self.messages:
            if entry["chat_id"] == chat_id and entry["message_id"] == message_id:
                return entry
        return None


def _markup(markup: Any) -> dict[str, Any] | None:
    if isinstance(markup, InlineKeyboardMarkup):
        return markup.model_dump(mode="json", exclude_none=True)
    return None


class OutboxSession(BaseSession):
    def __init__(self, outbox: Outbox, clock: Clock) -> None:
        super().__init__()
        self.outbox = outbox
        self.clock = clock

    async def close(self) -> None:
        return None

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        now = self.clock.now()
        if isinstance(method, SendMessage):
            entry = self.outbox.add(
                int(method.chat_id),
                method.text,
                _parse_mode(method.parse_mode),
                method.reply_markup,
            )
            return cast(TelegramType, self._message(entry, now))
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            found = (
                self.outbox.find(int(method.chat_id), method.message_id)
                if method.chat_id is not None and method.message_id is not None
                else None
            )
            if found is None:
                return cast(TelegramType, True)
            if isinstance(method, EditMessageText):
                found["text"] = method.text
                found["parse_mode"] = _parse_mode(method.parse_mode)
            found["reply_markup"] = _markup(method.reply_markup)
            return cast(TelegramType, self._message(found, now))
        if isinstance(method, AnswerCallbackQuery):
            self.outbox.toasts.append(
                {"text": method.text, "alert": bool(method.show_alert), "at": now.isoformat()}
            )
            del self.outbox.toasts[: -self.outbox.limit]
            return cast(TelegramType, True)
        if isinstance(method, GetMe):
            return cast(TelegramType, LOCAL_BOT)
        # setMyCommands, setWebhook, deleteWebhook, setChatMenuButton...: nothing to do here.
        return cast(TelegramType, True)

    def _message(self, entry: dict[str, Any], now: datetime) -> Message:
        return Message(
            message_id=entry["message_id"],
            date=now,
            chat=Chat(id=entry["chat_id"], type="private"),
            from_user=LOCAL_BOT,
            text=entry["text"],
        )

    async def stream_content(  # pragma: no cover - no files in local mode
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("local mode has no files to download")
        yield b""


def _parse_mode(value: Any) -> str | None:
    return value if isinstance(value, str) else None
