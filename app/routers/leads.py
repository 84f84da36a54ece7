from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.auth import CurrentUser
from app.container import Container, get_container
from app.routers.errors import unprocessable
from app.routers.ids import LeadId
from app.routers.responses import BODY_ERRORS, DATABASE_ERRORS, errors
from app.schemas import ActivityOut, LeadCreatedOut, LeadIn, LeadOut, LeadPatch, NoteIn
from app.services import notes as notes_service
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services.errors import Invalid
from app.services.plans import specs_of

router = APIRouter(tags=["leads"], responses=errors(401, *DATABASE_ERRORS))


# plan_source appears only on generated plans: a posted plan's answer stays the lead itself.
@router.post(
    "/leads", status_code=201, response_model_exclude_unset=True, responses=errors(*BODY_ERRORS)
)
async def create_lead(
    body: LeadIn,
    user: CurrentUser,
    container: Annotated[Container, Depends(get_container)],
) -> LeadCreatedOut:
    if body.generate_plan and body.plan is not None:
        raise unprocessable(("generate_plan",), "send either plan or generate_plan, not both")
    fields = body.model_dump(include={"name", "company", "title", "channel", "context"})
    try:
        if body.generate_plan:
            # Written by the model within LLM_TIMEOUT, else by the offline writer at once.
            lead, source = await plans_service.create_generated_lead(
                container.db, container.writer, user, fields, container.clock.now()
            )
            created = LeadCreatedOut.model_validate(lead)
            return created.model_copy(update={"plan_source": source})
        specs, history = specs_of(body.plan.steps) if body.plan else (None, None)
        lead = await plans_service.create_lead(
            container.db, user, fields, specs, container.clock.now(), history
        )
        return LeadCreatedOut.model_validate(lead)
    except Invalid as exc:
        # The plan's rules name fields of the plan; here it sits under "plan" in the body.
        raise unprocessable(("plan", *exc.loc), exc.message) from None


@router.patch("/leads/{lead_id}", responses=errors(404, *BODY_ERRORS))
async def update_lead(
    lead_id: LeadId,
    body: LeadPatch,
    user: CurrentUser,
    container: Annotated[Container, Depends(get_container)],
) -> LeadOut:
    """Edit the lead. A closing status (meeting_booked, closed_won, closed_lost) finishes an
    active plan as POST /plans/{id}/finish would; an edited fact is news for its drafts."""
    sent = body.model_dump(exclude_unset=True)
    status, reason = sent.pop("status", None), sent.pop("reason", None)
    now = container.clock.now()
    try:
        change = await steps_service.update_lead(
            container.db, user, lead_id, sent, status, reason, now
        )
    except Invalid as exc:
        raise unprocessable(exc.loc, exc.message) from None
    return LeadOut.model_validate(plans_service.lead_view(change.lead, change.reminders, user, now))


@router.delete("/leads/{lead_id}", status_code=204, responses=errors(404))
async def delete_lead(
    lead_id: LeadId,
    user: CurrentUser,
    container: Annotated[Container, Depends(get_container)],
) -> Response:
    await steps_service.delete_lead(container.db, user, lead_id)
    return Response(status_code=204)


@router.post("/leads/{lead_id}/notes", status_code=201, responses=errors(404, *BODY_ERRORS))
async def add_note(
    lead_id: LeadId,
    body: NoteIn,
    user: CurrentUser,
    container: Annotated[Container, Depends(get_container)],
) -> ActivityOut:
    """A note on the lead: context the next draft takes into account."""
    entry = await notes_service.add_note(
        container.db, user, lead_id, body.text, container.clock.now()
    )
    return ActivityOut.model_validate(entry)
