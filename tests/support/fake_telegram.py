"""A real, local fake of the Telegram Bot API for tests.

`FakeTelegram` runs an aiohttp web server on 127.0.0.1 (a free port) that answers
`{base}/bot{token}/{method}` the way api.telegram.org does, so the real aiogram `Bot`
(the app's real aiohttp session, real HTTP, real JSON, real error mapping) talks to it:

    async with FakeTelegram() as fake:
        async with make_bot(fake) as bot:
            message = await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
        assert fake.sent_messages()[0].params["text"] == "<b>hi</b>"

Every request is recorded as a `Call` in arrival order, with its parameters decoded
(JSON-encoded values such as `chat_id`, `reply_markup` become Python objects; free-text
fields such as `text` stay strings). Failures can be scripted (`fail_next`), chats can be
blocked or missing, answers can be slowed down (`delay`) and Telegram's flood limits can
be enforced (`enforce_limits`).

Semantics worth knowing:

* A request is *processed when it arrives* (recorded, flood limits judged, message stored),
  then the answer waits `delay` seconds. A client that times out therefore leaves a
  message that *was* delivered, exactly the ambiguous case real Telegram produces;
  `Call.answered` tells whether the answer reached the client.
* `parse_mode="HTML"` is parsed like Telegram does: tags are stripped from the returned
  message's `text` and turned into `entities`, and malformed or unsupported markup is a
  400 "Bad Request: can't parse entities: ...". Markdown modes are echoed unparsed.
* `editMessageText` without `reply_markup` removes the inline keyboard, and an edit that
  changes nothing is a 400 "Bad Request: message is not modified: ...", both as in
  Telegram. Messages can be edited only if the fake knows them: sent through it, or part
  of an update given to `queue_update`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiohttp import web
from aiohttp.web_request import FileField

from app.telegram.json_session import telegram_bot
from tests.support.loopback import LoopbackServer, serve

__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "FakeTelegram",
    "callback_query_update",
    "make_bot",
    "message_update",
]

DEFAULT_TOKEN: Final = "123456789:AAFakeTelegramTokenForTests_0123456789"

MAX_MESSAGE_LENGTH: Final = 4096
MAX_CALLBACK_DATA_BYTES: Final = 64
GET_UPDATES_WAIT_CAP: Final = 1.0

# Parameters that are free text in the Bot API: never JSON-decoded ("123" stays "123").
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "url",
        "secret_token",
        "ip_address",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "custom_emoji_id",
        "query",
        "question",
        "payload",
        "currency",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "performer",
    }
)

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

ChatId = int | str


@dataclass
class Call:
    """One request the fake received.

    `response_status` is 0 only while a long-polling `getUpdates` is still waiting.
    `answered` is None until the answer is written, then True, or False when the client
    had already gone (e.g. its request timed out during `delay`).
    """

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() on arrival
    response_status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    answered: bool | None = None
    content_type: str = ""
    """How the client sent the parameters: application/json, a form, or none."""

    @property
    def ok(self) -> bool:
        return self.response_status == HTTPStatus.OK

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def chat_id(self) -> ChatId | None:
        return _chat_key(self.params.get("chat_id"))

    @property
    def description(self) -> str | None:
        value = self.response.get("description")
        return value if isinstance(value, str) else None


@dataclass
class _ScriptedFailure:
    method: str  # lower-cased
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: ChatId | None


@dataclass(frozen=True)
class _Limits:
    global_per_second: int
    per_chat_per_second: int
    retry_after: int


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {detail}")


def _default_description(status: int, retry_after: int | None) -> str:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _chat_key(value: Any) -> ChatId | None:
    """The chat a request addresses: an int id, or an "@username" string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _decode_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- Telegram's HTML parse mode ------------------------------------------------------

