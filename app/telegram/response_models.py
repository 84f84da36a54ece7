"""Keep aiogram's per-method response models alive.

aiogram parses every Bot API answer with `Response[<the method's result type>]`, a pydantic
generic it parametrizes on each call. Pydantic caches parametrized classes in a
WeakValueDictionary, and nothing else holds them: the cyclic garbage collector keeps freeing
them, and the next call builds the class again — about 10 ms of schema building, seen 84
times in 300 button presses (a third of a press's CPU) and throughout dispatch passes.
Holding each class once built keeps pydantic's cache warm; there is one per Bot API method
the app calls, a handful.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    Response,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

_held: dict[type[Any], type[Any]] = {}

# The Bot API calls of the hot paths: a reminder, and the answer and edit of a button press.
HOT_METHODS: tuple[type[TelegramMethod[Any]], ...] = (
    SendMessage,
    AnswerCallbackQuery,
    EditMessageText,
)


class HoldResponseModels(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        _hold(type(method))
        return await make_request(bot, method)


def _hold(kind: type[TelegramMethod[Any]]) -> None:
    if kind not in _held:
        _held[kind] = Response[kind.__returning__]  # type: ignore[name-defined]


def hold_response_models(bot: Bot) -> Bot:
    """Install the middleware on the bot's session, and build the hot models; returns the
    bot."""
    bot.session.middleware(HoldResponseModels())
    build_hot_models()
    return bot


def build_hot_models() -> None:
    """Build the models every update, reminder and press goes through, before the first one.

    aiogram's models are built when first used (app/lazy_aiogram.py). Left to the first
    reminder, building them made its request about 150 ms slower than the rest: enough that
    the 31st message of a paced burst reached Telegram within one second of the first (a
    429, seen in the pacing benchmark). Building them here costs start-up about 0.3 s on
    a slow machine. Building twice is a no-op."""
    # Message first: the models built after it reuse its schema instead of generating it
    # again (half the time).
    for model in (Message, Update, InlineKeyboardMarkup, InlineKeyboardButton):
        model.model_rebuild()
    for method in HOT_METHODS:
        method.model_rebuild()
        _hold(method)
