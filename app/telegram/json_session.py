"""aiogram's aiohttp session, posting each Bot API call as one JSON document.

aiogram's `AiohttpSession` sends every call as an HTML form: each nested field (a keyboard, a
list of entities) is dumped to JSON, then the whole form is percent-encoded through
`urllib.parse`, character by character in Python. The Bot API takes
`application/json` just as well (https://core.telegram.org/bots/api#making-requests), and
one `json.dumps` of the call is cheaper: the form encoding was a visible share of a button
press's CPU (see BENCHMARKS.md, "Figures behind design choices").

A call that uploads a file still goes as `multipart/form-data`, through aiogram's own code.
This session relies on aiogram's internals: app/patches/json_session.py checks them at
start-up, and if they changed, `telegram_bot()` uses aiogram's own session instead.
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import DEFAULT_TIMEOUT
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

from app.patches import applied
from app.telegram.response_models import hold_response_models

_JSON_HEADERS = {"Content-Type": "application/json"}


def telegram_bot(
    token: str,
    api_base: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    default: DefaultBotProperties | None = None,
) -> Bot:
    """The Bot every part of the app talks to Telegram through: this session (aiogram's own
    if app/patches refused it), at `api_base`, with its response models held
    (app/telegram/response_models.py)."""
    session_class = JsonAiohttpSession if applied("json_session") else AiohttpSession
    session = session_class(api=TelegramAPIServer.from_base(api_base), timeout=timeout)
    return hold_response_models(Bot(token, session=session, default=default))


class JsonAiohttpSession(AiohttpSession):
    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        payload = json_payload(self, bot, method, files)
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=self.json_dumps(payload),
                headers=_JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)


def json_payload(
    session: AiohttpSession,
    bot: Bot,
    method: TelegramMethod[Any],
    files: dict[str, InputFile],
) -> dict[str, Any]:
    """The call's fields as JSON values, prepared by aiogram (bot defaults, enums, nested
    objects); absent and empty fields left out, as aiogram's form leaves them out. Files to
    upload are collected into `files`."""
    payload: dict[str, Any] = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = session.prepare_value(value, bot=bot, files=files, _dumps_json=False)
        if prepared is None or prepared == "":
            continue
        payload[key] = prepared
    return payload
