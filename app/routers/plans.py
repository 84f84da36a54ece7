from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.auth import CurrentUser
from app.container import Container, get_container
from app.domain.views import LeadDetail, PlansPage
from app.routers.ids import LeadId
from app.routers.responses import BODY_ERRORS, DATABASE_ERRORS, errors, model_response
from app.schemas import ActivityOut, FinishIn, FinishOut, LeadDetailOut, LeadOut, PlanIn, PlansOut
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services.plans import PlanFilter, PlanSort, specs_of

router = APIRouter(tags=["plans"], responses=errors(401, *DATABASE_ERRORS))
Deps = Annotated[Container, Depends(get_container)]


@router.get("/plans", response_model=PlansOut)
async def list_plans(
    user: CurrentUser,
    container: Deps,
    filter: Annotated[PlanFilter | None, Query()] = None,
    sort: Annotated[PlanSort, Query()] = "next_due",
) -> Response:
    body = await plans_service.plans_document(
        container.db,
        user,
        container.clock.now(),
        container.plans_cache,
        _plans_json,
        filter_by=filter,
        sort=sort,
    )
    return Response(body, media_type="application/json")


def _plans_json(page: PlansPage) -> bytes:
    return PlansOut.model_validate(page).model_dump_json().encode()


def _detail_out(detail: LeadDetail) -> LeadDetailOut:
    lead = LeadOut.model_validate(detail.lead)
    return LeadDetailOut(
        **dict(lead), activity=[ActivityOut.model_validate(a) for a in detail.activity]
    )


@router.get("/plans/{lead_id}", response_model=LeadDetailOut, responses=errors(404))
async def get_plan(lead_id: LeadId, user: CurrentUser, container: Deps) -> Response:
    detail = await plans_service.get_plan(container.db, user, lead_id, container.clock.now())
    return model_response(_detail_out(detail))


@router.put("/plans/{lead_id}/steps", responses=errors(404, *BODY_ERRORS))
async def replace_steps(
    lead_id: LeadId, body: PlanIn, user: CurrentUser, container: Deps
) -> LeadOut:
    specs, history = specs_of(body.steps)
    now = container.clock.now()
    lead, reminders = await steps_service.replace_steps(
        container.db, user, lead_id, specs, now, history
    )
    return LeadOut.model_validate(plans_service.lead_view(lead, reminders, user, now))


@router.post("/plans/{lead_id}/pause", responses=errors(404, 409))
async def pause_plan(lead_id: LeadId, user: CurrentUser, container: Deps) -> LeadOut:
    now = container.clock.now()
    await steps_service.pause_plan(container.db, user, lead_id, now)
    return LeadOut.model_validate(
        (await plans_service.get_plan(container.db, user, lead_id, now)).lead
    )


@router.post("/plans/{lead_id}/resume", responses=errors(404, 409))
async def resume_plan(lead_id: LeadId, user: CurrentUser, container: Deps) -> LeadOut:
    now = container.clock.now()
    await steps_service.resume_plan(container.db, user, lead_id, now)
    return LeadOut.model_validate(
        (await plans_service.get_plan(container.db, user, lead_id, now)).lead
    )


@router.post(
    "/plans/{lead_id}/finish", response_model=FinishOut, responses=errors(404, 409, *BODY_ERRORS)
)
async def finish_plan(
    lead_id: LeadId, body: FinishIn, user: CurrentUser, container: Deps
) -> Response:
    """End the plan with what really happened: open steps cancelled, the plan completed
    with its outcome, the lead's status following (replied: in_progress; meeting_booked;
    not_interested and closed_lost: closed_lost; closed_won). The same outcome again is
    `changed: false`; another outcome on a finished plan is 409."""
    now = container.clock.now()
    change = await steps_service.finish_plan(
        container.db, user, body.outcome, body.reason, now, lead_id=lead_id
    )
    lead = LeadOut.model_validate(plans_service.lead_view(change.lead, change.reminders, user, now))
    return model_response(FinishOut(changed=change.changed, lead=lead))
