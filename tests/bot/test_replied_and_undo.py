"""💬 Replied and ↩ Undo under a reminder: through the webhook, the real aiogram Bot and the
fake Bot API, against both engines."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_activity_log, lead_registry
from tests.api.plan_helpers import reminder_status
from tests.bot.support import Delivered, post_update
from tests.support.fake_telegram import FakeTelegram, callback_query_update


def _undo_button(rid: int) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "↩ Undo", "callback_data": f"eplan:undo:{rid}"}]]}


def _press_on(delivered: Delivered, action: str, text: str, query_id: str) -> dict[str, Any]:
    """A press under the message as it reads now (after an edit)."""
    return callback_query_update(
        delivered.chat,
        f"eplan:{action}:{delivered.rid}",
        message_id=delivered.message["message_id"],
        message_text=text,
        callback_query_id=query_id,
    )


async def _lead(db: Database) -> Any:
    async with db.read() as conn:
        return (await conn.execute(select(lead_registry))).one()


async def _kinds(db: Database) -> list[str]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(lead_activity_log.c.activity_type).order_by(lead_activity_log.c.id)
        )
        return list(rows.scalars())


async def test_replied_finishes_the_plan_and_says_so(
    http: httpx.AsyncClient, fake: FakeTelegram, db: Database, delivered: Delivered
) -> None:
    response = await post_update(http, delivered.press("replied", callback_query_id="cq-r"))
    assert response.status_code == 200
    [answer] = fake.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "Plan finished: they replied"
    [edit] = fake.calls_to("editMessageText")
    assert edit.params["text"].endswith("<b>💬 Plan finished: they replied</b>")
    assert edit.params["reply_markup"] == _undo_button(delivered.rid)
    lead = await _lead(db)
    assert (lead.plan_status, lead.plan_outcome, lead.status) == (
        "completed",
        "replied",
        "in_progress",
    )
    assert await reminder_status(db, delivered.rid) == "cancelled"
    assert "plan_finished" in await _kinds(db)


async def test_undo_after_done_restores_the_reminder_and_its_buttons(
    http: httpx.AsyncClient, fake: FakeTelegram, db: Database, delivered: Delivered
) -> None:
    await post_update(http, delivered.press("done", callback_query_id="cq-done"))
    [settled] = fake.calls_to("editMessageText")
    assert await reminder_status(db, delivered.rid) == "completed"

    undo = _press_on(delivered, "undo", settled.params["text"], "cq-undo")
    assert (await post_update(http, undo)).status_code == 200
    answers = fake.calls_to("answerCallbackQuery")
    assert answers[-1].params["text"] == "↩ Undone"
    restored = fake.calls_to("editMessageText")[-1]
    assert "Step 1 of 2 is due" in restored.params["text"]
    assert "Done" not in restored.params["text"]
    buttons = [b["text"] for row in restored.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[:5] == ["✅ Done", "Snooze 1d", "Snooze 3d", "💬 Replied", "Skip"]
    assert await reminder_status(db, delivered.rid) == "sent"
    assert (await _lead(db)).status == "analyzed"

    # The same update delivered again acts once.
    again = await post_update(http, {**undo})
    assert again.status_code == 200
    assert (await _kinds(db)).count("step_undone") == 1


async def test_undo_after_replied_reopens_the_plan(
    http: httpx.AsyncClient, fake: FakeTelegram, db: Database, delivered: Delivered
) -> None:
    await post_update(http, delivered.press("replied", callback_query_id="cq-r"))
    [settled] = fake.calls_to("editMessageText")
    await post_update(http, _press_on(delivered, "undo", settled.params["text"], "cq-u"))
    lead = await _lead(db)
    assert (lead.plan_status, lead.plan_outcome, lead.status) == ("active", None, "analyzed")
    assert await reminder_status(db, delivered.rid) == "sent"


async def test_a_late_undo_is_refused_and_its_button_goes(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
    delivered: Delivered,
) -> None:
    await post_update(http, delivered.press("skip", callback_query_id="cq-s"))
    [settled] = fake.calls_to("editMessageText")
    clock.advance(11 * 60)
    await post_update(http, _press_on(delivered, "undo", settled.params["text"], "cq-late"))
    answer = fake.calls_to("answerCallbackQuery")[-1]
    assert answer.params["show_alert"] is True
    assert "10 minutes" in answer.params["text"]
    [dropped] = fake.calls_to("editMessageReplyMarkup")
    assert not dropped.params.get("reply_markup")
    assert await reminder_status(db, delivered.rid) == "skipped"


async def test_someone_elses_undo_changes_nothing(
    http: httpx.AsyncClient, fake: FakeTelegram, db: Database, delivered: Delivered
) -> None:
    await post_update(http, delivered.press("done", callback_query_id="cq-d"))
    forged = callback_query_update(
        delivered.chat,
        f"eplan:undo:{delivered.rid}",
        message_id=delivered.message["message_id"],
        user_id=4242,
        callback_query_id="cq-forged",
    )
    await post_update(http, forged)
    answer = fake.calls_to("answerCallbackQuery")[-1]
    assert answer.params["show_alert"] is True
    assert await reminder_status(db, delivered.rid) == "completed"


async def test_view_lead_tells_the_status(
    http: httpx.AsyncClient, fake: FakeTelegram, delivered: Delivered
) -> None:
    await post_update(http, delivered.press("done", callback_query_id="cq-d"))
    await post_update(http, delivered.press("lead", callback_query_id="cq-l"))
    answer = fake.calls_to("answerCallbackQuery")[-1]
    assert "Status: reached out" in answer.params["text"]
    assert "1/2 steps closed, active" in answer.params["text"]
