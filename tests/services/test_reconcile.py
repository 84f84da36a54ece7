"""Reconcile repairs rows edited from outside the service, with deliberately corrupted data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, update

from app.clock import ManualClock
from app.db.database import Database
from app.db.signals import wake_signal
from app.db.tables import lead_activity_log, lead_registry, scheduled_reminders
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile, User
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services import users as users_service
from app.services.reconcile import Repair, reconcile


async def make_user(db: Database, clock: ManualClock) -> User:
    return await users_service.sign_in(
        db, TelegramProfile(telegram_id=1, first_name="A"), clock.now()
    )


async def make_lead(db: Database, clock: ManualClock, steps: int = 3) -> int:
    user = await make_user(db, clock)
    specs = [
        StepSpec(step_id=i, description=f"step {i}", delay_days=i) for i in range(1, steps + 1)
    ]
    lead = await plans_service.create_lead(db, user, {"name": "L"}, specs, clock.now())
    return lead.id


async def plan_of(db: Database, lead_id: int) -> list[dict[str, Any]]:
    async with db.read() as conn:
        plan: list[dict[str, Any]] = (
            await conn.execute(
                select(lead_registry.c.engagement_plan).where(lead_registry.c.id == lead_id)
            )
        ).scalar_one()
    return plan


async def set_plan(db: Database, lead_id: int, plan: list[dict[str, Any]]) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            update(lead_registry).where(lead_registry.c.id == lead_id).values(engagement_plan=plan)
        )


async def statuses(db: Database, lead_id: int) -> dict[int, str]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(scheduled_reminders.c.step_id, scheduled_reminders.c.status).where(
                scheduled_reminders.c.lead_id == lead_id
            )
        )
        return {r.step_id: r.status for r in rows}


async def test_consistent_data_needs_no_repair(db: Database, clock: ManualClock) -> None:
    await make_lead(db, clock)
    report = await reconcile(db, clock.now())
    assert report.leads_checked == 1
    assert report.repairs == []


async def test_json_marked_done_closes_the_open_reminder(db: Database, clock: ManualClock) -> None:
    lead_id = await make_lead(db, clock)
    plan = await plan_of(db, lead_id)
    plan[0]["status"] = "done"
    plan[0]["completed_at"] = "2026-03-02T11:00:00+00:00"
    await set_plan(db, lead_id, plan)
    report = await reconcile(db, clock.now())
    assert [(r.step_id, "closed" in r.what) for r in report.repairs] == [(1, True)]
    assert (await statuses(db, lead_id))[1] == "completed"
    async with db.read() as conn:
        kinds = (
            (
                await conn.execute(
                    select(lead_activity_log.c.activity_type).where(
                        lead_activity_log.c.lead_id == lead_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "plan_reconciled" in kinds
    # A second pass finds nothing left to do.
    assert (await reconcile(db, clock.now())).repairs == []


async def test_closed_reminder_updates_a_pending_json_step(
    db: Database, clock: ManualClock
) -> None:
    lead_id = await make_lead(db, clock)
    async with db.transaction() as conn:
        await conn.execute(
            update(scheduled_reminders)
            .where(scheduled_reminders.c.lead_id == lead_id, scheduled_reminders.c.step_id == 2)
            .values(status="skipped", completed_at=clock.now())
        )
    await reconcile(db, clock.now())
    plan = await plan_of(db, lead_id)
    assert plan[1]["status"] == "skipped"
    assert plan[1]["completed_at"] is not None


async def test_step_added_to_json_gets_a_reminder(db: Database, clock: ManualClock) -> None:
    lead_id = await make_lead(db, clock)
    plan = await plan_of(db, lead_id)
    plan.append({"step_id": 9, "description": "new", "timing": "Day 10", "status": "pending"})
    await set_plan(db, lead_id, plan)
    await reconcile(db, clock.now())
    assert (await statuses(db, lead_id))[9] == "pending"


async def test_step_removed_from_json_cancels_its_reminder(
    db: Database, clock: ManualClock
) -> None:
    lead_id = await make_lead(db, clock)
    plan = await plan_of(db, lead_id)
    await set_plan(db, lead_id, plan[:2])
    await reconcile(db, clock.now())
    assert (await statuses(db, lead_id))[3] == "cancelled"


async def test_all_steps_closed_from_outside_completes_the_plan(
    db: Database, clock: ManualClock
) -> None:
    lead_id = await make_lead(db, clock, steps=2)
    plan = await plan_of(db, lead_id)
    for step in plan:
        step["status"] = "skipped"
    await set_plan(db, lead_id, plan)
    await reconcile(db, clock.now())
    async with db.read() as conn:
        status = (
            await conn.execute(
                select(lead_registry.c.plan_status).where(lead_registry.c.id == lead_id)
            )
        ).scalar_one()
    assert status == "completed"


@pytest.mark.parametrize("junk", [None, "text", {"step_id": "x"}, {"no": "id"}])
async def test_junk_in_the_json_is_ignored_not_fatal(
    db: Database, clock: ManualClock, junk: Any
) -> None:
    lead_id = await make_lead(db, clock, steps=1)
    plan: list[Any] = await plan_of(db, lead_id)
    plan.append(junk)
    await set_plan(db, lead_id, plan)
    report = await reconcile(db, clock.now())
    assert report.leads_checked == 1
    assert (await statuses(db, lead_id))[1] == "pending"


async def test_junk_between_steps_and_a_step_without_status_agree(
    db: Database, clock: ManualClock
) -> None:
    # Not a step, so not a position: the steps after it keep theirs. No status means pending.
    lead_id = await make_lead(db, clock)
    plan: list[Any] = await plan_of(db, lead_id)
    del plan[1]["status"]
    junky: list[Any] = [plan[0], "a note", [1, 2], plan[1], None, plan[2]]
    await set_plan(db, lead_id, junky)
    assert (await reconcile(db, clock.now())).repairs == []
    plan[1]["status"] = "done"
    await set_plan(db, lead_id, junky)
    report = await reconcile(db, clock.now())
    assert [(r.step_id, "closed" in r.what) for r in report.repairs] == [(2, True)]


async def set_reminder(db: Database, lead_id: int, step_id: int, **values: Any) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            update(scheduled_reminders)
            .where(
                scheduled_reminders.c.lead_id == lead_id, scheduled_reminders.c.step_id == step_id
            )
            .values(**values)
        )


# Each rule of the repair, seen by the unlocked comparison that decides which leads to repair
# (a rule it missed would leave that drift in place: these would fail).


async def test_steps_reordered_in_the_json_move_their_reminders(
    db: Database, clock: ManualClock
) -> None:
    lead_id = await make_lead(db, clock)
    plan = await plan_of(db, lead_id)
    await set_plan(db, lead_id, [plan[0], plan[2], plan[1]])
    report = await reconcile(db, clock.now())
    assert sorted(r.step_id or 0 for r in report.repairs) == [2, 3]
    async with db.read() as conn:
        rows = await conn.execute(
            select(scheduled_reminders.c.step_id, scheduled_reminders.c.position).where(
                scheduled_reminders.c.lead_id == lead_id
            )
        )
        assert {r.step_id: r.position for r in rows} == {1: 0, 2: 2, 3: 1}


async def test_both_closed_differently_follows_the_json(db: Database, clock: ManualClock) -> None:
    lead_id = await make_lead(db, clock)
    await set_reminder(db, lead_id, 1, status="completed", completed_at=clock.now())
    plan = await plan_of(db, lead_id)
    plan[0]["status"] = "skipped"
    await set_plan(db, lead_id, plan)
    await reconcile(db, clock.now())
    assert (await statuses(db, lead_id))[1] == "skipped"


async def test_a_cancelled_reminder_of_a_step_still_in_the_plan_reopens(
    db: Database, clock: ManualClock
) -> None:
    lead_id = await make_lead(db, clock)
    await set_reminder(db, lead_id, 2, status="cancelled")
    report = await reconcile(db, clock.now())
    assert [r.step_id for r in report.repairs] == [2]
    assert (await statuses(db, lead_id))[2] == "pending"


async def test_drift_is_found_on_every_page_of_the_scan(db: Database, clock: ManualClock) -> None:
    user = await make_user(db, clock)
    specs = [StepSpec(step_id=1, description="one", delay_days=1)]
    ids = [
        (await plans_service.create_lead(db, user, {"name": f"L{i}"}, specs, clock.now())).id
        for i in range(5)
    ]
    for lead_id in (ids[0], ids[3], ids[4]):
        await set_reminder(db, lead_id, 1, status="skipped", completed_at=clock.now())
    report = await reconcile(db, clock.now(), batch=2)
    assert report.leads_checked == 5
    assert sorted(r.lead_id for r in report.repairs) == [ids[0], ids[3], ids[4]]
    assert (await reconcile(db, clock.now(), batch=2)).repairs == []


async def test_a_repair_that_changes_reminders_wakes_the_dispatcher(
    db: Database, clock: ManualClock
) -> None:
    fired: list[int] = []

    def listener() -> None:
        fired.append(1)

    lead_id = await make_lead(db, clock)
    wake_signal.subscribe(listener)
    try:
        await reconcile(db, clock.now())
        assert fired == []  # nothing drifted, nothing to wake for
        async with db.transaction() as conn:
            await conn.execute(
                delete(scheduled_reminders).where(
                    scheduled_reminders.c.lead_id == lead_id, scheduled_reminders.c.step_id == 3
                )
            )
        await reconcile(db, clock.now())
        assert (await statuses(db, lead_id))[3] == "pending"
        assert fired == [1]
    finally:
        wake_signal.unsubscribe(listener)


async def test_a_press_on_a_plan_edited_from_outside_keeps_what_it_does_not_change(
    db: Database, clock: ManualClock
) -> None:
    # Objects that are not steps keep their place; entries that are not objects, which no
    # reader could use, go; a step's unknown keys and odd values stay as written.
    lead_id = await make_lead(db, clock)
    plan: list[Any] = await plan_of(db, lead_id)
    plan[1]["crm_ref"] = {"id": "X-1"}
    plan[2]["delay_days"] = "three"
    edited: list[Any] = [plan[0], "a note", {"no": "id"}, plan[1], plan[2]]
    await set_plan(db, lead_id, edited)
    assert (await reconcile(db, clock.now())).repairs == [
        # The object without an id counts as a position, as it always did.
        Repair(lead_id, 2, "position 1 → 2"),
        Repair(lead_id, 3, "position 2 → 3"),
    ]
    user = await make_user(db, clock)
    async with db.read() as conn:
        reminder_id = (
            await conn.execute(
                select(scheduled_reminders.c.id).where(
                    scheduled_reminders.c.lead_id == lead_id, scheduled_reminders.c.step_id == 1
                )
            )
        ).scalar_one()
    change = await steps_service.close_step(db, user, reminder_id, "complete", clock.now())
    assert change.changed
    done = {**plan[0], "status": "done", "completed_at": clock.now().isoformat()}
    assert await plan_of(db, lead_id) == [done, {"no": "id"}, plan[1], plan[2]]
    view = (await plans_service.get_plan(db, user, lead_id, clock.now())).lead
    assert [(s.step_id, s.position, s.delay_days, s.state) for s in view.steps] == [
        (1, 0, 1, "completed"),
        (2, 2, 2, "pending"),
        (3, 3, 0, "pending"),
    ]
    assert (await reconcile(db, clock.now())).repairs == []
