"""Input found to answer 500 or to misbehave when sent from outside: lone UTF-16 surrogates
in JSON, odd paths under /app/, ids past 64 bits, and secrets in a logged URL. Each case is
the refusal or the answer a client can act on, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from uvicorn.logging import AccessFormatter

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_registry, processed_updates, users
from app.logs import configure_logging
from app.main import create_app
from app.settings import Settings
from tests.api.plan_helpers import Auth, Json
from tests.support import initdata
from tests.support.fake_telegram import FakeTelegram, callback_query_update, message_update

SURROGATE = "a\ud800b"


def raw_json(body: Any) -> bytes:
    """JSON as a client may send it: `json.dumps` escapes a lone surrogate as `\\ud800`,
    which is valid JSON text, though it is no Unicode character."""
    return json.dumps(body).encode("ascii")


def json_headers(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


def strict_json(response: httpx.Response) -> Any:
    """The body, refusing anything that is not strict UTF-8."""
    return json.loads(response.content.decode("utf-8", errors="strict"))


LEAD: Json = {
    "name": "Ana",
    "channel": "email",
    "plan": {"steps": [{"step_id": 1, "description": "Write", "delay_days": 0}]},
}


async def lead_and_reminder(client: httpx.AsyncClient, auth: Auth) -> tuple[int, int]:
    created = await client.post("/leads", headers=auth(), json=LEAD)
    assert created.status_code == 201, created.text
    lead = created.json()
    return lead["id"], lead["steps"][0]["reminder_id"]


async def count_leads(db: Database) -> int:
    async with db.read() as conn:
        count = await conn.execute(select(func.count()).select_from(lead_registry))
        return int(count.scalar_one())


# --- 1. Lone surrogates ----------------------------------------------------------------

# (method, path with {lead}/{reminder}, body, the loc the 422 must name)
SURROGATE_BODIES = [
    pytest.param("POST", "/leads", {**LEAD, "name": SURROGATE}, ["body", "name"], id="lead"),
    pytest.param("PATCH", "/me", {"timezone": SURROGATE}, ["body", "timezone"], id="me"),
    pytest.param("POST", "/leads/{lead}/notes", {"text": SURROGATE}, ["body", "text"], id="note"),
    pytest.param(
        "POST", "/reminders/{reminder}/snooze", {"days": SURROGATE}, ["body", "days"], id="snooze"
    ),
    pytest.param(
        "PUT",
        "/plans/{lead}/steps",
        {"steps": [{"step_id": 1, "description": SURROGATE, "delay_days": 0}]},
        ["body", "steps", 0, "description"],
        id="steps",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "loc"), SURROGATE_BODIES)
async def test_a_lone_surrogate_in_a_body_is_a_422_naming_the_field(
    client: httpx.AsyncClient,
    auth: Auth,
    db: Database,
    method: str,
    path: str,
    body: Json,
    loc: list[Any],
) -> None:
    """It was a 500: FastAPI's 422 echoes the input, which cannot be encoded as UTF-8."""
    lead, reminder = await lead_and_reminder(client, auth)
    url = path.format(lead=lead, reminder=reminder)
    response = await client.request(
        method, url, headers=json_headers(auth()), content=raw_json(body)
    )
    assert response.status_code == 422, response.text
    detail = strict_json(response)["detail"]
    assert all({"loc", "msg", "type"} <= error.keys() for error in detail), detail
    [error] = [e for e in detail if e["loc"] == loc]
    # What is echoed stays recognisable: the surrogate alone is replaced.
    assert error["input"] == "a\ufffdb"
    assert await count_leads(db) == 1
    plan = (await client.get(f"/plans/{lead}", headers=auth())).json()
    assert [s["description"] for s in plan["steps"]] == ["Write"]
    assert [a for a in plan["activity"] if a["activity_type"] == "note_added"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/leads", {**LEAD, SURROGATE: "x"}, id="lead"),
        pytest.param("/leads/{lead}/notes", {"text": "hello", "\ud800": "x"}, id="note"),
    ],
)
async def test_a_lone_surrogate_in_a_key_is_a_422(
    client: httpx.AsyncClient, auth: Auth, db: Database, path: str, body: Json
) -> None:
    lead, _ = await lead_and_reminder(client, auth)
    response = await client.post(
        path.format(lead=lead), headers=json_headers(auth()), content=raw_json(body)
    )
    assert response.status_code == 422, response.text
    detail = strict_json(response)["detail"]
    assert detail
    assert all(error["loc"][0] == "body" for error in detail)
    assert "\ufffd" in response.text
    assert await count_leads(db) == 1


