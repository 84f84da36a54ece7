"""One handler answers every refusal a service raises, with the status and body each
kind has always had (the Mini App parses FastAPI's shape)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.routers.errors import install_service_errors
from app.services.errors import Conflict, Invalid, NotFound, ServiceError

REFUSALS: dict[str, ServiceError] = {
    "missing": NotFound("reminder 7"),
    "conflict": Conflict("this step is already done"),
    "invalid": Invalid(("steps", 1, "step_id"), "is used twice"),
    "other": ServiceError("cannot do that"),
}


def _app() -> FastAPI:
    app = FastAPI()
    install_service_errors(app)

    @app.get("/{kind}")
    async def refuse(kind: str) -> None:
        raise REFUSALS[kind]

    return app


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        # What was not found is never said: missing and not yours look alike.
        ("missing", 404, b'{"detail":"not found"}'),
        ("conflict", 409, b'{"detail":"this step is already done"}'),
        (
            "invalid",
            422,
            b'{"detail":[{"loc":["body","steps",1,"step_id"],'
            b'"msg":"is used twice","type":"value_error"}]}',
        ),
        ("other", 400, b'{"detail":"cannot do that"}'),
    ],
)
async def test_each_refusal_has_its_status_and_body(kind: str, status: int, body: bytes) -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(f"/{kind}")
    assert response.status_code == status
    assert response.content == body
    assert response.headers["content-type"] == "application/json"
