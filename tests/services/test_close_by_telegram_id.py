"""close_step given only the presser's Telegram id (a button press): the owner is read with
the lead's lock, and the step changes exactly as it does for the User in hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.clock import ManualClock
from app.db.database import Database
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile, User
from app.domain.views import LeadRead
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services import users as users_service
from app.services.errors import NotFound

SPECS = [
    StepSpec(step_id=1, description="connect", delay_days=0),
    StepSpec(step_id=2, description="follow up", delay_days=3),
    StepSpec(step_id=3, description="call", delay_days=7),
]


async def _owner(db: Database, clock: ManualClock) -> User:
    await users_service.sign_in(db, TelegramProfile(telegram_id=71, first_name="O"), clock.now())
    # Not UTC and not the default hours: moving later steps must use the owner's own.
    return await users_service.update_settings(
        db,
        71,
        {"timezone": "Asia/Tokyo", "work_start": "10:00", "work_end": "16:00"},
        clock.now(),
    )


async def _lead(db: Database, owner: User, clock: ManualClock, name: str) -> LeadRead:
    return await plans_service.create_lead(db, owner, {"name": name}, SPECS, clock.now())


def _first(lead: LeadRead) -> int:
    reminder_id = lead.steps[0].reminder_id
    assert reminder_id is not None
    return reminder_id


async def test_by_id_the_step_moves_as_it_does_with_the_user_in_hand(
    db: Database, clock: ManualClock
) -> None:
    owner = await _owner(db, clock)
    with_user, by_id = await _lead(db, owner, clock, "A"), await _lead(db, owner, clock, "B")
    clock.advance(timedelta(days=2, hours=5))  # late: the later steps move

    a = await steps_service.close_step(db, owner, _first(with_user), "complete", clock.now())
    b = await steps_service.close_step(db, 71, _first(by_id), "complete", clock.now())

    assert a.changed
    assert b.changed
    assert a.moved
    assert len(b.moved) == len(a.moved)
    assert [(r.status, r.due_at) for r in b.reminders] == [
        (r.status, r.due_at) for r in a.reminders
    ]


@pytest.mark.parametrize("presser", [72, 999_999], ids=["another user", "unknown user"])
async def test_by_id_someone_elses_step_is_not_found_and_unchanged(
    db: Database, clock: ManualClock, presser: int
) -> None:
    owner = await _owner(db, clock)
    await users_service.sign_in(db, TelegramProfile(telegram_id=72, first_name="X"), clock.now())
    lead = await _lead(db, owner, clock, "A")

    with pytest.raises(NotFound):
        await steps_service.close_step(db, presser, _first(lead), "skip", clock.now())

    after = await steps_service.close_step(db, owner, _first(lead), "complete", clock.now())
    assert after.changed  # it was still open