async def test_a_lone_surrogate_in_an_ignored_key_is_never_a_500(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    """A step ignores keys it does not know (a plan from elsewhere may carry more)."""
    step = {"step_id": 1, "description": "Write", "delay_days": 0, SURROGATE: 1}
    body = {**LEAD, "plan": {"steps": [step]}}
    response = await client.post("/leads", headers=json_headers(auth()), content=raw_json(body))
    assert response.status_code in (201, 422), response.text
    strict_json(response)


async def test_an_encoded_surrogate_in_a_query_or_path_is_refused_not_a_500(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    """`%ED%A0%80` is a surrogate's UTF-8-like bytes: invalid UTF-8, decoded by the server as
    replacement characters, so it reaches validation as an unknown value."""
    response = await client.get("/plans?filter=%ED%A0%80&sort=a%ED%A0%80", headers=auth())
    assert response.status_code == 422, response.text
    locs = [error["loc"] for error in strict_json(response)["detail"]]
    assert locs == [["query", "filter"], ["query", "sort"]]
    response = await client.get("/plans/%ED%A0%80", headers=auth())
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in strict_json(response)["detail"]] == [["path", "lead_id"]]


async def test_a_lone_surrogate_in_a_telegram_name_is_replaced_not_a_500(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """initData's user is JSON too, where a surrogate can be spelled `\\ud800`: signed, it
    reached the database and was a 500. Telegram's names are cleaned, as NUL is."""
    fields = {
        "auth_date": str(int(clock.now().timestamp())),
        "user": json.dumps(initdata.default_user(5005, first_name=SURROGATE)),
    }
    fields["hash"] = initdata.compute_hash(fields, initdata.TEST_BOT_TOKEN)
    response = await client.get("/me", headers={"Authorization": f"tma {urlencode(fields)}"})
    assert response.status_code == 200, response.text
    assert strict_json(response)["first_name"] == "a\ufffdb"


# --- 2. Odd paths under /app/ ----------------------------------------------------------

INDEX = '<!doctype html><html><body><div id="root"></div></body></html>'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the build")
    (root / "assets" / "leak.js").symlink_to(tmp_path / "secret.txt")
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        webapp_dist=str(root),
        scheduler_enabled=False,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


ODD_PATHS = [
    "/app/%00",
    "/app/%00.js",
    "/app/assets/%00",
    "/app/leads/1%002",
    "/app/assets/" + "a" * 300 + ".js",
    "/app/" + "a" * 300,
    "/app/leads/" + "é" * 200,  # 400 bytes in UTF-8: past NAME_MAX
    "/app/" + "a/" * 700,
    "/app/%2e%2e/secret.txt",
    "/app/%2e%2e/dist/index.html",
    "/app/..%2f..%2fetc%2fpasswd",
    "/app/%2fetc%2fpasswd",
    "/app//etc/passwd",
    "/app/assets/..%2f..%2fsecret.txt",
    "/app/assets/%2e%2e/%2e%2e/secret.txt",
    "/app/assets/leak.js",  # a link out of the build
    "/app/assets/",
]


@pytest.mark.parametrize("path", ODD_PATHS, ids=lambda p: p[:40])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_odd_paths_under_app_are_404(
    served: httpx.AsyncClient, path: str, method: str
) -> None:
    """`%00` and long names were a 500 with a traceback, no login needed; `..` and absolute
    paths answered index.html. None of these names a file of the build."""
    response = await served.request(method, path)
    assert response.status_code == 404, (path, response.status_code)
    assert "outside the build" not in response.text
    assert "root:" not in response.text


async def test_index_html_is_served_like_the_app_root(served: httpx.AsyncClient) -> None:
    root = await served.get("/app/")
    named = await served.get("/app/index.html")
    assert named.status_code == 200
    assert named.text == root.text == INDEX
    assert named.headers["cache-control"] == root.headers["cache-control"] == "no-cache"
    assert named.headers["content-type"].startswith("text/html")


# --- 4. Ids past 64 bits ---------------------------------------------------------------


@pytest.mark.parametrize("telegram_id", [10**20, 2**63, 2**64 + 5, 0, -1, -(2**63) - 1])
async def test_initdata_with_an_id_no_column_holds_is_a_401(
    client: httpx.AsyncClient, clock: ManualClock, db: Database, telegram_id: int
) -> None:
    """Correctly signed, yet no Telegram user id: it was a 500 from the database."""
    raw = initdata.sign(
        user=initdata.default_user(telegram_id), auth_date=int(clock.now().timestamp())
    )
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == "initData user id is out of range"
    async with db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(users))).scalar() == 0


