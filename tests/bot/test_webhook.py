"""The webhook through aiogram, with updates shaped like Telegram's, against the fake API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from app.clock import ManualClock
from app.container import Container
from app.db.database import Database
from app.db.tables import lead_activity_log, scheduled_reminders, users
from app.services import users as users_service
from app.telegram.callbacks import ACTIONS
from tests.bot.support import SECRET, Delivered, next_update_id, post_update, the_note
from tests.scheduler.support import make_lead, make_user, reminder_status
from tests.support.fake_telegram import FakeTelegram, callback_query_update, message_update


@pytest.mark.parametrize("secret", [None, "wrong"])
async def test_wrong_or_missing_secret_is_401(http: httpx.AsyncClient, secret: str | None) -> None:
    response = await post_update(http, message_update(5, "/start"), secret=secret)
    assert response.status_code == 401


async def test_start_registers_and_welcomes(
    http: httpx.AsyncClient, fake: FakeTelegram, db: Database
) -> None:
    response = await post_update(http, message_update(42, "/start"))
    assert response.status_code == 200
    [welcome] = fake.sent_messages(42)
    assert "Welcome" in welcome.params["text"]
    async with db.read() as conn:
        assert (await conn.execute(select(users.c.telegram_id))).scalar_one() == 42


async def test_start_clears_blocked(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
) -> None:
    await make_user(db, clock, 43)
    await users_service.mark_unreachable(db, 43, clock.now())
    await post_update(http, message_update(43, "/start"))
    assert "Welcome back" in fake.sent_messages(43)[-1].params["text"]
    async with db.read() as conn:
        assert (await conn.execute(select(users.c.blocked_at))).scalar_one() is None


async def test_done_press_goes_through_the_step_service(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    delivered: Delivered,
) -> None:
    rid = delivered.rid
    update = delivered.press("done", callback_query_id="cq-1")
    response = await post_update(http, update)
    assert response.status_code == 200
    [answer] = fake.calls_to("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "cq-1"
    assert answer.params["text"] == "✅ Done"
    [edit] = fake.calls_to("editMessageText")
    assert edit.ok
    assert "✅ Done" in edit.params["text"]
    assert edit.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "↩ Undo", "callback_data": f"eplan:undo:{rid}"}]]
    }
    status = await reminder_status(db, rid)
    async with db.read() as conn:
        kinds = (await conn.execute(select(lead_activity_log.c.activity_type))).scalars().all()
    assert status == "completed"
    assert kinds.count("step_completed") == 1


async def test_a_press_that_fails_inside_is_answered_and_can_be_pressed_again(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    caplog: pytest.LogCaptureFixture,
    delivered: Delivered,
) -> None:
    rid = delivered.rid

    def press(query_id: str) -> dict[str, Any]:
        return delivered.press("done", callback_query_id=query_id)

    # A real failure inside the handler, after the webhook remembered the update: the
    # reminders table is not there while the press is handled.
    async with db.transaction() as conn:
        await conn.execute(text("ALTER TABLE scheduled_reminders RENAME TO reminders_away"))
    try:
        response = await post_update(http, press("cq-failed"))
    finally:
        async with db.transaction() as conn:
            await conn.execute(text("ALTER TABLE reminders_away RENAME TO scheduled_reminders"))
    assert response.status_code == 200
    [answer] = fake.calls_to("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "cq-failed"
    assert answer.params["show_alert"] is True
    assert "press again" in answer.params["text"]
    assert not fake.calls_to("editMessageText")
    assert "handler failed for update" in caplog.text

    response = await post_update(http, press("cq-again"))
    assert response.status_code == 200
    assert fake.calls_to("answerCallbackQuery")[-1].params["text"] == "✅ Done"
    status = await reminder_status(db, rid)
    assert status == "completed"


async def test_redelivered_update_acts_once(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    delivered: Delivered,
) -> None:
    update = delivered.press("skip")
    update["update_id"] = 777
    assert (await post_update(http, dict(update))).status_code == 200
    assert (await post_update(http, dict(update))).status_code == 200
    assert len(fake.calls_to("answerCallbackQuery")) == 1
    async with db.read() as conn:
        kinds = (await conn.execute(select(lead_activity_log.c.activity_type))).scalars().all()
    assert kinds.count("step_skipped") == 1


async def _reminder_row(db: Database, rid: int) -> tuple[Any, ...]:
    async with db.read() as conn:
        row = (
            await conn.execute(select(scheduled_reminders).where(scheduled_reminders.c.id == rid))
        ).one()
        log = (await conn.execute(select(lead_activity_log.c.id))).scalars().all()
    return (*row, tuple(log))


@pytest.mark.parametrize("action", ACTIONS)
async def test_someone_elses_reminder_changes_nothing(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
    action: str,
    delivered: Delivered,
) -> None:
    """Callback data is the client's to forge: a press naming another user's reminder id
    neither changes it nor tells anything about it (the same alert as a missing one)."""
    rid, sent = delivered.rid, delivered.message
    before = await _reminder_row(db, rid)
    await make_user(db, clock, 2002)
    fake.reset()
    update = callback_query_update(
        1001, f"eplan:{action}:{rid}", message_id=sent["message_id"], user_id=2002
    )
    assert (await post_update(http, update)).status_code == 200
    missing = callback_query_update(
        1001, f"eplan:{action}:{rid + 1000}", message_id=sent["message_id"], user_id=2002
    )
    assert (await post_update(http, missing)).status_code == 200
    foreign, absent = fake.calls_to("answerCallbackQuery")
    assert foreign.params.get("show_alert") is True
    assert "isn't available" in foreign.params["text"]
    assert {k: v for k, v in foreign.params.items() if k != "callback_query_id"} == {
        k: v for k, v in absent.params.items() if k != "callback_query_id"
    }
    # Nothing edited, nothing sent (a draft or a lead summary would leak the owner's text).
    assert [call.method for call in fake.calls] == ["answerCallbackQuery"] * 2
    assert await _reminder_row(db, rid) == before


async def test_snooze_press_answers_with_the_new_time(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    delivered: Delivered,
) -> None:
    await post_update(http, delivered.press("snooze1"))
    [answer] = fake.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "Snoozed until Tue 09:00"  # Monday 10:00 → Tuesday


async def test_press_on_a_closed_step_says_so(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    delivered: Delivered,
) -> None:
    for action in ("done", "skip"):
        await post_update(http, delivered.press(action))
    answers = fake.calls_to("answerCallbackQuery")
    assert answers[-1].params["text"] == "This step is already done."
    assert answers[-1].params.get("show_alert") is True


@pytest.mark.parametrize(
    "data",
    [
        "eplan:explode:1",
        "eplan:done:notanumber",
        "garbage",
        "eplan:done:999999",
        # Ids no row can have: past 64 bits, zero, negative (never a database error).
        "eplan:done:99999999999999999999",
        "eplan:snooze1:9223372036854775808",
        "eplan:draft:0",
        "eplan:lead:-1",
    ],
)
async def test_malformed_or_unknown_buttons_get_a_friendly_alert(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
    data: str,
) -> None:
    await make_user(db, clock, 1001)
    response = await post_update(http, callback_query_update(1001, data, message_id=1))
    assert response.status_code == 200
    [answer] = fake.calls_to("answerCallbackQuery")
    assert answer.params.get("show_alert") is True


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"update_id": "x"}', b'{"hello": 1}', b"\xff\xfe{}"]
)
async def test_a_body_that_is_not_an_update_is_acknowledged(
    http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post(
        "/telegram/webhook",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 200


async def test_reply_to_a_reminder_saves_a_note(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    delivered: Delivered,
) -> None:
    await post_update(http, delivered.reply("They asked for pricing"))
    assert "Saved as a note" in fake.sent_messages(1001)[-1].params["text"]
    row = await the_note(db)
    assert row == {"text": "They asked for pricing"}


async def test_today_lists_due_steps_with_buttons(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
) -> None:
    user = await make_user(db, clock, 1001)
    lead = await make_lead(db, clock, user, [0, 5], name="Bea")
    await post_update(http, message_update(1001, "/today"))
    [listing] = fake.sent_messages(1001)
    assert "Bea" in listing.params["text"]
    rid = lead.steps[0].reminder_id
    datas = [
        b.get("callback_data")
        for row in listing.params["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert f"eplan:done:{rid}" in datas


async def test_pause_and_resume_commands(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
) -> None:
    await post_update(http, message_update(1001, "/pause 3"))
    assert "paused until" in fake.sent_messages(1001)[-1].params["text"]
    async with db.read() as conn:
        until = (await conn.execute(select(users.c.paused_until))).scalar_one()
    assert until is not None
    await post_update(http, message_update(1001, "/resume"))
    async with db.read() as conn:
        row = (await conn.execute(select(users.c.paused_until, users.c.reminders_paused))).one()
    assert (row.paused_until, row.reminders_paused) == (None, False)


async def test_an_oversized_update_is_413(
    app_client: tuple[httpx.AsyncClient, Container], fake: FakeTelegram
) -> None:
    http, container = app_client
    limit = container.settings.max_request_body_bytes
    update = message_update(5, "/start")
    update["update_id"] = next_update_id()
    body = json.dumps(update).encode()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    over = await http.post("/telegram/webhook", content=body + b" " * limit, headers=headers)
    assert over.status_code == 413
    assert "larger than the limit" in over.json()["detail"]
    # A padded update just at the limit is still an update.
    at = await http.post(
        "/telegram/webhook", content=body + b" " * (limit - len(body)), headers=headers
    )
    assert at.status_code == 200
    assert len(fake.sent_messages(5)) == 1


async def test_a_streamed_update_is_not_read_past_the_limit(
    app_client: tuple[httpx.AsyncClient, Container],
) -> None:
    """The webhook used to read the whole body and only then compare its size: a sender
    with the secret could make it hold any amount. Now it stops at the limit."""
    http, container = app_client
    chunk = 64 * 1024
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            await asyncio.sleep(0)
            yield b" " * chunk

    async with asyncio.timeout(10):
        response = await http.post(
            "/telegram/webhook",
            content=endless(),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    assert response.status_code == 413
    assert pulled == container.settings.max_request_body_bytes // chunk + 1
