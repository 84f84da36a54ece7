"""SQL, HTML and odd Unicode in every text field: stored and read back unchanged on both
engines, shown literally in Telegram, and never a 5xx. NUL, which PostgreSQL cannot store
in text, is a 422 from the API on both engines."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_registry, metadata
from app.domain.plans import MAX_DESCRIPTION, MAX_SUGGESTED_TEXT, MAX_TIMING
from app.main import create_app
from app.schemas import MAX_CONTEXT, MAX_NAME, MAX_NOTE
from tests.api.plan_helpers import Auth, Json, get_plan
from tests.support import initdata
from tests.support.fake_telegram import FakeTelegram, callback_query_update, message_update

HOSTILE = [
    "'; DROP TABLE leads; --",
    "'; DROP TABLE lead_registry; --",
    '" OR 1=1 --',
    "Robert'); DROP TABLE users;--",
    "1' UNION SELECT telegram_id, first_name FROM users --",
    "'); SELECT pg_sleep(30); --",
    "<script>alert(1)</script>",
    "<b>",
    "<b>bold</b>",
    "&amp;",
    "&lt;i&gt; &#x27; &quot;",
    '<a href="javascript:alert(1)">click</a>',
    "</blockquote><tg-spoiler>x",
    "\u202egnp.exe",  # right-to-left override
    "👩\u200d💻🚀 Ünïcødé 名前 مرحبا",
    "e\u0301\u200b\ufeff",  # combining accent, zero-width space, BOM
    "tab\there \\ back\\slash %s %(name)s {0} ${x}",
]


def lead_body(text: str) -> Json:
    """`text` in every free-text field of a lead and its plan."""
    return {
        "name": text,
        "company": text,
        "title": text,
        "context": text,
        "channel": "email",
        "plan": {
            "steps": [
                {
                    "step_id": 1,
                    "description": text,
                    "timing": text,
                    "delay_days": 0,
                    "suggested_text": text,
                },
                # No delay_days: the timing text itself goes through the parser.
                {"step_id": 2, "description": text, "timing": text, "suggested_text": text},
            ]
        },
    }


def assert_lead_holds(lead: Json, text: str) -> None:
    for field in ("name", "company", "title", "context"):
        assert lead[field] == text, (field, text)
    for step in lead["steps"]:
        assert (step["description"], step["timing"], step["suggested_text"]) == (text,) * 3


async def assert_tables_intact(db: Database, leads: int) -> None:
    async with db.read() as conn:
        for table in metadata.sorted_tables:
            await conn.execute(select(func.count()).select_from(table))
        count = (await conn.execute(select(func.count()).select_from(lead_registry))).scalar()
    assert count == leads


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t)[:30])
async def test_hostile_text_is_stored_and_read_back_unchanged(
    client: httpx.AsyncClient, auth: Auth, db: Database, text: str
) -> None:
    created = await client.post("/leads", headers=auth(), json=lead_body(text))
    assert created.status_code == 201, created.text
    lead = created.json()
    assert_lead_holds(lead, text)
    note = await client.post(f"/leads/{lead['id']}/notes", headers=auth(), json={"text": text})
    assert note.status_code == 201, note.text
    assert note.json()["details"] == {"text": text}
    edited_steps = [
        {"step_id": 1, "description": text, "timing": text, "delay_days": 0,
         "suggested_text": text},
        {"step_id": 3, "description": text, "timing": text, "suggested_text": text},
    ]  # fmt: skip
    edited = await client.put(
        f"/plans/{lead['id']}/steps", headers=auth(), json={"steps": edited_steps}
    )
    assert edited.status_code == 200, edited.text

    detail = await get_plan(client, auth, lead["id"])
    open_steps = [s for s in detail["steps"] if s["status"] != "cancelled"]
    assert_lead_holds({**detail, "steps": open_steps}, text)
    notes = [a for a in detail["activity"] if a["activity_type"] == "note_added"]
    assert [n["details"]["text"] for n in notes] == [text]
    listed = (await client.get("/plans", headers=auth())).json()
    assert [entry["name"] for entry in listed["leads"]] == [text]
    draft = await client.get(f"/reminders/{open_steps[0]['reminder_id']}/draft", headers=auth())
    assert draft.status_code == 200, draft.text

    # Names come from Telegram's initData, and are shown back as they came.
    me = await client.get("/me", headers=auth(3003, first_name=text, last_name=text))
    assert me.status_code == 200, me.text
    assert (me.json()["first_name"], me.json()["last_name"]) == (text, text)
    zone = await client.patch("/me", headers=auth(), json={"timezone": text})
    assert zone.status_code == 422
    assert zone.json()["detail"][0]["loc"] == ["body", "timezone"]
    await assert_tables_intact(db, leads=1)


async def test_text_at_its_longest_round_trips(client: httpx.AsyncClient, auth: Auth) -> None:
    """Each field at its declared maximum of characters that grow when escaped."""
    worst = "<&'\">😀\u202e"

    def fill(limit: int) -> str:
        return (worst * limit)[:limit]

    step = {
        "step_id": 1,
        "description": fill(MAX_DESCRIPTION),
        "timing": fill(MAX_TIMING),
        "delay_days": 0,
        "suggested_text": fill(MAX_SUGGESTED_TEXT),
    }
    body = {
        "name": fill(MAX_NAME),
        "company": fill(MAX_NAME),
        "title": fill(MAX_NAME),
        "context": fill(MAX_CONTEXT),
        "plan": {"steps": [step]},
    }
    created = await client.post("/leads", headers=auth(), json=body)
    assert created.status_code == 201, created.text
    detail = await get_plan(client, auth, created.json()["id"])
    assert {k: detail[k] for k in ("name", "company", "title", "context")} == {
        k: body[k] for k in ("name", "company", "title", "context")
    }
    [stored] = detail["steps"]
    assert {k: stored[k] for k in step} == step
    note = await client.post(
        f"/leads/{detail['id']}/notes", headers=auth(), json={"text": fill(MAX_NOTE)}
    )
    assert note.status_code == 201, note.text
    too_long = await client.post(
        f"/leads/{detail['id']}/notes", headers=auth(), json={"text": fill(MAX_NOTE + 1)}
    )
    assert too_long.status_code == 422


NUL_CASES = [
    pytest.param(["name"], id="name"),
    pytest.param(["company"], id="company"),
    pytest.param(["title"], id="title"),
    pytest.param(["context"], id="context"),
    pytest.param(["plan", "steps", 0, "description"], id="description"),
    pytest.param(["plan", "steps", 0, "timing"], id="timing"),
    pytest.param(["plan", "steps", 0, "suggested_text"], id="suggested_text"),
]


@pytest.mark.parametrize("path", NUL_CASES)
async def test_nul_in_a_lead_is_a_422_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, db: Database, path: list[Any]
) -> None:
    """PostgreSQL refuses U+0000 in text: it was a 500 there (and stored on SQLite)."""
    body = lead_body("ok")
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "a\x00b"
    response = await client.post("/leads", headers=auth(), json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", *path]
    await assert_tables_intact(db, leads=0)


async def test_nul_in_notes_and_edited_steps_is_a_422(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = (await client.post("/leads", headers=auth(), json=lead_body("ok"))).json()
    note = await client.post(f"/leads/{lead['id']}/notes", headers=auth(), json={"text": "\x00"})
    assert note.status_code == 422
    assert note.json()["detail"][0]["loc"] == ["body", "text"]
    steps = [{"step_id": 1, "description": "x\x00", "delay_days": 0}]
    edited = await client.put(f"/plans/{lead['id']}/steps", headers=auth(), json={"steps": steps})
    assert edited.status_code == 422
    assert edited.json()["detail"][0]["loc"] == ["body", "steps", 0, "description"]
    detail = await get_plan(client, auth, lead["id"])
    assert [s["description"] for s in detail["steps"]] == ["ok", "ok"]


async def test_nul_in_a_telegram_name_is_dropped_not_a_500(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    """Telegram's names are not the caller's input: cleaned, so the person can sign in."""
    response = await client.get("/me", headers=auth(4004, first_name="A\x00na", username="a\x00"))
    assert response.status_code == 200, response.text
    assert (response.json()["first_name"], response.json()["username"]) == ("Ana", "a")


# --- What Telegram shows ---------------------------------------------------------------

SECRET = "injection-secret"
_update_ids = itertools.count(50_000)


@pytest.fixture
async def bot_client(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeTelegram]]:
    async with FakeTelegram() as fake:
        settings = make_settings(
            telegram_bot_token=fake.token,
            telegram_api_base=fake.base_url,
            telegram_webhook_secret=SECRET,
            internal_token="tick",
            reminders_per_user_per_tick=getattr(request, "param", 3),
        )
        app = create_app(settings, clock=clock, database=db)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, fake


async def post_update(http: httpx.AsyncClient, update: dict[str, Any]) -> None:
    update["update_id"] = next(_update_ids)
    response = await http.post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200


def entity_types(message: dict[str, Any]) -> list[str]:
    return [entity["type"] for entity in message.get("entities", [])]


@pytest.mark.parametrize(
    ("bot_client", "individual"),
    [(50, len(HOSTILE) + 1), (3, 3)],
    ids=["every-lead-its-own-reminder", "three-then-a-digest"],
    indirect=["bot_client"],
)
async def test_reminders_digests_and_lists_show_hostile_text_literally(
    bot_client: tuple[httpx.AsyncClient, FakeTelegram],
    clock: ManualClock,
    db: Database,
    individual: int,
) -> None:
    """Every message is parsed as Telegram parses HTML (the fake refuses bad markup): the
    hostile text must come out as the visible characters, and add no formatting or links."""
    http, fake = bot_client
    owner = 1001

    def auth(telegram_id: int) -> dict[str, str]:
        raw = initdata.sign(
            token=fake.token,
            user=initdata.default_user(telegram_id),
            auth_date=int(clock.now().timestamp()),
        )
        return {"Authorization": f"tma {raw}"}

    benign = await http.post("/leads", headers=auth(owner), json=lead_body("Plain Lead"))
    assert benign.status_code == 201
    for text in HOSTILE:
        created = await http.post("/leads", headers=auth(owner), json=lead_body(text))
        assert created.status_code == 201, created.text
    await assert_tables_intact(db, leads=len(HOSTILE) + 1)

    tick = await http.post("/internal/tick", headers={"Authorization": "Bearer tick"})
    assert tick.status_code == 200
    assert tick.json()["sent"] == len(HOSTILE) + 1
    sent = fake.sent_messages(owner)
    assert all(call.ok for call in fake.calls_to("sendMessage")), [
        call.description for call in fake.calls_to("sendMessage")
    ]
    reminders = [call.result for call in sent if "Step 1 of 2 is due" in call.result["text"]]
    digests = [call.result for call in sent if "more steps waiting" in call.result["text"]]
    assert len(reminders) == individual
    assert len(digests) == (individual < len(HOSTILE) + 1)
    plain = next(r for r in reminders if "Plain Lead" in r["text"])
    for reminder in reminders:
        # The same formatting as the plain lead's: bold headline, italic timing, the draft.
        assert entity_types(reminder) == entity_types(plain)
    for digest in digests:
        assert set(entity_types(digest)) == {"bold"}
        assert len(entity_types(digest)) == 1 + digest["text"].count("\n• ")

    shown = "\n".join(message["text"] for message in [*reminders, *digests])
    for text in HOSTILE:
        assert text in shown, text
    for reminder in reminders:
        # Lead, company, description and timing, each as typed.
        name = next(t for t in [*HOSTILE, "Plain Lead"] if f"👤 {t} · {t}" in reminder["text"])
        assert f": {name}\n{name} · " in reminder["text"]

    # Pressing Done edits the message from what Telegram sent back: still literal.
    target = next(r for r in reminders if r is not plain)
    [done] = [
        b["callback_data"]
        for row in target["reply_markup"]["inline_keyboard"]
        for b in row
        if b.get("callback_data", "").startswith("eplan:done:")
    ]
    update = callback_query_update(owner, done, message_id=target["message_id"])
    update["callback_query"]["message"] = target
    await post_update(http, update)
    [edit] = fake.calls_to("editMessageText")
    assert edit.ok, edit.description
    assert edit.result["text"].startswith(target["text"])
    assert edit.result["text"].endswith("✅ Done")

    # /today lists the due steps by lead name, in HTML too.
    fake.reset()
    await post_update(http, message_update(owner, "/today"))
    listings = fake.calls_to("sendMessage")
    assert listings
    assert all(call.ok for call in listings), [call.description for call in listings]
    listed = "\n".join(call.result["text"] for call in listings)
    assert sum(text in listed for text in HOSTILE) >= 9  # ten listed, one of them plain
    await assert_tables_intact(db, leads=len(HOSTILE) + 1)


async def test_a_hostile_lead_command_answers_literally(
    bot_client: tuple[httpx.AsyncClient, FakeTelegram], db: Database
) -> None:
    http, fake = bot_client
    text = "<b>Ana</b>'; DROP TABLE users; --"
    await post_update(http, message_update(1001, f"/lead {text}, <i>Acme</i> — &amp; <script>"))
    answers = fake.sent_messages(1001)
    assert answers, fake.calls
    assert all(call.ok for call in answers)
    assert any(text in call.result["text"] for call in answers)
    await assert_tables_intact(db, leads=1)
