"""One body size limit for every route: declared or streamed, over it is a JSON 413, and a
streamed body is never read much past it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.clock import ManualClock
from app.db.database import Database
from app.domain.plans import MAX_DESCRIPTION, MAX_STEPS, MAX_SUGGESTED_TEXT, MAX_TIMING
from app.main import create_app
from app.schemas import MAX_CONTEXT, MAX_NAME, MAX_NOTE
from app.settings import Settings
from tests.api.plan_helpers import Auth, create_lead, steps_with_delays

LIMIT = 64 * 1024  # the smallest the setting allows, so the tests move little data
CHUNK = 8 * 1024


@pytest.fixture
async def small_limit(
    make_settings: Callable[..., Settings], clock: ManualClock, db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(max_request_body_bytes=LIMIT), clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def lead_body(size: int) -> bytes:
    """A valid POST /leads body of exactly `size` bytes (JSON allows trailing spaces)."""
    body = json.dumps({"name": "Ana", "context": "x" * 1000}).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


class Chunks:
    """A streamed (chunked, no Content-Length) body that counts what the server pulled."""

    def __init__(self, payload: bytes, chunk: int = CHUNK) -> None:
        self.payload = payload
        self.chunk = chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.payload), self.chunk):
            self.pulled += 1
            yield self.payload[start : start + self.chunk]


class Endless:
    """A streamed body that never ends: only a server that stops reading can answer it."""

    def __init__(self) -> None:
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.pulled += 1
            await asyncio.sleep(0)  # a real network yields; it also lets a timeout fire
            yield b" " * CHUNK


def assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": f"request body is larger than the limit of {LIMIT} bytes"}


async def test_a_body_at_the_limit_is_accepted(small_limit: httpx.AsyncClient, auth: Auth) -> None:
    response = await small_limit.post(
        "/leads",
        content=lead_body(LIMIT),
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["context"] == "x" * 1000


async def test_one_byte_over_is_413(small_limit: httpx.AsyncClient, auth: Auth) -> None:
    response = await small_limit.post(
        "/leads",
        content=lead_body(LIMIT + 1),
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert_413(response)
    plans = await small_limit.get("/plans", headers=auth())
    assert plans.json()["leads"] == []


async def test_a_chunked_body_under_the_limit_is_accepted(
    small_limit: httpx.AsyncClient, auth: Auth
) -> None:
    body = Chunks(lead_body(LIMIT))
    response = await small_limit.post(
        "/leads", content=body, headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert body.pulled == LIMIT // CHUNK


async def test_a_chunked_body_over_the_limit_is_413_and_not_read_on(
    small_limit: httpx.AsyncClient, auth: Auth
) -> None:
    body = Chunks(lead_body(10 * LIMIT))
    request = small_limit.build_request(
        "POST", "/leads", content=body, headers={**auth(), "Content-Type": "application/json"}
    )
    assert "content-length" not in request.headers
    assert_413(await small_limit.send(request))
    # Refused at the first chunk past the limit, not after reading all ten times over.
    assert body.pulled == LIMIT // CHUNK + 1


async def test_an_endless_body_is_refused(small_limit: httpx.AsyncClient, auth: Auth) -> None:
    body = Endless()
    for method, path in (("POST", "/leads"), ("PATCH", "/me")):
        # Without the limit this would read forever: fail in seconds instead of hanging.
        async with asyncio.timeout(10):
            response = await small_limit.request(
                method, path, content=body, headers={**auth(), "Content-Type": "application/json"}
            )
        assert_413(response)
    assert body.pulled <= 2 * (LIMIT // CHUNK + 1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/plans/1/steps"),
        ("POST", "/leads/1/notes"),
        ("POST", "/reminders/1/snooze"),
        ("PATCH", "/me"),
        ("POST", "/internal/tick"),
        ("GET", "/plans"),  # a body where none is expected is still held to the limit
    ],
)
async def test_every_route_refuses_a_declared_oversized_body(
    small_limit: httpx.AsyncClient, auth: Auth, method: str, path: str
) -> None:
    response = await small_limit.request(
        method,
        path,
        content=b" " * (LIMIT + 1),
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert_413(response)


def test_the_default_limit_holds_the_largest_valid_body() -> None:
    """20 steps and every text at its longest, each character a \\u-escaped pair: what a
    client with ASCII-only JSON sends for emoji. It must fit, or valid plans get a 413."""
    emoji = "😀"
    step = {
        "step_id": 1_000_000,
        "description": emoji * MAX_DESCRIPTION,
        "timing": emoji * MAX_TIMING,
        "delay_days": 365,
        "channel": "telegram",
        "suggested_text": emoji * MAX_SUGGESTED_TEXT,
        "status": "skipped",
        "completed_at": "2026-03-02T10:00:00.000000+00:00",
    }
    body: dict[str, Any] = {
        "name": emoji * MAX_NAME,
        "company": emoji * MAX_NAME,
        "title": emoji * MAX_NAME,
        "channel": "telegram",
        "context": emoji * MAX_CONTEXT,
        "plan": {"steps": [step] * MAX_STEPS},
        "generate_plan": False,
    }
    largest = len(json.dumps(body, ensure_ascii=True, indent=2))
    note = len(json.dumps({"text": emoji * MAX_NOTE}, ensure_ascii=True))
    default = Settings(_env_file=None).max_request_body_bytes
    assert max(largest, note) < default
    assert largest > default // 2  # and the limit is not needlessly generous


async def test_a_real_plan_at_the_default_limit_goes_through(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    emoji = "😀"
    steps = steps_with_delays(*range(MAX_STEPS))
    for step in steps:
        step["description"] = emoji * MAX_DESCRIPTION
        step["suggested_text"] = emoji * MAX_SUGGESTED_TEXT
    lead = await create_lead(client, auth, steps, name=emoji * MAX_NAME, context="c" * 10)
    assert len(lead["steps"]) == MAX_STEPS
    assert lead["steps"][0]["suggested_text"] == emoji * MAX_SUGGESTED_TEXT
