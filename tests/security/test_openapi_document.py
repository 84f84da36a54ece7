"""The OpenAPI document declares every refusal the API gives, so clients (and the
schema-driven fuzzing next door) know each status an operation can answer with."""

from __future__ import annotations

from typing import Any

import pytest

from app.main import create_app
from app.settings import Settings
from tests.support import initdata

PUBLIC = {"/healthz", "/internal/tick"}
CONFLICTS = {
    "/reminders/{reminder_id}/complete",
    "/reminders/{reminder_id}/skip",
    "/reminders/{reminder_id}/snooze",
    "/plans/{lead_id}/pause",
    "/plans/{lead_id}/resume",
}


def _document() -> dict[str, Any]:
    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///never-opened.db",
        telegram_bot_token=initdata.TEST_BOT_TOKEN,
    )
    document: dict[str, Any] = create_app(settings).openapi()
    return document


DOCUMENT = _document()
OPERATIONS = [
    pytest.param(path, method, operation, id=f"{method.upper()} {path}")
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS)
def test_every_refusal_is_declared(path: str, method: str, operation: dict[str, Any]) -> None:
    declared = set(operation["responses"])
    expected = set()
    if path not in PUBLIC:
        expected.add("401")
    if "{" in path:
        expected |= {"404", "422"}
    if "requestBody" in operation:
        expected |= {"400", "413", "422"}
    if path in CONFLICTS:
        expected.add("409")
    # Every operation reads the database (signed-in ones load the user first).
    expected.add("503")
    assert expected <= declared, expected - declared
    retry_after = operation["responses"]["503"]["headers"]["Retry-After"]
    assert retry_after["required"] is True
    assert retry_after["schema"]["type"] == "integer"
    for status in declared - {"422"}:
        if not status.startswith("2"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}


def test_tick_and_health_declare_theirs() -> None:
    assert {"401", "404"} <= set(DOCUMENT["paths"]["/internal/tick"]["post"]["responses"])
    assert "503" in DOCUMENT["paths"]["/healthz"]["get"]["responses"]
