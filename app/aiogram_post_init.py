"""Bind each aiogram object to its bot in one step instead of three.

Every aiogram type remembers the Bot it came through (`message.bot`, what `message.answer()`
calls), in one pydantic private attribute, `_bot`, set by `BotContextController`'s
`model_post_init`. Pydantic wraps that method once per class in the hierarchy that inherits
it (`BotContextController`, `TelegramObject`, then `Message`, ...), and each wrapper first
initialises the private attributes from their declared defaults, in Python. For the ~25
objects of one update or one Bot API answer (the message, its chat, its sender, its
entities, its keyboard's buttons) that was about 8% of a dispatch worker's CPU and 6% of a
button press's.

`bind_bots_directly()` gives each of those classes a `model_post_init` that does what the
chain ends up doing, `__pydantic_private__ = {"_bot": bot}`, in one step. It only replaces a
class's method when the chain is exactly pydantic's wrappers around aiogram's own method and
the class declares no private attribute but `_bot`; any other class keeps pydantic's chain.
`tests/test_aiogram_post_init.py` compares the objects both ways build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiogram.client.context_controller import BotContextController


def bind_bots_directly() -> int:
    """Install the one-step `model_post_init` on aiogram's classes; how many took it."""
    original = _innermost(BotContextController.model_post_init)
    replaced = 0
    for cls in _family(BotContextController):
        own = cls.__dict__.get("model_post_init")
        if own is None or own is _bind_bot:
            continue
        if set(cls.__private_attributes__) != {"_bot"} or _innermost(own) is not original:
            continue
        cls.model_post_init = _bind_bot  # type: ignore[method-assign,assignment]
        replaced += 1
    return replaced


def _bind_bot(self: BotContextController, context: Any, /) -> None:
    bot = context.get("bot") if context else None
    private = getattr(self, "__pydantic_private__", None)
    if private is None:
        object.__setattr__(self, "__pydantic_private__", {"_bot": bot})
    else:
        private["_bot"] = bot


def _innermost(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function at the bottom of a chain of `functools.wraps` wrappers."""
    while (inner := getattr(function, "__wrapped__", None)) is not None:
        function = inner
    return function


def _family(root: type[BotContextController]) -> Iterator[type[BotContextController]]:
    seen: set[type[BotContextController]] = set()
    stack = [root]
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        stack.extend(cls.__subclasses__())
