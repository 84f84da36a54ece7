"""Keep aiogram's per-method response models alive.

aiogram parses every Bot API answer with `Response[<the method's result type>]`, a pydantic
generic it parametrizes on each call. Pydantic caches parametrized classes in a
WeakValueDictionary, and nothing else holds them: the cyclic garbage collector keeps freeing
them, and the next call builds the class again, a schema build that was a large share of a
button press's CPU and recurred throughout dispatch passes (see BENCHMARKS.md, "Figures
behind design choices"). Holding each class once built keeps pydantic's cache warm; there is
one per Bot API method the app calls, a handful. What this relies on in aiogram is checked
at start-up (app/patches/response_models.py); if it changed, nothing is held.
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

from app.patches import applied

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
    """Install the middleware on the bot's session (unless app/patches refused it), and
    build the hot models; returns the bot."""
    if applied("response_models"):
        bot.session.middleware(HoldResponseModels())
    build_hot_models()
    return bot


def build_hot_models() -> None:
    """Build the models every update, reminder and press goes through, before the first one.

    aiogram's models are built when first used (app/patches/lazy_aiogram.py). Left to the
    first reminder, building them made its request late enough that the 31st message of a
    paced burst reached Telegram within one second of the first (a 429, seen in the pacing
    benchmark); building them here costs start-up a fraction of a second instead (see
    BENCHMARKS.md, "Figures behind design choices"). Building twice is a no-op."""
    # Message first: the models built after it reuse its schema instead of generating it
    # again.
    for model in (Message, Update, InlineKeyboardMarkup, InlineKeyboardButton):
        model.model_rebuild()
    for method in HOT_METHODS:
        method.model_rebuild()
        if applied("response_models"):
            _hold(method)
