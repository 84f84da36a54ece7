from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.auth import CurrentUser
from app.container import Container, get_container
from app.domain.users import User
from app.routers.ids import ReminderId
from app.routers.responses import BODY_ERRORS, DATABASE_ERRORS, errors, model_response
from app.schemas import DraftOut, SnoozeIn, StepChangeOut, StepOut
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services.steps import StepChange

router = APIRouter(tags=["reminders"], responses=errors(401, 404, *DATABASE_ERRORS))
Deps = Annotated[Container, Depends(get_container)]


def _out(change: StepChange, user: User, now: datetime) -> StepChangeOut:
    view = plans_service.lead_view(change.lead, change.reminders, user, now)
    step = view.step_for(change.reminder.id)
    assert step is not None, "a changed step is among its lead's steps"
    return StepChangeOut(
        changed=change.changed,
        plan_completed=change.plan_completed,
        lead_id=change.lead.id,
        step=StepOut.model_validate(step),
        moved_steps=change.moved,
        undo_until=change.undo_until,
    )


@router.post(
    "/reminders/{reminder_id}/complete", response_model=StepChangeOut, responses=errors(409)
)
async def complete(reminder_id: ReminderId, user: CurrentUser, container: Deps) -> Response:
    now = container.clock.now()
    change = await steps_service.close_step(container.db, user, reminder_id, "complete", now)
    return model_response(_out(change, user, now))


@router.post("/reminders/{reminder_id}/skip", response_model=StepChangeOut, responses=errors(409))
async def skip(reminder_id: ReminderId, user: CurrentUser, container: Deps) -> Response:
    now = container.clock.now()
    change = await steps_service.close_step(container.db, user, reminder_id, "skip", now)
    return model_response(_out(change, user, now))


@router.post(
    "/reminders/{reminder_id}/snooze",
    response_model=StepChangeOut,
    responses=errors(409, *BODY_ERRORS),
)
async def snooze(
    reminder_id: ReminderId, body: SnoozeIn, user: CurrentUser, container: Deps
) -> Response:
    now = container.clock.now()
    change = await steps_service.snooze(container.db, user, reminder_id, body.days, now)
    return model_response(_out(change, user, now))


@router.post("/reminders/{reminder_id}/undo", response_model=StepChangeOut, responses=errors(409))
async def undo(reminder_id: ReminderId, user: CurrentUser, container: Deps) -> Response:
    """Take back the last action taken on the step (done, skip, snooze, or a plan finished
    from it) within the last 10 minutes, if nothing has changed the step since: it returns
    to exactly the state it had. 409 says why when there is nothing to undo."""
    now = container.clock.now()
    change = await steps_service.undo(container.db, user, reminder_id, now)
    return model_response(_out(change, user, now))


@router.get("/reminders/{reminder_id}/draft")
async def draft(reminder_id: ReminderId, user: CurrentUser, container: Deps) -> DraftOut:
    """The step's draft, regenerated first when the lead has news since it was written."""
    view = await container.drafts.for_user(user, reminder_id)
    return DraftOut(text=view.text, generated_at=view.generated_at, source=view.source)