_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_ENTITIES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_CHAR_ENTITY_RE: Final = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED_CHARS: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_RE: Final = re.compile(r"<([^\s>]*)")
_START_TAG_RE: Final = re.compile(
    r"""<[^\s>]+((?:\s+[^\s=>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*>"""
)
_ATTR_RE: Final = re.compile(r"""([^\s=>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_END_TAG_RE: Final = re.compile(r"</([^\s>]*)\s*>")


class _HtmlError(Exception):
    pass


def _decode_char_entity(match: re.Match[str]) -> str | None:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_CHARS[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code == 0:
        return None
    return chr(code)


def _unescape(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        decoded = _decode_char_entity(match)
        return match.group(0) if decoded is None else decoded

    return _CHAR_ENTITY_RE.sub(replace, value)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: plain text plus entities (UTF-16 offsets).

    Raises `_HtmlError` with Telegram's wording for markup Telegram rejects.
    """
    out: list[str] = []
    utf16 = 0
    stack: list[tuple[str, dict[str, str], int]] = []  # tag, attributes, utf-16 offset
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            match = _CHAR_ENTITY_RE.match(text, i)
            decoded = _decode_char_entity(match) if match else None
            if match and decoded is not None:
                out.append(decoded)
                utf16 += _utf16_len(decoded)
                i = match.end()
                continue
        if char != "<":
            out.append(char)
            utf16 += _utf16_len(char)
            i += 1
            continue
        at = len(text[:i].encode())
        if text.startswith("</", i):
            end = _END_TAG_RE.match(text, i)
            if not stack:
                raise _HtmlError(f"Unexpected end tag at byte offset {at}")
            if end is None:
                raise _HtmlError(f"Unclosed end tag at byte offset {at}")
            tag, open_attrs, offset = stack.pop()
            name = end.group(1).lower()
            if name and name != tag:
                raise _HtmlError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{name}>"'
                )
            _close_entity(entities, tag, open_attrs, offset, utf16 - offset)
            i = end.end()
            continue
        name_match = _TAG_NAME_RE.match(text, i)
        assert name_match is not None
        if name_match.end() >= len(text):
            raise _HtmlError(f"Unclosed start tag at byte offset {at}")
        tag = name_match.group(1).lower()
        if tag not in _HTML_TAGS:
            raise _HtmlError(f'Unsupported start tag "{tag}" at byte offset {at}')
        start = _START_TAG_RE.match(text, i)
        if start is None:
            raise _HtmlError(f'Unclosed start tag "{tag}" at byte offset {at}')
        attrs: dict[str, str] = {}
        for attr in _ATTR_RE.finditer(start.group(1)):
            raw = next((v for v in attr.groups()[1:] if v is not None), "")
            attrs[attr.group(1).lower()] = _unescape(raw)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        stack.append((tag, attrs, utf16))
        i = start.end()
    if stack:
        raise _HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_entity(
    entities: list[dict[str, Any]], tag: str, attrs: dict[str, str], offset: int, length: int
) -> None:
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": offset, "length": length}
    if tag in _SIMPLE_ENTITIES:
        entity["type"] = _SIMPLE_ENTITIES[tag]
        if tag == "code" and attrs.get("class", "").startswith("language-"):
            entity["language"] = attrs["class"].removeprefix("language-")
    elif tag == "a":
        href = attrs.get("href")
        if not href:
            return
        entity.update(type="text_link", url=href)
    elif tag == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise _HtmlError("Invalid custom emoji identifier specified")
        entity.update(type="custom_emoji", custom_emoji_id=emoji_id)
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    else:  # pre; a <code> spanning the whole <pre> becomes the pre's language
        entity["type"] = "pre"
        last = entities[-1] if entities else {}
        if last.get("type") == "code" and (last["offset"], last["length"]) == (offset, length):
            entities.pop()
            if "language" in last:
                entity["language"] = last["language"]
    entities.append(entity)


# --- the fake server -------------------------------------------------------------------

_Handler = Callable[[dict[str, Any]], Any]


