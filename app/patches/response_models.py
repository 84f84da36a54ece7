"""What holding aiogram's response models (app/telegram/response_models.py) relies on.

aiogram parses every Bot API answer with `Response[method.__returning__]`; the app's request
middleware builds that class for each method it calls and holds it, so pydantic's weak cache
of parametrized generics keeps it. That needs every aiogram method to name its result type in
`__returning__`, `Response` to be a generic of one parameter, and request middlewares to be
called as `(make_request, bot, method)`. If any changed, no middleware is installed: each
answer's class may be built again when the collector has freed it (slower, the same answers).
"""

from __future__ import annotations

from app.patches.guard import Patch, parameter_problems


def check() -> list[str]:
    import aiogram.methods
    from aiogram.client.session.middlewares.base import BaseRequestMiddleware
    from aiogram.methods import Response, TelegramMethod

    problems = parameter_problems(
        BaseRequestMiddleware.__call__,
        ("self", "make_request", "bot", "method"),
        "aiogram's BaseRequestMiddleware.__call__",
        exact=True,
    )
    parameters = Response.__pydantic_generic_metadata__["parameters"]
    if len(parameters) != 1:
        problems.append(f"aiogram's Response takes {len(parameters)} type parameters, not one")
    unnamed = [
        name
        for name in aiogram.methods.__all__
        if isinstance(kind := getattr(aiogram.methods, name), type)
        and issubclass(kind, TelegramMethod)
        and kind is not TelegramMethod
        and "__returning__" not in vars(kind)
    ]
    if unnamed:
        problems.append(f"aiogram's {', '.join(unnamed[:5])} no longer set __returning__")
    return problems


def install() -> None:
    """Nothing to change in aiogram: `hold_response_models()` holds them once applied."""


PATCH = Patch(name="response_models", relies_on=("aiogram",), check=check, install=install)