async def test_initdata_with_the_largest_64_bit_id_signs_in(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    raw = initdata.sign(
        user=initdata.default_user(2**63 - 1), auth_date=int(clock.now().timestamp())
    )
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 200, response.text
    assert response.json()["telegram_id"] == 2**63 - 1


@pytest.mark.parametrize("auth_date", [10**20, 2**63, -(10**20)])
async def test_initdata_with_an_impossible_auth_date_is_a_401(
    client: httpx.AsyncClient, auth_date: int
) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=auth_date)
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 401, response.text


WEBHOOK_SECRET = "hostile-webhook-secret"
_update_ids = itertools.count(70_000)


@pytest.fixture
async def bot(
    make_settings: Callable[..., Settings], clock: ManualClock, db: Database
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeTelegram]]:
    async with FakeTelegram() as fake:
        settings = make_settings(
            telegram_bot_token=fake.token,
            telegram_api_base=fake.base_url,
            telegram_webhook_secret=WEBHOOK_SECRET,
        )
        app = create_app(settings, clock=clock, database=db)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, fake


async def post_raw_update(http: httpx.AsyncClient, body: bytes) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    return await http.post("/telegram/webhook", headers=json_headers(headers), content=body)


def with_ids(update: Json, **ids: int) -> Json:
    """`update` with ids replaced: update_id, or the message's from/chat/message_id."""
    message = update.get("message") or update["callback_query"]["message"]
    sender = update["message"]["from"] if "message" in update else update["callback_query"]["from"]
    if "update_id" in ids:
        update["update_id"] = ids["update_id"]
    if "from_id" in ids:
        sender["id"] = ids["from_id"]
    if "chat_id" in ids:
        message["chat"]["id"] = ids["chat_id"]
    if "message_id" in ids:
        message["message_id"] = ids["message_id"]
    return update


def start(name: str = "Secretname") -> Json:
    return {"update_id": next(_update_ids), **message_update(7007, "/start", first_name=name)}


def press(name: str = "Secretname") -> Json:
    update = callback_query_update(7007, "eplan:done:1", message_id=3)
    update["callback_query"]["from"]["first_name"] = name
    return {"update_id": next(_update_ids), **update}