class FakeTelegram(LoopbackServer):
    """A Telegram Bot API server on loopback; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "fake_test_bot",
        bot_first_name: str = "Fake Test Bot",
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token: Final = token
        self.bot_user: Final[dict[str, Any]] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.delay: float = 0.0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping = asyncio.Event()
        self._waiters: set[asyncio.Future[None]] = set()
        self._handlers: dict[str, _Handler] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._true,
            "setmycommands": self._true,
            "setchatmenubutton": self._true,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
        }
        self._init_state()

    def _init_state(self) -> None:
        self._failures: list[_ScriptedFailure] = []
        self._blocked: set[ChatId] = set()
        self._missing: set[ChatId] = set()
        self._limits: _Limits | None = None
        self._sent_at: deque[float] = deque()
        self._sent_at_by_chat: dict[ChatId, deque[float]] = {}
        self._messages: dict[tuple[ChatId, int], dict[str, Any]] = {}
        self._last_message_id: dict[ChatId, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._last_update_id = 0
        self._webhook: dict[str, Any] | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner, self._port = await serve(app, shutdown_timeout=5.0)
        self._stopping.clear()
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping.set()  # wakes delayed answers and long polls
        self._wake_pollers()
        await runner.cleanup()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeTelegram has not been started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    # --- inspection ----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: ChatId | None = None) -> list[Call]:
        """Successful sendMessage calls (to one chat if given), in arrival order."""
        return [
            call
            for call in self.calls_to("sendMessage")
            if call.ok and (chat_id is None or call.chat_id == chat_id)
        ]

    def message(self, chat_id: ChatId, message_id: int) -> dict[str, Any] | None:
        """The current state of a message the fake knows (after edits), None if deleted."""
        return self._messages.get((chat_id, message_id))

    # --- scripting -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: ChatId | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` only, if given) with an error.

        Scripted failures are consumed in the order they were added; the first one
        matching a request applies. A 429 without `retry_after` gets retry_after=1, since
        Telegram always says when to retry. The default description is Telegram's wording
        for the status ("Too Many Requests: retry after N", "Bad Gateway", ...).
        """
        if status < HTTPStatus.BAD_REQUEST:
            raise ValueError("a failure needs an error status (>= 400)")
        if times < 1:
            raise ValueError("times must be at least 1")
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        self._failures.append(
            _ScriptedFailure(
                method=method.lower(),
                status=status,
                description=description or _default_description(status, retry_after),
                retry_after=retry_after,
                remaining=times,
                chat_id=chat_id,
            )
        )

    def block_chat(self, chat_id: ChatId) -> None:
        """Every call addressed to this chat: 403 "Forbidden: bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: ChatId) -> None:
        self._blocked.discard(chat_id)

    def missing_chat(self, chat_id: ChatId) -> None:
        """Every call addressed to this chat: 400 "Bad Request: chat not found"."""
        self._missing.add(chat_id)

    def enforce_limits(
        self, *, global_per_second: int = 30, per_chat_per_second: int = 1, retry_after: int = 1
    ) -> None:
        """Answer 429 to a sendMessage that would exceed Telegram's flood limits.

        A send is refused when `global_per_second` successful sends already happened in the
        last second, or `per_chat_per_second` to the same chat. Sends made before this call
        count too. `reset()` turns the limits off.
        """
        if min(global_per_second, per_chat_per_second, retry_after) < 1:
            raise ValueError("limits and retry_after must be at least 1")
        self._limits = _Limits(global_per_second, per_chat_per_second, retry_after)

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an Update for getUpdates; an `update_id` is assigned when missing.

        Messages inside it (message, edited_message, callback_query.message) become known
        to the fake, so they can be edited or deleted. Returns the queued update.
        """
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._last_update_id + 1
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        for message in (
            update.get("message"),
            update.get("edited_message"),
            (update.get("callback_query") or {}).get("message"),
        ):
            if isinstance(message, dict):
                self._remember(message)
        self._updates.append(update)
        self._wake_pollers()
        return update

    def reset(self) -> None:
        """Forget calls, scripts, blocks, limits, messages, updates and the webhook; delay=0."""
        self.calls.clear()
        self.delay = 0.0
        self._init_state()

    # --- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        parse_error: _ApiError | None = None
        try:
            params = await self._read_params(request)
        except _ApiError as error:
            params, parse_error = {}, error
        call = Call(
            method=method,
            params=params,
            at=time.monotonic(),
            content_type=request.content_type if request.body_exists else "",
        )
        self.calls.append(call)
        status: int
        body: dict[str, Any]
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            if parse_error is not None:
                raise parse_error
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self._process(method.lower(), params, call.at)
            status, body = HTTPStatus.OK, {"ok": True, "result": result}
        except _ApiError as error:
            status, body = error.status, error.body()
        call.response_status, call.response = int(status), body
        await self._sleep(self.delay)
        transport = request.transport
        call.answered = transport is not None and not transport.is_closing()
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {
            key: _decode_value(key, value) for key, value in request.query.items()
        }
        if request.content_type == "application/json":
            try:
                data = await request.json()
            except ValueError as exc:
                raise _bad_request("invalid JSON in request body") from exc
            if not isinstance(data, dict):
                raise _bad_request("request body must be a JSON object")
            for key, value in data.items():
                params[key] = _decode_value(key, value) if isinstance(value, str) else value
        elif request.content_type in {"multipart/form-data", "application/x-www-form-urlencoded"}:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, FileField):
                    params[key] = value.file.read()
                elif isinstance(value, bytes | bytearray):
                    params[key] = bytes(value)
                else:
                    params[key] = _decode_value(key, value)
        return params

    def _process(self, method: str, params: dict[str, Any], now: float) -> Any:
        chat = _chat_key(params.get("chat_id"))
        self._raise_scripted_failure(method, chat)
        handler = self._handlers.get(method)
        if handler is None:
            raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found: method not found")
        if chat is not None and chat in self._missing:
            raise _bad_request("chat not found")
        if chat is not None and chat in self._blocked:
            raise _ApiError(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
        if method == "sendmessage" and chat is not None:
            self._check_limits(chat, now)
        result = handler(params)
        if method == "sendmessage" and chat is not None:
            self._sent_at.append(now)
            self._sent_at_by_chat.setdefault(chat, deque()).append(now)
        return result

    def _raise_scripted_failure(self, method: str, chat: ChatId | None) -> None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat):
                failure.remaining -= 1
                if failure.remaining == 0:
                    self._failures.remove(failure)
                raise _ApiError(failure.status, failure.description, failure.retry_after)

    def _check_limits(self, chat: ChatId, now: float) -> None:
        limits = self._limits
        if limits is None:
            return
        recent = self._sent_at
        in_chat = self._sent_at_by_chat.setdefault(chat, deque())
        for window in (recent, in_chat):
            while window and now - window[0] >= 1.0:
                window.popleft()
        if len(recent) >= limits.global_per_second or len(in_chat) >= limits.per_chat_per_second:
            raise _ApiError(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"Too Many Requests: retry after {limits.retry_after}",
                limits.retry_after,
            )

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    def _wake_pollers(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    # --- methods ---------------------------------------------------------------------------

    def _true(self, params: dict[str, Any]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self.bot_user)

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._require_chat(params)
        text, entities = self._message_text(params)
        markup = self._inline_markup(params)
        message_id = self._last_message_id.get(chat, 0) + 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": self._chat(chat),
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        self._remember(message)
        return _copy(message)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text, entities = self._message_text(params)
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True
        _, message = self._find_message(params, "message to edit not found")
        if (
            message.get("text") == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message["text"] = text
        _set_or_drop(message, "entities", entities or None)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return _copy(message)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True
        _, message = self._find_message(params, "message to edit not found")
        if message.get("reply_markup") == markup:
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return _copy(message)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        key, _ = self._find_message(params, "message to delete not found")
        del self._messages[key]
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            return self._delete_webhook(params)
        if not str(url).startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {"url": url, "allowed_updates": params.get("allowed_updates")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook and self._webhook["allowed_updates"] is not None:
            info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self._raise_scripted_failure("getupdates", None)
        if self._webhook is not None:
            raise _ApiError(
                HTTPStatus.CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:  # confirms every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = params.get("limit")
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        timeout = params.get("timeout")
        wait = min(float(timeout), GET_UPDATES_WAIT_CAP) if isinstance(timeout, int) else 0.0
        if not self._updates and wait > 0 and not self._stopping.is_set():
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.add(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await waiter
            finally:
                self._waiters.discard(waiter)
        return [_copy(update) for update in self._updates[:limit]]

    # --- helpers -----------------------------------------------------------------------

    def _require_chat(self, params: dict[str, Any]) -> ChatId:
        chat = _chat_key(params.get("chat_id"))
        if chat is None:
            raise _bad_request("chat_id is empty")
        return chat

    def _chat(self, chat: ChatId) -> dict[str, Any]:
        if isinstance(chat, str):
            return {"id": -1001000000000, "type": "channel", "title": chat, "username": chat[1:]}
        if chat > 0:
            return {"id": chat, "type": "private", "first_name": f"User {chat}"}
        if str(chat).startswith("-100"):
            return {"id": chat, "type": "supergroup", "title": f"Supergroup {chat}"}
        return {"id": chat, "type": "group", "title": f"Group {chat}"}

    def _message_text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        entities: list[dict[str, Any]] = []
        parse_mode = params.get("parse_mode")
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            try:
                text, entities = parse_html(text)
            except _HtmlError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
            if not text.strip():
                raise _bad_request("text must be non-empty")
        elif isinstance(params.get("entities"), list):
            entities = params["entities"]
        if len(text) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        return text, entities

    def _inline_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None  # reply keyboards are not echoed back by Telegram
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('can\'t parse inline keyboard: field "inline_keyboard" is invalid')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("can't parse inline keyboard button: Text is empty")
                data = button.get("callback_data")
                if data is not None and not (
                    0 < len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
                if len(button) == 1:
                    raise _bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return _copy(markup)

    def _find_message(
        self, params: dict[str, Any], not_found: str
    ) -> tuple[tuple[ChatId, int], dict[str, Any]]:
        chat = self._require_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int) or (chat, message_id) not in self._messages:
            raise _bad_request(not_found)
        return (chat, message_id), self._messages[(chat, message_id)]

    def _remember(self, message: dict[str, Any]) -> None:
        chat = _chat_key((message.get("chat") or {}).get("id"))
        message_id = message.get("message_id")
        if chat is None or not isinstance(message_id, int):
            return
        self._messages[(chat, message_id)] = _copy(message)
        self._last_message_id[chat] = max(self._last_message_id.get(chat, 0), message_id)


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so callers never share state with the fake."""
    copied: dict[str, Any] = json.loads(json.dumps(value))
    return copied


def _set_or_drop(message: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value


# --- helpers for tests ------------------------------------------------------------------


def make_bot(
    fake: FakeTelegram,
    *,
    token: str | None = None,
    timeout: float = 10.0,
    default: DefaultBotProperties | None = None,
) -> Bot:
    """A real aiogram Bot, made as the app makes it (its real aiohttp session), talking to
    `fake`.

    Close it (`async with make_bot(fake) as bot:` or `await bot.session.close()`).
    """
    return telegram_bot(token or fake.token, fake.base_url, timeout=timeout, default=default)


def message_update(
    chat_id: int,
    text: str,
    *,
    message_id: int = 1,
    user_id: int | None = None,
    first_name: str = "Tester",
    update_id: int | None = None,
) -> dict[str, Any]:
    """An Update with a private text message from a user (`/commands` get an entity)."""
    user_id = chat_id if user_id is None else user_id
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": {"id": user_id, "is_bot": False, "first_name": first_name},
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
    update: dict[str, Any] = {"message": message}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def callback_query_update(
    chat_id: int,
    data: str,
    *,
    message_id: int,
    message_text: str = "message",
    reply_markup: dict[str, Any] | None = None,
    bot_user: dict[str, Any] | None = None,
    user_id: int | None = None,
    callback_query_id: str = "1",
    update_id: int | None = None,
) -> dict[str, Any]:
    """An Update with a user pressing an inline button under a bot's message."""
    user_id = chat_id if user_id is None else user_id
    user = {"id": user_id, "is_bot": False, "first_name": "Tester"}
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": bot_user or {"id": 1, "is_bot": True, "first_name": "Bot"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
        "date": int(time.time()),
        "text": message_text,
    }
    if reply_markup is not None:
        message["reply_markup"] = reply_markup
    update: dict[str, Any] = {
        "callback_query": {
            "id": callback_query_id,
            "from": user,
            "message": message,
            "chat_instance": str(chat_id),
            "data": data,
        }
    }
    if update_id is not None:
        update["update_id"] = update_id
    return update
