"""Every outgoing Telegram message goes through here: paced, retried, classified.

Pacing: messages are spaced so that at most SEND_RATE_GLOBAL go out per second in all, and
at most SEND_RATE_PER_CHAT to one chat. Spacing (rather than bursts) keeps every sliding
one-second window under the limit. A 429 pauses every send for `retry_after` plus a margin,
then the message is retried: nothing is dropped. 5xx, timeouts and connection errors are
retried with backoff a few times; after that the caller gets `failed` and releases the
claim for a later pass. 403 and "chat not found" are facts about the user, not errors to
retry: the caller marks the user unreachable.

Across replicas, only the replica holding the dispatch lock sends reminders (see
app/scheduler/tick.py), so this in-process pacing is the global pacing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from app.clock import Clock

log = logging.getLogger(__name__)

RETRY_AFTER_MARGIN = 0.5
TRANSIENT_ATTEMPTS = 4
BACKOFF_BASE = 0.5
MAX_RETRY_AFTER_ROUNDS = 20

Outcome = Literal["sent", "blocked", "failed"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    chat_id: int
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    message_id: int | None = None
    reason: str | None = None


class Transport(Protocol):
    """Where messages physically go: Telegram's Bot API, or the local-mode outbox."""

    async def send_message(self, message: Outgoing) -> int: ...


class BotTransport:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_message(self, message: Outgoing) -> int:
        sent = await self.bot.send_message(
            chat_id=message.chat_id,
            text=message.text,
            parse_mode="HTML",
            reply_markup=message.reply_markup,
            disable_web_page_preview=True,
        )
        return sent.message_id


@dataclass(slots=True)
class SenderStats:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retry_after: int = 0
    transient: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


# Requests leave evenly spaced but reach Telegram with jitter, which can squeeze two of them
# closer than the limit allows; pacing a few percent under the limit absorbs that.
PACING_HEADROOM = 0.97


class Pacer:
    """Spaces sends: one global gap and one per chat, plus a global pause after a 429."""

    def __init__(self, clock: Clock, global_rate: float, per_chat_rate: float) -> None:
        self.clock = clock
        self.global_gap = 1.0 / (global_rate * PACING_HEADROOM)
        self.chat_gap = 1.0 / (per_chat_rate * PACING_HEADROOM)
        # Long enough that no one-second window, and no chat's gap, spans sends from
        # before and after a pause of this length.
        self.window = max(1.0, self.chat_gap)
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    async def slot(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` may go out, and reserve that moment."""
        while True:
            async with self._lock:
                now = self.clock.monotonic()
                at = max(
                    now, self._next_global, self._next_chat.get(chat_id, 0.0), self._paused_until
                )
                if at <= now:
                    self._next_global = now + self.global_gap
                    self._next_chat[chat_id] = now + self.chat_gap
                    if len(self._next_chat) > 10_000:
                        self._forget_idle_chats(now)
                    return
            await self.clock.sleep(at - now)

    def _forget_idle_chats(self, now: float) -> None:
        for chat in [c for c, t in self._next_chat.items() if t <= now]:
            del self._next_chat[chat]


class Sender:
    def __init__(
        self,
        transport: Transport,
        clock: Clock,
        *,
        global_rate: float,
        per_chat_rate: float,
        on_retry_after: Callable[[float], None] | None = None,
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.pacer = Pacer(clock, global_rate, per_chat_rate)
        self.stats = SenderStats()
        self._on_retry_after = on_retry_after

    async def send(self, message: Outgoing) -> SendResult:
        transient = 0
        rounds = 0
        while True:
            await self.pacer.slot(message.chat_id)
            try:
                message_id = await self.transport.send_message(message)
            except TelegramRetryAfter as exc:
                rounds += 1
                self.stats.retry_after += 1
                wait = float(exc.retry_after) + RETRY_AFTER_MARGIN
                log.warning("telegram 429: every send waits %.1f s", wait)
                self.pacer.pause(wait)
                if self._on_retry_after is not None:
                    self._on_retry_after(wait)
                if rounds >= MAX_RETRY_AFTER_ROUNDS:
                    return self._failed("retry_after_exhausted")
                continue
            except TelegramForbiddenError as exc:
                return self._blocked(message.chat_id, "forbidden", exc)
            except TelegramBadRequest as exc:
                if "chat not found" in exc.message.lower():
                    return self._blocked(message.chat_id, "chat_not_found", exc)
                log.error("telegram refused a message to %s: %s", message.chat_id, exc.message)
                return self._failed("bad_request")
            except (TimeoutError, TelegramServerError, TelegramNetworkError) as exc:
                transient += 1
                self.stats.transient += 1
                if transient >= TRANSIENT_ATTEMPTS:
                    log.warning("telegram unavailable after %s tries: %s", transient, _why(exc))
                    return self._failed("unavailable")
                await self.clock.sleep(BACKOFF_BASE * 2 ** (transient - 1))
                continue
            self.stats.sent += 1
            return SendResult("sent", message_id=message_id)

    def _blocked(self, chat_id: int, reason: str, exc: Exception) -> SendResult:
        self.stats.blocked += 1
        self._count(reason)
        log.info("chat %s unreachable (%s)", chat_id, reason)
        return SendResult("blocked", reason=reason)

    def _failed(self, reason: str) -> SendResult:
        self.stats.failed += 1
        self._count(reason)
        return SendResult("failed", reason=reason)

    def _count(self, reason: str) -> None:
        self.stats.by_reason[reason] = self.stats.by_reason.get(reason, 0) + 1


def _why(exc: BaseException) -> str:
    return type(exc).__name__
