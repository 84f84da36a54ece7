"""A real, local fake of an OpenAI-compatible chat-completions server for tests.

`FakeOpenAI` runs an aiohttp web server on 127.0.0.1 (a free port) answering
`POST /v1/chat/completions` the way OpenAI, OpenRouter, Ollama or vLLM do, so the real
`openai` SDK talks to it over real HTTP:

    async with FakeOpenAI() as fake:
        fake.script(Reply.content('{"text": "hi"}'), Reply.error(429), Reply.hang())
        ... LLMClient(base_url=fake.base_url, ...) ...
        assert fake.requests[0].messages[0]["role"] == "system"

Replies are taken from the script in order; when it is empty, `default` answers (by
default a 500, so a test that forgets its script fails visibly). `refuse_json_schema`
makes the server answer 400 to `response_format: json_schema`, as servers without
structured outputs do. Every request is recorded as a `Received`, in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.loopback import LoopbackServer, serve

__all__ = ["FakeOpenAI", "Received", "Reply"]


@dataclass(frozen=True)
class Reply:
    kind: str  # "content", "error", "hang"
    content: str = ""
    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0

    @classmethod
    def content_of(cls, value: Any, *, delay: float = 0.0) -> Reply:
        """A completion whose message content is `value` as JSON (a str is sent as is)."""
        text = value if isinstance(value, str) else json.dumps(value)
        return cls("content", content=text, delay=delay)

    @classmethod
    def error(cls, status: int, *, retry_after: float | None = None) -> Reply:
        return cls("error", status=status, retry_after=retry_after)

    @classmethod
    def hang(cls) -> Reply:
        """Never answer (until the server stops)."""
        return cls("hang")


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    answered_with: Reply | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        value = self.body.get("messages")
        return value if isinstance(value, list) else []

    @property
    def response_format(self) -> str | None:
        value = self.body.get("response_format")
        return value.get("type") if isinstance(value, dict) else None


@dataclass
class FakeOpenAI(LoopbackServer):
    refuse_json_schema: bool = False
    default: Callable[[Received], Reply] = field(
        default_factory=lambda: lambda _request: Reply.error(500)
    )
    requests: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._script: deque[Reply] = deque()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner, self._port = await serve(app, shutdown_timeout=1.0)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        self._stopping.set()
        if runner is not None:
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeOpenAI has not been started")
        return f"http://127.0.0.1:{self._port}/v1"

    # --- scripting -----------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        self._script.extend(replies)

    def answer_always(self, reply: Reply) -> None:
        self.default = lambda _request: reply

    # --- HTTP ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        received = Received(body=body, headers=dict(request.headers))
        self.requests.append(received)
        schema = received.response_format == "json_schema"
        if self.refuse_json_schema and schema:
            return _error(400, "response_format json_schema is not supported by this server")
        reply = self._script.popleft() if self._script else self.default(received)
        received.answered_with = reply
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.kind == "hang":
                await self._stopping.wait()
                return _error(503, "server stopping")
            if reply.delay:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(reply.delay):
                        await self._stopping.wait()
            if reply.kind == "error":
                headers = {}
                if reply.retry_after is not None:
                    headers["retry-after"] = f"{reply.retry_after:g}"
                return _error(reply.status, f"scripted {reply.status}", headers)
            return web.json_response(_completion(str(body.get("model")), reply.content))
        finally:
            self.in_flight -= 1


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "fake_error", "code": status}},
        status=status,
        headers=headers,
    )


def _completion(model: str, content: str) -> dict[str, Any]:
    prompt_tokens, completion_tokens = 100, max(1, len(content) // 4)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
