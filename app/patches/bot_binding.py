"""Bind each aiogram object to its bot in one step instead of three.

Every aiogram type remembers the Bot it came through (`message.bot`, what `message.answer()`
calls), in one pydantic private attribute, `_bot`, set by `BotContextController`'s
`model_post_init`. Pydantic wraps that method once per class in the hierarchy that inherits
it (`BotContextController`, `TelegramObject`, then `Message`, ...), and each wrapper first
initialises the private attributes from their declared defaults, in Python. For the ~25
objects of one update or one Bot API answer (the message, its chat, its sender, its
entities, its keyboard's buttons) that was a visible share of a dispatch worker's and a
button press's CPU (see BENCHMARKS.md, "Figures behind design choices").

This patch gives each of those classes a `model_post_init` that does what the chain ends up
doing, `__pydantic_private__ = {"_bot": bot}`, in one step. It only replaces a class's
method when the chain is exactly pydantic's wrappers around aiogram's own method and the
class declares no private attribute but `_bot`; any other class keeps pydantic's chain.
`tests/patches/test_bot_binding.py` compares the objects both ways build.

Relies on: `BotContextController` declaring only `_bot` and a `model_post_init(self,
context)` that sets it from `context.get("bot")`; pydantic keeping private attributes in
`__pydantic_private__` and marking its wrappers with `__wrapped__`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel

from app.patches.guard import Patch, Refused

_CONTROLLER_MODULE = "aiogram.client.context_controller"
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def check() -> list[str]:
    from aiogram.client.context_controller import BotContextController

    where = "aiogram's BotContextController"
    problems = []
    if "__pydantic_private__" not in BaseModel.__slots__:
        problems.append("pydantic's BaseModel no longer keeps __pydantic_private__")
    private = sorted(BotContextController.__private_attributes__)
    if private != ["_bot"]:
        problems.append(f"{where} declares private attributes {private}, not ['_bot']")
    own = BotContextController.__dict__.get("model_post_init")
    if own is None:
        problems.append(f"{where} no longer defines model_post_init")
        return problems
    if own is _bind_bot:
        return problems  # already applied, over a controller that passed this check
    original = _innermost(own)
    if getattr(original, "__module__", None) != _CONTROLLER_MODULE:
        problems.append(f"{where}.model_post_init is no longer aiogram's own method")
    # Called as model_post_init(self, context): aiogram's second parameter is name-mangled.
    parameters = list(inspect.signature(original).parameters.values())
    if len(parameters) != 2 or any(p.kind not in _POSITIONAL for p in parameters):
        problems.append(f"{where}.model_post_init no longer takes (self, context)")
    return problems


def install() -> None:
    if bind_bots_directly() == 0 and not _bound_already():
        raise Refused(
            "no aiogram class has pydantic's wrappers around BotContextController.model_post_init"
        )


def bind_bots_directly() -> int:
    """Install the one-step `model_post_init` on aiogram's classes; how many took it."""
    from aiogram.client.context_controller import BotContextController

    original = _innermost(BotContextController.model_post_init)
    chosen = []
    for cls in _family(BotContextController):
        own = cls.__dict__.get("model_post_init")
        if own is None or own is _bind_bot:
            continue
        if set(cls.__private_attributes__) != {"_bot"} or _innermost(own) is not original:
            continue
        chosen.append(cls)
    for cls in chosen:
        cls.model_post_init = _bind_bot  # type: ignore[method-assign]
    return len(chosen)


def _bound_already() -> bool:
    from aiogram.client.context_controller import BotContextController

    return BotContextController.__dict__.get("model_post_init") is _bind_bot


def _bind_bot(self: BaseModel, context: Any, /) -> None:
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


def _family(root: type[BaseModel]) -> Iterator[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    stack = [root]
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        stack.extend(cls.__subclasses__())


PATCH = Patch(
    name="bot_binding",
    relies_on=("aiogram", "pydantic"),
    check=check,
    install=install,
)
