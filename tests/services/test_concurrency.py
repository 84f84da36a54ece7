"""Two transitions of one step at the same moment apply exactly once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import URL

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_activity_log, scheduled_reminders
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile, User
from app.domain.views import LeadRead
from app.repositories import activity as activity_repo
from app.repositories import leads as leads_repo
from app.repositories.activity import NewActivity
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services import users as users_service
from app.services.errors import Conflict


async def count_activity(db: Database, kind: str) -> int:
    async with db.read() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count())
                    .select_from(lead_activity_log)
                    .where(lead_activity_log.c.activity_type == kind)
                )
            ).scalar_one()
        )


async def _one_step_lead(db: Database, clock: ManualClock) -> tuple[User, LeadRead, int]:
    """A signed-in user with one lead whose plan is a single step due now."""
    user = await users_service.sign_in(
        db, TelegramProfile(telegram_id=1, first_name="A"), clock.now()
    )
    lead = await plans_service.create_lead(
        db, user, {"name": "L"}, [StepSpec(step_id=1, description="a", delay_days=0)], clock.now()
    )
    reminder_id = lead.steps[0].reminder_id
    assert reminder_id is not None
    return user, lead, reminder_id


@pytest.fixture
async def second_db(db: Database, db_url: URL) -> Database:
    # A separate engine is a separate pool: the racing transitions really use two connections.
    return Database.from_url(db_url)


async def test_simultaneous_presses_apply_once(
    db: Database, second_db: Database, clock: ManualClock
) -> None:
    user = await users_service.sign_in(
        db, TelegramProfile(telegram_id=1, first_name="A"), clock.now()
    )
    specs = [
        StepSpec(step_id=1, description="a", delay_days=0),
        StepSpec(step_id=2, description="b", delay_days=2),
    ]
    lead = await plans_service.create_lead(db, user, {"name": "L"}, specs, clock.now())
    reminder_id = lead.steps[0].reminder_id
    assert reminder_id is not None
    try:
        results = await asyncio.gather(
            *(
                steps_service.close_step(d, user, reminder_id, "complete", clock.now())
                for d in [db, second_db] * 5
            )
        )
    finally:
        await second_db.dispose()
    assert sum(r.changed for r in results) == 1
    assert await count_activity(db, "step_completed") == 1


async def test_done_and_skip_racing_leave_one_outcome(
    db: Database, second_db: Database, clock: ManualClock
) -> None:
    user, _lead, reminder_id = await _one_step_lead(db, clock)
    try:
        results = await asyncio.gather(
            steps_service.close_step(db, user, reminder_id, "complete", clock.now()),
            steps_service.close_step(second_db, user, reminder_id, "skip", clock.now()),
            return_exceptions=True,
        )
    finally:
        await second_db.dispose()
    outcomes = sorted(type(r).__name__ for r in results)
    assert outcomes == ["Conflict", "StepChange"]
    assert any(isinstance(r, Conflict) for r in results)
    closed = await count_activity(db, "step_completed") + await count_activity(db, "step_skipped")
    assert closed == 1
    async with db.read() as conn:
        status = (await conn.execute(select(scheduled_reminders.c.status))).scalar_one()
    winner = next(r for r in results if not isinstance(r, BaseException))
    assert status == winner.reminder.status


async def test_transitions_on_different_steps_of_one_lead_lose_nothing(
    db: Database, second_db: Database, clock: ManualClock
) -> None:
    """Both update the same engagement_plan JSON; the lead lock keeps both changes."""
    user = await users_service.sign_in(
        db, TelegramProfile(telegram_id=1, first_name="A"), clock.now()
    )
    specs = [StepSpec(step_id=i, description=str(i), delay_days=i) for i in range(1, 7)]
    lead = await plans_service.create_lead(db, user, {"name": "L"}, specs, clock.now())
    ids = [s.reminder_id for s in lead.steps]
    try:
        await asyncio.gather(
            *(
                steps_service.close_step(db if i % 2 else second_db, user, rid, "skip", clock.now())
                for i, rid in enumerate(ids)
                if rid is not None
            )
        )
    finally:
        await second_db.dispose()
    view = (await plans_service.get_plan(db, user, lead.id, clock.now())).lead
    assert [s.status for s in view.steps] == ["skipped"] * 6
    assert view.plan_status == "completed"
    assert await count_activity(db, "plan_completed") == 1


@pytest.mark.parametrize("lock", ["lock_by_reminder", "get_for_update"])
async def test_a_record_and_a_press_on_one_lead_do_not_deadlock(
    db: Database, clock: ManualClock, lock: str
) -> None:
    """Seen in the soak test on PostgreSQL: the dispatcher's record updates a reminder row,
    then inserts its activity (whose foreign key takes KEY SHARE on the lead row); a press
    locks the lead row, then updates the same reminder. With the lead locked FOR UPDATE that
    is a cycle, and PostgreSQL aborts one side after deadlock_timeout. FOR NO KEY UPDATE,
    which still serialises every step change of a lead, does not conflict with KEY SHARE."""
    if not db.is_postgres:
        pytest.skip("row locks: SQLite has one writer at a time")
    user, lead, reminder_id = await _one_step_lead(db, clock)
    touch = (
        update(scheduled_reminders)
        .where(scheduled_reminders.c.id == reminder_id)
        .values(reminder_count=scheduled_reminders.c.reminder_count)
    )
    async with db.engine.connect() as record, db.engine.connect() as press:
        await record.begin()
        await press.begin()
        await record.execute(touch)
        if lock == "lock_by_reminder":
            locked = await leads_repo.lock_by_reminder(press, reminder_id, user.telegram_id)
        else:
            locked = await leads_repo.get_for_update(press, lead.id, user.telegram_id)
        assert locked is not None
        pressing = asyncio.create_task(press.execute(touch))
        await asyncio.sleep(0.2)
        assert not pressing.done()  # waits for the record's row lock, as it should
        entry = NewActivity(
            lead_id=lead.id,
            telegram_id=user.telegram_id,
            activity_type="step_reminder_sent",
            created_at=clock.now(),
            step_id=1,
        )
        await asyncio.wait_for(activity_repo.add(record, [entry]), timeout=5)
        await record.commit()
        await asyncio.wait_for(pressing, timeout=5)
        await press.commit()
