"""Dispatch passes against the fake Bot API, with the real aiogram Bot and a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_activity_log, scheduled_reminders, users
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services import users as users_service
from tests.scheduler.support import dispatch_env, make_lead, make_user


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def reminder_rows(db: Database) -> dict[int, dict[str, object]]:
    async with db.read() as conn:
        rows = await conn.execute(select(scheduled_reminders).order_by(scheduled_reminders.c.id))
        return {r.id: dict(r._mapping) for r in rows}


async def activity_types(db: Database) -> list[str]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(lead_activity_log.c.activity_type).order_by(lead_activity_log.c.id)
        )
        return list(rows.scalars())


async def test_first_reminder_is_sent_on_time_with_buttons(
    db: Database, clock: ManualClock
) -> None:
    user = await make_user(db, clock)
    lead = await make_lead(db, clock, user, [0, 2], name="Ana <b>Lima</b>")
    async with dispatch_env(db, clock) as env:
        counts = await env.dispatcher.run_pass()
        assert (counts.due, counts.sent, counts.nudged, counts.failed) == (1, 1, 0, 0)
        [call] = env.fake.sent_messages()
    assert call.params["chat_id"] == 1001
    assert call.params["parse_mode"] == "HTML"
    text = call.params["text"]
    assert "Step 1 of 2 is due" in text
    assert "Ana &lt;b&gt;Lima&lt;/b&gt;" in text  # escaped, not markup
    assert "Hello from step 1" in text
    rid = lead.steps[0].reminder_id
    buttons = [b for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == [
        "✅ Done",
        "Snooze 1d",
        "Snooze 3d",
        "💬 Replied",
        "Skip",
        "View draft",
        "View lead",
    ]
    assert [b.get("callback_data") for b in buttons] == [
        f"eplan:done:{rid}",
        f"eplan:snooze1:{rid}",
        f"eplan:snooze3:{rid}",
        f"eplan:replied:{rid}",
        f"eplan:skip:{rid}",
        f"eplan:draft:{rid}",
        f"eplan:lead:{rid}",
    ]
    rows = await reminder_rows(db)
    first = rows[rid]  # type: ignore[index]
    assert first["status"] == "sent"
    assert first["reminder_count"] == 1
    assert first["nudge_stage"] == 1
    assert first["message_id"] == call.result["message_id"]
    assert first["last_reminded_at"] == clock.now()
    assert first["claimed_by"] is None
    assert "step_reminder_sent" in await activity_types(db)


async def test_a_second_pass_sends_nothing_more(db: Database, clock: ManualClock) -> None:
    user = await make_user(db, clock)
    await make_lead(db, clock, user, [0])
    async with dispatch_env(db, clock) as env:
        await env.dispatcher.run_pass()
        counts = await env.dispatcher.run_pass()
        assert counts.due == 0
        assert len(env.fake.sent_messages()) == 1


async def test_the_whole_ladder_respects_working_hours(db: Database, clock: ManualClock) -> None:
    # Thursday 2026-03-05 10:00 UTC: first reminder now; gentle Friday 10:00; final 48 h
    # after that falls on Sunday, so Monday 09:00; auto-snooze 24 h later, silently, then
    # the ladder restarts a week on.
    clock.set(utc(2026, 3, 5, 10))
    user = await make_user(db, clock)
    lead = await make_lead(db, clock, user, [0, 1])
    rid = lead.steps[0].reminder_id
    assert rid is not None
    async with dispatch_env(db, clock) as env:
        assert (await env.dispatcher.run_pass()).sent == 1
        clock.set(utc(2026, 3, 6, 9, 59))
        assert (await env.dispatcher.run_pass()).due == 0
        clock.set(utc(2026, 3, 6, 10))
        assert (await env.dispatcher.run_pass()).nudged == 1
        assert "Still pending" in env.fake.sent_messages()[-1].params["text"]
        clock.set(utc(2026, 3, 8, 10))  # Sunday: 48 h later but not a workday
        assert (await env.dispatcher.run_pass()).due == 0
        clock.set(utc(2026, 3, 9, 9))
        assert (await env.dispatcher.run_pass()).nudged == 1
        assert "Last nudge" in env.fake.sent_messages()[-1].params["text"]
        clock.set(utc(2026, 3, 10, 9))
        counts = await env.dispatcher.run_pass()
        assert (counts.auto_snoozed, counts.sent, counts.nudged) == (1, 0, 0)
        assert len(env.fake.sent_messages()) == 3  # the auto-snooze is silent
    row = (await reminder_rows(db))[rid]
    assert row["status"] == "auto_snoozed"
    assert row["due_at"] == utc(2026, 3, 17, 9)
    assert row["nudge_stage"] == 0
    assert row["reminder_count"] == 3
    assert (await activity_types(db)).count("step_auto_snoozed") == 1
    view = (await plans_service.get_plan(db, user, lead.id, clock.now())).lead
    assert view.steps[0].status == "snoozed"
    # A week later the ladder starts again from the first rung.
    clock.set(utc(2026, 3, 17, 9))
    async with dispatch_env(db, clock) as env:
        assert (await env.dispatcher.run_pass()).sent == 1


async def test_cap_then_one_digest(db: Database, clock: ManualClock) -> None:
    user = await make_user(db, clock)
    for k in range(7):
        await make_lead(db, clock, user, [0], name=f"Lead {k}")
    async with dispatch_env(db, clock, cap=3) as env:
        counts = await env.dispatcher.run_pass()
        messages = env.fake.sent_messages()
    assert (counts.due, counts.sent, counts.digested) == (7, 7, 4)
    assert len(messages) == 4
    digest = messages[-1].params["text"]
    assert "4 more steps waiting" in digest
    assert sum(f"Lead {k}" in digest for k in range(7)) == 4
    rows = await reminder_rows(db)
    assert all(r["status"] == "sent" and r["nudge_stage"] == 1 for r in rows.values())


async def test_each_delivery_is_logged_once_with_what_went_out(
    db: Database, clock: ManualClock
) -> None:
    user = await make_user(db, clock)
    for k in range(5):
        await make_lead(db, clock, user, [0], name=f"Lead {k}")
    async with dispatch_env(db, clock, cap=3) as env:
        await env.dispatcher.run_pass()
        message_ids = {m.params["text"]: m.result["message_id"] for m in env.fake.sent_messages()}
    rows = await reminder_rows(db)
    async with db.read() as conn:
        logged = (
            await conn.execute(
                select(lead_activity_log).where(
                    lead_activity_log.c.activity_type.in_(("step_reminder_sent", "step_nudged"))
                )
            )
        ).all()
    assert len(logged) == 5
    by_reminder = {entry.details["reminder_id"]: entry for entry in logged}
    assert set(by_reminder) == set(rows)
    singles = [e for e in logged if not e.details["via_digest"]]
    digested = [e for e in logged if e.details["via_digest"]]
    assert (len(singles), len(digested)) == (3, 2)
    for rid, entry in by_reminder.items():
        row = rows[rid]
        assert entry.activity_type == "step_reminder_sent"
        assert entry.details["rung"] == "first"
        assert (entry.lead_id, entry.telegram_id) == (row["lead_id"], row["telegram_id"])
        assert entry.step_id == row["step_id"]
        assert entry.created_at == row["last_reminded_at"]  # the record's own moment
        # A single reminder names its own message; a digest line has none of its own.
        expected = row["message_id"] if not entry.details["via_digest"] else None
        assert entry.details["message_id"] == expected
    assert {e.details["message_id"] for e in singles} <= set(message_ids.values())


async def test_backlog_after_a_pause_arrives_as_a_digest(db: Database, clock: ManualClock) -> None:
    user = await make_user(db, clock, reminders_paused=True)
    for k in range(10):
        await make_lead(db, clock, user, [0], name=f"Lead {k}")
    async with dispatch_env(db, clock, cap=3) as env:
        assert (await env.dispatcher.run_pass()).due == 0
        clock.advance(timedelta(days=2))
        await users_service.update_settings(
            db, user.telegram_id, {"reminders_paused": False}, clock.now()
        )
        counts = await env.dispatcher.run_pass()
        assert len(env.fake.sent_messages()) == 4
    assert (counts.due, counts.digested) == (10, 7)


async def test_who_gets_nothing(db: Database, clock: ManualClock) -> None:
    paused = await make_user(db, clock, 1, paused_until=clock.now() + timedelta(days=1))
    blocked = await make_user(db, clock, 2)
    with_paused_plan = await make_user(db, clock, 3)
    ok = await make_user(db, clock, 4)
    await make_lead(db, clock, paused, [0])
    await make_lead(db, clock, blocked, [0])
    lead3 = await make_lead(db, clock, with_paused_plan, [0])
    await make_lead(db, clock, ok, [0])
    await users_service.mark_unreachable(db, 2, clock.now())
    await steps_service.pause_plan(db, with_paused_plan, lead3.id, clock.now())
    async with dispatch_env(db, clock) as env:
        counts = await env.dispatcher.run_pass()
        assert [c.params["chat_id"] for c in env.fake.sent_messages()] == [4]
    assert counts.due == 1


async def test_a_step_waits_for_the_one_before(db: Database, clock: ManualClock) -> None:
    user = await make_user(db, clock)
    lead = await make_lead(db, clock, user, [0, 0, 1])
    async with dispatch_env(db, clock) as env:
        assert (await env.dispatcher.run_pass()).sent == 1  # only step 1
        first = lead.steps[0].reminder_id
        assert first is not None
        await steps_service.close_step(db, user, first, "complete", clock.now())
        counts = await env.dispatcher.run_pass()
        assert counts.sent == 1  # step 2 now, step 3 tomorrow
        assert "Step 2 of 3" in env.fake.sent_messages()[-1].params["text"]


async def test_blocked_user_is_marked_and_resumes_after_writing(
    db: Database, clock: ManualClock
) -> None:
    user = await make_user(db, clock)
    await make_lead(db, clock, user, [0])
    async with dispatch_env(db, clock) as env:
        env.fake.block_chat(1001)
        counts = await env.dispatcher.run_pass()
        assert (counts.blocked, counts.sent) == (1, 0)
        async with db.read() as conn:
            blocked_at = (await conn.execute(select(users.c.blocked_at))).scalar_one()
        assert blocked_at == clock.now()
        assert (await env.dispatcher.run_pass()).due == 0  # nothing more for them
        env.fake.unblock_chat(1001)
        assert await users_service.mark_reachable(db, 1001, clock.now())
        assert (await env.dispatcher.run_pass()).sent == 1


async def test_server_errors_are_retried_then_given_back(db: Database, clock: ManualClock) -> None:
    user = await make_user(db, clock)
    await make_lead(db, clock, user, [0])
    async with dispatch_env(db, clock) as env:
        env.fake.fail_next("sendMessage", status=502, times=2)
        counts = await env.dispatcher.run_pass()
        assert (counts.sent, counts.failed) == (1, 0)
        assert len(env.fake.calls_to("sendMessage")) == 3
    async with dispatch_env(db, clock) as env:
        clock.advance(timedelta(days=1))  # the gentle nudge is due
        env.fake.fail_next("sendMessage", status=502, times=4)  # every try of one send
        counts = await env.dispatcher.run_pass()
        assert (counts.nudged, counts.failed) == (0, 1)
        rows = await reminder_rows(db)
        assert all(r["claimed_by"] is None for r in rows.values())
        assert (await env.dispatcher.run_pass()).due == 0  # not hammered at once
        clock.advance(timedelta(seconds=31))
        counts = await env.dispatcher.run_pass()
        assert counts.nudged == 1


async def test_a_step_closed_while_its_message_was_sent_keeps_its_state(
    db: Database, clock: ManualClock
) -> None:
    user = await make_user(db, clock)
    lead = await make_lead(db, clock, user, [0])
    rid = lead.steps[0].reminder_id
    assert rid is not None
    async with dispatch_env(db, clock) as env:
        original = env.sender.send

        async def send_then_press(message, may_send=None):  # type: ignore[no-untyped-def]
            result = await original(message, may_send)
            await steps_service.close_step(db, user, rid, "complete", clock.now())
            return result

        env.sender.send = send_then_press  # type: ignore[method-assign]
        await env.dispatcher.run_pass()
    row = (await reminder_rows(db))[rid]
    assert row["status"] == "completed"
    assert "step_reminder_sent" not in await activity_types(db)
