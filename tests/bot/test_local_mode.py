"""Local mode: no token, the outbox page, buttons through the real handlers, demo login."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_registry
from app.main import create_app
from app.services.demo import DEMO_USER, seed_demo
from tests.scheduler.support import reminder_status


@pytest.fixture
async def local(
    make_settings: Callable[..., Any], clock: ManualClock, db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(telegram_bot_token=None), clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            http.app_state = app.state  # type: ignore[attr-defined]
            yield http


async def test_demo_is_seeded_once_with_due_overdue_and_upcoming(
    db: Database, clock: ManualClock
) -> None:
    assert await seed_demo(db, clock.now())
    assert not await seed_demo(db, clock.now())
    async with db.read() as conn:
        names = (await conn.execute(select(lead_registry.c.name))).scalars().all()
    assert sorted(names) == ["Ana Lima", "Bruno Costa", "Chen Wei"]


async def test_click_through_a_reminder_in_the_outbox(
    local: httpx.AsyncClient, db: Database, clock: ManualClock
) -> None:
    await seed_demo(db, clock.now())
    dispatcher = local.app_state.container.dispatcher  # type: ignore[attr-defined]
    counts = await dispatcher.run_pass()
    assert counts.sent == 2  # Ana's step due now, Bruno's overdue one
    page = await local.get("/dev/outbox")
    assert page.status_code == 200
    assert "Ana Lima" in page.text
    assert "Bruno Costa" in page.text
    outbox = local.app_state.container.outbox  # type: ignore[attr-defined]
    ana = next(m for m in outbox.messages if "Ana Lima" in m["text"])
    done = ana["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    response = await local.post(
        "/dev/outbox/press",
        data={"chat_id": ana["chat_id"], "message_id": ana["message_id"], "data": done},
    )
    assert response.status_code == 303
    assert outbox.toasts[-1]["text"] == "✅ Done"
    assert "✅ Done" in ana["text"]
    # Only Undo is left, while the press can be taken back.
    assert ana["reply_markup"] == {
        "inline_keyboard": [[{"text": "↩ Undo", "callback_data": done.replace("done", "undo")}]]
    }
    rid = int(done.rsplit(":", 1)[1])
    status = await reminder_status(db, rid)
    assert status == "completed"

    # ↩ Undo in the outbox takes the press back: the reminder has its buttons again.
    response = await local.post(
        "/dev/outbox/press",
        data={
            "chat_id": ana["chat_id"],
            "message_id": ana["message_id"],
            "data": f"eplan:undo:{rid}",
        },
    )
    assert response.status_code == 303
    assert outbox.toasts[-1]["text"] == "↩ Undone"
    assert "✅ Done" not in ana["text"]
    assert ana["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == done
    assert await reminder_status(db, rid) == "sent"


async def test_commands_from_the_outbox_page(
    local: httpx.AsyncClient, db: Database, clock: ManualClock
) -> None:
    await seed_demo(db, clock.now())
    response = await local.post("/dev/outbox/say", data={"text": "/today"})
    assert response.status_code == 303
    page = (await local.get("/dev/outbox")).text
    assert "Bruno Costa" in page


async def test_demo_login_signs_in_as_the_demo_user(local: httpx.AsyncClient) -> None:
    raw = (await local.get("/dev/init-data")).json()["init_data"]
    me = await local.get("/me", headers={"Authorization": f"tma {raw}"})
    assert me.status_code == 200
    assert me.json()["telegram_id"] == DEMO_USER.telegram_id


async def test_none_of_dev_exists_with_a_token(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/dev/outbox"),
        ("POST", "/dev/outbox/press"),
        ("POST", "/dev/outbox/say"),
        ("GET", "/dev/init-data"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 404, path


async def test_the_local_key_cannot_sign_for_a_real_bot(
    local: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    raw = (await local.get("/dev/init-data")).json()["init_data"]
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 401
