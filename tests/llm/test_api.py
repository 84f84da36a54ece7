"""Plan generation, notes and drafts through the REST API and the bot, with and without a
model configured (the model being the fake OpenAI-compatible server on loopback)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.clock import ManualClock
from app.container import Container
from app.db.database import Database
from app.main import create_app
from tests.api.plan_helpers import OWNER, STRANGER, Auth, create_lead, get_plan, reminder_ids
from tests.scheduler.support import make_lead, make_user
from tests.support import initdata
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.fake_telegram import FakeTelegram, callback_query_update, message_update

PLAN = {
    "steps": [
        {"step_id": 2, "description": "Intro email", "delay_days": 3, "channel": "Email"},
        {"step_id": 1, "description": "Connect", "delay_days": 0, "channel": "linkedin"},
        {"step_id": 3, "description": "Follow up", "delay_days": 2, "channel": "linkedin"},
        {"step_id": 4, "description": "Call", "timing": "Day 10", "channel": "phone"},
        {"step_id": 5, "description": "Wave", "delay_days": 14, "channel": "fax"},
    ]
}
_updates = itertools.count(1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@asynccontextmanager
async def app_with(
    make_settings: Callable[..., Any], clock: ManualClock, db: Database, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**overrides), clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            http.app_state = app.state  # type: ignore[attr-defined]
            yield http


@pytest.fixture
async def llm_client(
    make_settings: Callable[..., Any], clock: ManualClock, db: Database, fake: FakeOpenAI
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_with(
        make_settings, clock, db, llm_base_url=fake.base_url, llm_model="m", llm_timeout=2
    ) as http:
        yield http


async def generate(http: httpx.AsyncClient, auth: Auth, **fields: Any) -> dict[str, Any]:
    body = {"name": "Ana Silva", "company": "Acme", "generate_plan": True, **fields}
    response = await http.post("/leads", headers=auth(), json=body)
    assert response.status_code == 201, response.text
    lead: dict[str, Any] = response.json()
    return lead


async def test_generated_plan_from_the_model_is_normalised_and_scheduled(
    llm_client: httpx.AsyncClient, auth: Auth, fake: FakeOpenAI
) -> None:
    fake.script(Reply.content_of(PLAN))
    lead = await generate(llm_client, auth, context="Evaluating CRMs")
    assert lead["plan_source"] == "llm"
    assert lead["plan_status"] == "active"
    steps = lead["steps"]
    assert [s["description"] for s in steps] == [
        "Connect",
        "Intro email",
        "Follow up",
        "Call",
        "Wave",
    ]
    assert [s["channel"] for s in steps] == ["linkedin", "email", "linkedin", "phone", "other"]
    assert [s["delay_days"] for s in steps] == [0, 3, 3, 10, 14]
    assert all(s["due_at"] for s in steps)
    assert "Evaluating CRMs" in fake.requests[0].messages[1]["content"]
    detail = await get_plan(llm_client, auth, lead["id"])
    assert detail["steps"] == steps


async def test_invalid_model_output_gives_the_offline_plan(
    llm_client: httpx.AsyncClient, auth: Auth, fake: FakeOpenAI
) -> None:
    fake.answer_always(Reply.content_of({"steps": "many"}))
    lead = await generate(llm_client, auth, channel="email")
    assert lead["plan_source"] == "template"
    assert len(lead["steps"]) == 6
    assert lead["steps"][0]["channel"] == "email"


async def test_without_a_model_generate_plan_always_works(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    lead = await generate(client, auth, channel="telegram", title="CTO", context="Loves Rust")
    assert lead["plan_source"] == "template"
    assert 5 <= len(lead["steps"]) <= 8
    first = lead["steps"][0]
    assert (first["channel"], first["delay_days"]) == ("telegram", 0)
    assert first["suggested_text"].startswith("Hi Ana! Quick hello from me. Saw Loves Rust")


async def test_plan_and_generate_plan_together_is_422(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    body = {"name": "Ana", "generate_plan": True, "plan": {"steps": PLAN["steps"]}}
    response = await client.post("/leads", headers=auth(), json=body)
    assert response.status_code == 422


async def test_notes(client: httpx.AsyncClient, auth: Auth, clock: ManualClock) -> None:
    lead = await create_lead(client, auth, None)
    response = await client.post(
        f"/leads/{lead['id']}/notes", headers=auth(), json={"text": " Prefers email "}
    )
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["activity_type"] == "note_added"
    assert note["details"] == {"text": "Prefers email"}
    assert note["created_at"] == "2026-03-02T10:00:00Z"
    detail = await get_plan(client, auth, lead["id"])
    assert detail["activity"][0] == note

    stranger = await client.post(
        f"/leads/{lead['id']}/notes", headers=auth(STRANGER), json={"text": "hi"}
    )
    assert (stranger.status_code, stranger.json()) == (404, {"detail": "not found"})
    for text in ["", "x" * 2001, "   "]:
        bad = await client.post(f"/leads/{lead['id']}/notes", headers=auth(), json={"text": text})
        assert bad.status_code == 422, text
        assert bad.json()["detail"][0]["loc"] == ["body", "text"]


async def test_a_note_regenerates_the_draft_through_the_model(
    llm_client: httpx.AsyncClient, auth: Auth, fake: FakeOpenAI, clock: ManualClock
) -> None:
    steps = [{"step_id": 1, "description": "Call", "channel": "phone", "suggested_text": "Plan"}]
    lead = await create_lead(llm_client, auth, steps, context="Met at a fair")
    reminder = reminder_ids(lead)[1]
    draft = (await llm_client.get(f"/reminders/{reminder}/draft", headers=auth())).json()
    assert (draft["text"], draft["source"]) == ("Plan", "plan")

    clock.advance(60)
    note = {"text": "Ask about the Berlin office"}
    assert (
        await llm_client.post(f"/leads/{lead['id']}/notes", headers=auth(), json=note)
    ).status_code == 201
    clock.advance(60)
    fake.script(Reply.content_of({"text": "Greet\nAsk about Berlin\nBook a demo"}))
    draft = (await llm_client.get(f"/reminders/{reminder}/draft", headers=auth())).json()
    assert draft == {
        "text": "- Greet\n- Ask about Berlin\n- Book a demo",
        "generated_at": "2026-03-02T10:02:00Z",
        "source": "llm",
    }
    assert "Ask about the Berlin office" in fake.requests[0].messages[1]["content"]
    other = await llm_client.get(f"/reminders/{reminder}/draft", headers=auth(STRANGER))
    assert other.status_code == 404


# --- the bot's /lead ------------------------------------------------------------------------


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    # The test bot's token, so the Mini App requests the tests sign stay valid.
    async with FakeTelegram(initdata.TEST_BOT_TOKEN) as server:
        yield server


async def send(http: httpx.AsyncClient, chat: int, text: str) -> None:
    """An update through the webhook, and whatever it started in the background."""
    update = message_update(chat, text, update_id=next(_updates))
    response = await http.post("/telegram/webhook", json=update)
    assert response.status_code == 200
    container: Container = http.app_state.container  # type: ignore[attr-defined]
    await container.background.wait()


@pytest.mark.parametrize("public", [True, False])
async def test_lead_command_creates_a_lead_with_a_plan(
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
    telegram: FakeTelegram,
    fake: FakeOpenAI,
    auth: Auth,
    public: bool,
) -> None:
    fake.script(Reply.content_of(PLAN))
    overrides: dict[str, Any] = {
        "telegram_bot_token": telegram.token,
        "telegram_api_base": telegram.base_url,
        "llm_base_url": fake.base_url,
        "llm_model": "m",
    }
    if public:
        overrides["public_base_url"] = "https://eplan.example"
    async with app_with(make_settings, clock, db, **overrides) as http:
        await send(http, OWNER, "/lead Ana Silva, Acme — met at SaaStr, evaluating CRMs")
        plans = (await http.get("/plans", headers=auth())).json()
    (lead,) = plans["leads"]
    assert (lead["name"], lead["company"], lead["context"]) == (
        "Ana Silva",
        "Acme",
        "met at SaaStr, evaluating CRMs",
    )
    assert len(lead["steps"]) == 5
    working, answer = (call.params for call in telegram.sent_messages(OWNER)[-2:])
    assert working["text"] == "✍️ Writing a plan for Ana Silva…"
    assert answer["text"].startswith("🗂 New lead: Ana Silva · Acme\nPlan of 5 steps (written by")
    assert "1. Day 0 · LinkedIn — Connect" in answer["text"]
    if public:
        button = answer["reply_markup"]["inline_keyboard"][0][0]
        assert button["web_app"]["url"] == f"https://eplan.example/app/#/leads/{lead['id']}"
    else:
        assert "reply_markup" not in answer
        assert "Open the Mini App" in answer["text"]


async def test_lead_command_without_a_model_or_arguments(
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
    telegram: FakeTelegram,
    auth: Auth,
) -> None:
    overrides = {"telegram_bot_token": telegram.token, "telegram_api_base": telegram.base_url}
    async with app_with(make_settings, clock, db, **overrides) as http:
        await send(http, OWNER, "/lead")
        assert telegram.sent_messages(OWNER)[-1].params["text"].startswith("Usage: /lead")
        await send(http, OWNER, "/lead Bo")
        plans = (await http.get("/plans", headers=auth())).json()
    (lead,) = plans["leads"]
    assert (lead["name"], lead["company"], len(lead["steps"])) == ("Bo", None, 6)
    assert "from the built-in templates" in telegram.sent_messages(OWNER)[-1].params["text"]


async def test_view_draft_regenerates_after_a_note(
    make_settings: Callable[..., Any],
    clock: ManualClock,
    db: Database,
    telegram: FakeTelegram,
    fake: FakeOpenAI,
) -> None:
    overrides = {
        "telegram_bot_token": telegram.token,
        "telegram_api_base": telegram.base_url,
        "internal_token": "tick",
        "llm_base_url": fake.base_url,
        "llm_model": "m",
    }
    async with app_with(make_settings, clock, db, **overrides) as http:
        user = await make_user(db, clock, OWNER)
        lead = await make_lead(db, clock, user, [0], name="Ana")
        tick = await http.post("/internal/tick", headers={"Authorization": "Bearer tick"})
        assert tick.json()["sent"] == 1
        reminder_message = telegram.sent_messages(OWNER)[-1].result
        clock.advance(60)
        reply = message_update(OWNER, "She is moving to Berlin", update_id=next(_updates))
        reply["message"]["reply_to_message"] = reminder_message
        assert (await http.post("/telegram/webhook", json=reply)).status_code == 200
        clock.advance(60)
        fake.script(Reply.content_of({"subject": "Berlin", "text": "Congrats on Berlin!"}))
        rid = lead.steps[0].reminder_id
        press = callback_query_update(
            OWNER,
            f"eplan:draft:{rid}",
            message_id=reminder_message["message_id"],
            update_id=next(_updates),
        )
        assert (await http.post("/telegram/webhook", json=press)).status_code == 200
    toast = telegram.calls_to("answerCallbackQuery")[-1].params
    assert toast["text"] == "Draft below (written by AI)"
    assert telegram.sent_messages(OWNER)[-1].params["text"] == (
        "Subject: Berlin\n\nCongrats on Berlin!"
    )
    assert "She is moving to Berlin" in fake.requests[0].messages[1]["content"]
