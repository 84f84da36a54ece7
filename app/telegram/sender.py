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

The bot's replies (a handler's `message.answer`, a draft sent on a press) share the same
pacer: `PacedMessages` sits on the Bot's session and gives every other sendMessage a slot
and the same 429 handling (`Sender.deliver`). A reply can still collide with another
replica's reminders; Telegram's 429 then holds both, and the reply is retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup

from app.clock import Clock

log = logging.getLogger(__name__)

RETRY_AFTER_MARGIN = 0.5
TRANSIENT_ATTEMPTS = 4
BACKOFF_BASE = 0.5
MAX_RETRY_AFTER_ROUNDS = 20

Outcome = Literal["sent", "blocked", "failed", "withheld"]
ChatKey = int | str
T = TypeVar("T")

# True while Sender.send has its message on the wire: it took its slot already, so
# PacedMessages lets it through instead of pacing it a second time. A context variable is
# per task, so a reply sent meanwhile from another task is still paced.
_sent_by_sender: ContextVar[bool] = ContextVar("sent_by_sender", default=False)


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
        self._next_chat: dict[ChatKey, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    async def slot(self, chat_id: ChatKey) -> None:
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
        self._on_retry_after = on_retry_after

    async def send(
        self, message: Outgoing, may_send: Callable[[], bool] | None = None
    ) -> SendResult:
        """Send at the pace, retrying what Telegram asks to retry. `may_send`, asked right
        before each attempt (after the wait for a slot, which can be long), can withhold it:
        the outcome is then "withheld" and nothing went out."""
        transient = 0
        rounds = 0
        while True:
            await self.pacer.slot(message.chat_id)
            if may_send is not None and not may_send():
                return SendResult("withheld")
            paced = _sent_by_sender.set(True)
            try:
                message_id = await self.transport.send_message(message)
            except TelegramRetryAfter as exc:
                rounds += 1
                self._hold(exc)
                if rounds >= MAX_RETRY_AFTER_ROUNDS:
                    return self._failed("retry_after_exhausted")
                continue
            except TelegramForbiddenError:
                return self._blocked(message.chat_id, "forbidden")
            except TelegramBadRequest as exc:
                if "chat not found" in exc.message.lower():
                    return self._blocked(message.chat_id, "chat_not_found")
                log.error("telegram refused a message to %s: %s", message.chat_id, exc.message)
                return self._failed("bad_request")
            except (TimeoutError, TelegramServerError, TelegramNetworkError) as exc:
                transient += 1
                if transient >= TRANSIENT_ATTEMPTS:
                    log.warning("telegram unavailable after %s tries: %s", transient, _why(exc))
                    return self._failed("unavailable")
                await self.clock.sleep(BACKOFF_BASE * 2 ** (transient - 1))
                continue
            finally:
                _sent_by_sender.reset(paced)
            return SendResult("sent", message_id=message_id)

    async def deliver(self, chat_id: ChatKey, send: Callable[[], Awaitable[T]]) -> T:
        """A message someone else sends (a bot reply): it waits for its slot like a
        reminder, and a 429 holds every send and is retried after `retry_after`. Anything
        else is the caller's, raised as aiogram raised it."""
        rounds = 0
        while True:
            await self.pacer.slot(chat_id)
            try:
                return await send()
            except TelegramRetryAfter as exc:
                rounds += 1
                if rounds >= MAX_RETRY_AFTER_ROUNDS:
                    raise
                self._hold(exc)

    def _hold(self, exc: TelegramRetryAfter) -> None:
        wait = float(exc.retry_after) + RETRY_AFTER_MARGIN
        log.warning("telegram 429: every send waits %.1f s", wait)
        self.pacer.pause(wait)
        if self._on_retry_after is not None:
            self._on_retry_after(wait)

    def _blocked(self, chat_id: int, reason: str) -> SendResult:
        log.info("chat %s unreachable (%s)", chat_id, reason)
        return SendResult("blocked", reason=reason)

    def _failed(self, reason: str) -> SendResult:
        return SendResult("failed", reason=reason)


class PacedMessages(BaseRequestMiddleware):
    """On the Bot's session: every sendMessage the app makes outside `Sender.send` (the
    handlers' replies) goes through that sender's pacer and 429 handling, so one pacer per
    process spaces reminders and replies alike.

    Only sendMessage: Telegram's flood limits count messages sent to chats. A press's
    answerCallbackQuery and the edit of its reminder are one each per tap the person made,
    and a press left spinning behind a dispatch backlog would look broken."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not isinstance(method, SendMessage) or _sent_by_sender.get():
            return await make_request(bot, method)
        call: TelegramMethod[Any] = method

        async def send() -> Any:
            return await make_request(bot, call)

        response: Response[TelegramType] = await self.sender.deliver(method.chat_id, send)
        return response


def _why(exc: BaseException) -> str:
    return type(exc).__name__
