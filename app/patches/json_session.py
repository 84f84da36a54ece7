"""What the app's JSON session (app/telegram/json_session.py) relies on in aiogram.

`JsonAiohttpSession` replaces `AiohttpSession.make_request` with one that posts the call as a
JSON document, written with aiogram's own pieces: `create_session()`, `api.api_url()`,
the method's `__api_method__`, `prepare_value(..., _dumps_json=False)` (a private
parameter), `json_dumps`, `timeout` and `check_response()`. If any of them changed, the app
uses aiogram's own `AiohttpSession`, which posts forms: slower, the same calls.
"""

from __future__ import annotations

from app.patches.guard import Patch, missing_attribute, parameter_problems


def check() -> list[str]:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.session.base import BaseSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.methods import SendMessage

    where = "aiogram's AiohttpSession"
    problems = parameter_problems(
        AiohttpSession.make_request,
        ("self", "bot", "method", "timeout"),
        f"{where}.make_request",
        exact=True,
    )
    problems += parameter_problems(
        AiohttpSession.create_session, ("self",), f"{where}.create_session", exact=True
    )
    problems += parameter_problems(
        AiohttpSession.prepare_value,
        ("value", "bot", "files", "_dumps_json"),
        f"{where}.prepare_value",
    )
    problems += parameter_problems(
        AiohttpSession.check_response,
        ("bot", "method", "status_code", "content"),
        f"{where}.check_response",
    )
    problems += parameter_problems(
        TelegramAPIServer.api_url, ("token", "method"), "aiogram's TelegramAPIServer.api_url"
    )
    if not isinstance(getattr(SendMessage, "__api_method__", None), str):
        problems.append("aiogram's methods no longer name their Bot API method in __api_method__")
    # The attributes BaseSession.__init__ sets, without AiohttpSession's (it loads CA files).
    session = object.__new__(AiohttpSession)
    BaseSession.__init__(session)
    for name in ("api", "json_dumps", "timeout"):
        problems += missing_attribute(session, name, where)
    return problems


def install() -> None:
    """Nothing to change in aiogram: `telegram_bot()` uses the JSON session once applied."""


PATCH = Patch(name="json_session", relies_on=("aiogram",), check=check, install=install)
