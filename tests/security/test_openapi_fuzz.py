"""Schemathesis over the app's own OpenAPI document, signed in with a valid initData.

Every operation in /openapi.json gets schema-valid requests (positive) and, where it takes
any input, schema-invalid ones (negative), on both engines, and every answer goes through
all of schemathesis' checks (what the CLI runs with `--checks all`): no 5xx, a declared
status, content type, headers and body; an invalid request refused, a valid one accepted.
One allowance: a valid request may be refused by a rule JSON Schema cannot state (step_ids
unique, delays in order, a date not in the future), which the document says in prose and
the server answers with a 422 of its own (no pydantic `input` in it). The checks that need
a coverage phase (unsupported methods, OPTIONS) get their own requests below.

The app runs in starlette's TestClient (its own event loop in a thread, lifespan and all)
because Hypothesis drives the examples synchronously; the app therefore opens its own
database connections rather than the test session's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, CheckContext, CheckFunction, load_all_checks
from schemathesis.core.result import Err
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance
from sqlalchemy.engine import URL
from starlette.testclient import TestClient

from app.clock import ManualClock
from app.db.database import Database
from app.main import create_app
from app.settings import Settings
from tests.conftest import START
from tests.support import initdata

INTERNAL_TOKEN = "fuzz-internal-token"
EXAMPLES = 25


# The rules a schema-valid request can still break, each said in the document's prose: a
# new kind of refusal fails the run until it is added here (and described) or documented.
BUSINESS_RULES = (
    "is used twice",  # step_id unique within a plan
    "is earlier than an earlier step's",  # delays never go back
    "must lie between 2000-01-01 and now",  # an imported completed_at
    "must be in the future",  # paused_until
    "is beyond the year 9999 in UTC",  # paused_until
    "working hours must end after they start",
    "send either plan or generate_plan",
)


def _refused_by_a_business_rule(response: Response) -> bool:
    if response.status_code != 422:
        return False
    detail = json.loads(response.content).get("detail")
    # The server's own refusals carry no pydantic `input`; pydantic's judge the schema.
    return isinstance(detail, list) and all(
        "input" not in error and any(rule in error["msg"] for rule in BUSINESS_RULES)
        for error in detail
    )


def positive_data_acceptance_beyond_schema(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _refused_by_a_business_rule(response):
            return None
        raise


load_all_checks()
# Every registered check; the built-ins are all plain functions (a class-based check,
# should one appear, would fail this module's import instead of being skipped silently).
ALL_CHECKS: list[CheckFunction] = []
for _check in CHECKS.get_all():
    assert not isinstance(_check, type), _check
    ALL_CHECKS.append(
        positive_data_acceptance_beyond_schema if _check is positive_data_acceptance else _check
    )


def _settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=initdata.TEST_BOT_TOKEN,
        # Nothing listens on port 9; no request here makes the app call Telegram.
        telegram_api_base="http://127.0.0.1:9",
        auto_migrate=False,
        scheduler_enabled=False,
        internal_token=INTERNAL_TOKEN,
    )


# The document exactly as the app serves it at /openapi.json.
_DOCUMENT = create_app(_settings("sqlite+aiosqlite:///never-opened.db")).openapi()
SCHEMA = schemathesis.openapi.from_dict(_DOCUMENT)
OPERATIONS: list[APIOperation[Any, Any, Any, Any]] = []
for _result in SCHEMA.get_all_operations():
    if isinstance(_result, Err):
        raise _result.err()
    OPERATIONS.append(_result.ok())


def _takes_input(operation: APIOperation[Any, Any, Any, Any]) -> bool:
    return bool(operation.path_parameters or operation.query or operation.headers or operation.body)


RUNS = [
    pytest.param(operation, mode, id=f"{operation.label}-{mode.value}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _takes_input(operation)
]


def test_every_documented_operation_is_fuzzed() -> None:
    labels = {operation.label for operation in OPERATIONS}
    assert {"POST /leads", "PUT /plans/{lead_id}/steps", "PATCH /me", "GET /plans"} <= labels
    assert len(labels) == sum(len(item) for item in _DOCUMENT["paths"].values())


@contextmanager
def _running_app(db_url: URL) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """The app with one user who has a lead with a plan (its first step snoozed), and that
    lead's and step's ids."""
    app = create_app(
        _settings(db_url.render_as_string(hide_password=False)), clock=ManualClock(START)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        # Every step lies in the future, so /internal/tick has nothing to send to Telegram.
        steps = [
            {"step_id": 1, "description": "Connect", "delay_days": 1, "channel": "linkedin"},
            {"step_id": 2, "description": "Email", "delay_days": 3, "channel": "email"},
        ]
        created = client.post(
            "/leads", headers=_auth_headers(), json={"name": "Ana", "plan": {"steps": steps}}
        )
        assert created.status_code == 201, created.text
        lead = created.json()
        reminder_id = lead["steps"][0]["reminder_id"]
        # A person's action on the step, so that an undo has something to take back.
        snoozed = client.post(
            f"/reminders/{reminder_id}/snooze", headers=_auth_headers(), json={"days": 1}
        )
        assert snoozed.status_code == 200, snoozed.text
        yield client, {"lead_id": lead["id"], "reminder_id": reminder_id}


def _auth_headers() -> dict[str, str]:
    raw = initdata.sign(user=initdata.default_user(1001), auth_date=int(START.timestamp()))
    return {"Authorization": f"tma {raw}"}


def _strategy(operation: Any, mode: GenerationMode, real_ids: dict[str, Any]) -> Any:
    generated = operation.as_strategy(generation_mode=mode)
    names = {parameter.name for parameter in operation.path_parameters}
    if mode is GenerationMode.NEGATIVE or not names:
        return generated
    # Random ids nearly always miss; half the examples aim at rows that exist.
    existing = operation.as_strategy(
        generation_mode=mode, path_parameters={n: real_ids[n] for n in names}
    )
    return st.one_of(generated, existing)


@pytest.mark.parametrize(("operation", "mode"), RUNS)
def test_operation(db_url: URL, db: Database, operation: Any, mode: GenerationMode) -> None:
    headers = (
        {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
        if operation.path == "/internal/tick"
        else _auth_headers()
    )
    statuses: list[int] = []
    with _running_app(db_url) as (client, real_ids):

        @hypothesis.settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(case=_strategy(operation, mode, real_ids))
        def run(case: Any) -> None:
            sent = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            content: bytes | None = None
            if "json" in sent:
                content = json.dumps(sent["json"]).encode()
            elif sent.get("data") is not None:
                data = sent["data"]
                content = data if isinstance(data, bytes) else str(data).encode()
            response = client.request(
                sent["method"],
                sent["url"],
                headers=sent["headers"],
                params=sent.get("params"),
                content=content,
            )
            statuses.append(response.status_code)
            case.validate_response(response, checks=ALL_CHECKS, headers=sent["headers"])

        run()
    # The run really exercised the operation: valid input was accepted at least once, and
    # invalid input refused at least once. (Some "invalid" cases are legitimately ignored,
    # e.g. an unknown query parameter; negative_data_rejection judges each one.)
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= status < 300 for status in statuses), statuses
    else:
        assert any(400 <= status < 500 for status in statuses), statuses


def test_every_path_answers_options_and_other_methods_with_its_methods(
    db_url: URL, db: Database
) -> None:
    """What the CLI's coverage phase probes: OPTIONS lists exactly the documented methods
    (schemathesis' allow_header_conformance judges it), and a method the path lacks is a
    405 whose Allow lists them too, whichever route of the path Starlette tried first."""
    with _running_app(db_url) as (client, real_ids):
        for path, item in _DOCUMENT["paths"].items():
            declared = {method.upper() for method in item}
            url = path.format(**real_ids)
            options = client.options(url)
            assert options.status_code == 204, (path, options.status_code)
            assert set(options.headers["allow"].split(", ")) == declared | {"OPTIONS"}, path
            operation = next(op for op in OPERATIONS if op.path == path)
            names = {parameter.name for parameter in operation.path_parameters}
            case = operation.Case(path_parameters={name: real_ids[name] for name in names})
            case.validate_response(options, checks=[allow_header_conformance])
            for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - declared:
                response = client.request(method, url, headers=_auth_headers())
                assert response.status_code == 405, (method, path, response.status_code)
                allow = set(response.headers["allow"].split(", "))
                assert allow == declared | {"OPTIONS"}, (method, path, allow)