BIG = [2**63, 10**20, -(2**63) - 1, 10**40]


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        pytest.param(make, field, value, id=f"{make.__name__}-{field}-{value.bit_length()}bits")
        for make in (start, press)
        for field in ("update_id", "from_id", "chat_id", "message_id")
        for value in (BIG if field == "update_id" or make is start else BIG[:1])
    ],
)
async def test_an_update_with_an_id_past_64_bits_is_acknowledged_and_logged(
    bot: tuple[httpx.AsyncClient, FakeTelegram],
    db: Database,
    caplog: pytest.LogCaptureFixture,
    make: Callable[[], Json],
    field: str,
    value: int,
) -> None:
    """It was a 500 for update_id (Telegram would redeliver it for a day), and a traceback
    from a handler for the others: a 200, a WARNING without the person's data, and
    nothing stored or sent."""
    http, fake = bot
    caplog.set_level(logging.INFO)
    update = with_ids(make(), **{field: value})
    response = await post_raw_update(http, json.dumps(update).encode())
    assert response.status_code == 200
    warnings = [r for r in caplog.records if r.name == "app.routers.telegram"]
    assert [(r.levelno, r.getMessage()) for r in warnings] == [
        (logging.WARNING, "webhook update ignored: it holds an integer beyond 64 bits")
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Secretname" not in caplog.text
    assert fake.sent_messages() == []
    assert fake.calls_to("answerCallbackQuery") == []
    async with db.read() as conn:
        for table in (processed_updates, users):
            assert (await conn.execute(select(func.count()).select_from(table))).scalar() == 0


async def test_updates_at_the_64_bit_limit_and_long_numbers_in_text_are_handled(
    bot: tuple[httpx.AsyncClient, FakeTelegram], db: Database
) -> None:
    """The guard looks at integers, not digits: a 40-digit number typed in a message, and
    ids at the very edge of 64 bits, are ordinary updates."""
    http, fake = bot
    update = message_update(7007, "/start 1234567890123456789012345678901234567890")
    update["update_id"] = 2**63 - 1
    update["message"]["message_id"] = 2**63 - 1
    response = await post_raw_update(http, json.dumps(update).encode())
    assert response.status_code == 200
    [welcome] = fake.sent_messages(7007)
    assert "Welcome" in welcome.params["text"]
    async with db.read() as conn:
        stored = (await conn.execute(select(processed_updates.c.update_id))).scalars().all()
    assert stored == [2**63 - 1]


async def test_a_lone_surrogate_in_an_update_is_acknowledged(
    bot: tuple[httpx.AsyncClient, FakeTelegram], caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram sends valid UTF-8 only: a body spelling a lone surrogate is no update."""
    http, fake = bot
    update = {"update_id": next(_update_ids), **message_update(7007, "/start \ud800")}
    response = await post_raw_update(http, raw_json(update))
    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "webhook body is not an update: ValidationError"
    ]
    assert fake.sent_messages() == []


# --- 5. Secrets in a logged URL --------------------------------------------------------

SECRETS = {
    "telegram_bot_token": "987654321:AAH-hostile_Token-value-for-logs",
    "telegram_webhook_secret": "hostile-webhook-secret-in-logs",
    "internal_token": "internal token/with?odd&chars",
    "llm_api_key": "sk-hostile-llm-key",
    "metrics_token": "hostile-metrics-token",
}
# uvicorn's own access format (uvicorn.config.LOGGING_CONFIG), without colours.
ACCESS_FORMAT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


def secret_settings(make_settings: Callable[..., Settings], name: str) -> Settings:
    if name not in Settings.model_fields:
        pytest.skip(f"no {name} setting in this tree")
    return make_settings(**{name: SECRETS[name]})


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """A handler on uvicorn.access like uvicorn's default logging config installs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter(ACCESS_FORMAT, use_colors=False))
    logger = logging.getLogger("uvicorn.access")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.mark.parametrize("encode", [False, True], ids=["plain", "percent-encoded"])
@pytest.mark.parametrize("name", list(SECRETS))
def test_an_access_line_with_a_secret_is_logged_redacted(
    make_settings: Callable[..., Settings],
    access_log: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    name: str,
    encode: bool,
) -> None:
    """The filter used to set `args = None`, and uvicorn's formatter unpacks args: the line
    was lost, with a `--- Logging error ---` traceback (holding the URL) in its place."""
    configure_logging(secret_settings(make_settings, name))
    secret = SECRETS[name]
    shown = quote(secret, safe="").lower() if encode else secret
    # Exactly the call uvicorn's h11 and httptools protocols make for each request.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/healthz?q={shown}&x=1", "1.1", 200
    )
    assert (
        access_log.getvalue()
        == 'INFO:     127.0.0.1:5000 - "GET /healthz?q=***&x=1 HTTP/1.1" 200 OK\n'
    )
    assert "Logging error" not in capsys.readouterr().err


def test_other_records_keep_their_shape_and_lose_the_secret(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(internal_token="tok-123-secret")
    configure_logging(settings)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for each in logging.getLogger().handlers:
        for existing in each.filters:
            handler.addFilter(existing)
    logger = logging.getLogger("tests.hostile")
    logger.addHandler(handler)
    try:
        logger.warning("status %d for %s", 401, "Bearer tok-123-secret")
        logger.warning("mapping %(who)s", {"who": "tok-123-secret"})
        logger.warning("split %s%s", "tok-123", "-secret")
        try:
            raise RuntimeError("failed with tok-123-secret")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "tok-123-secret" not in text
    assert "status 401 for Bearer ***" in text
    assert "mapping ***" in text
    assert "split ***" in text
    assert "RuntimeError: failed with ***" in text


async def test_a_real_uvicorn_logs_the_access_line_redacted(
    make_settings: Callable[..., Settings],
    clock: ManualClock,
    db: Database,
    access_log: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The whole way: uvicorn serving the app, whose start-up installs the filter."""
    token = "internal:token-in-a-url"
    settings = make_settings(internal_token=token, telegram_webhook_secret="hook-secret")
    app = create_app(settings, clock=clock, database=db)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", access_log=True))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn.Server offers only the flag
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            plain = await http.get(f"/healthz?q={token}")
            encoded = await http.get("/healthz", params={"q": "hook-secret", "t": token})
        assert plain.status_code == encoded.status_code == 200
    finally:
        server.should_exit = True
        await serving
        sock.close()
    lines = access_log.getvalue().splitlines()
    assert len(lines) == 2, lines
    line = r'INFO: +127\.0\.0\.1:\d+ - "GET /healthz\?{} HTTP/1\.1" 200 OK'
    assert re.fullmatch(line.format(r"q=\*\*\*"), lines[0]), lines[0]
    assert re.fullmatch(line.format(r"q=\*\*\*&t=\*\*\*"), lines[1]), lines[1]
    assert "Logging error" not in capsys.readouterr().err
