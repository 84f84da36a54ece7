"""Reconcile repairs rows edited from outside the service, with deliberately corrupted data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_activity_log, lead_registry, scheduled_reminders
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile, User
from app.services import plans as plans_service
from app.services import users as users_service
from app.services.reconcile import reconcile


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
