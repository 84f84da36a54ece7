from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.auth import CurrentUser
from app.container import Container, get_container
from app.domain.plans import StepSpec
from app.routers.errors import http_error, unprocessable
from app.routers.ids import LeadId
from app.schemas import LeadIn, LeadOut, StepIn
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services.errors import Invalid, ServiceError
from app.services.steps import HistoryIn

router = APIRouter(tags=["leads"])


def specs_of(steps: list[StepIn]) -> tuple[list[StepSpec], dict[int, HistoryIn]]:
    specs = [
        StepSpec(
            step_id=s.step_id,
            description=s.description,
            timing=s.timing,
            delay_days=s.delay_days,
            channel=s.channel,
            suggested_text=s.suggested_text,
        )
        for s in steps
    ]
    history = {
        s.step_id: HistoryIn(status=s.status, completed_at=s.completed_at)
        for s in steps
        if s.status != "pending"
    }
    return specs, history


@router.post("/leads", status_code=201)
async def create_lead(
    body: LeadIn,
    user: CurrentUser,
    container: Annotated[Container, Depends(get_container)],
) -> LeadOut:
    if body.generate_plan and body.plan is not None:
        raise unprocessable(("generate_plan",), "send either plan or generate_plan, not both")
    if body.generate_plan:
        raise unprocessable(("generate_plan",), "plan generation is not available yet")
    specs, history = specs_of(body.plan.steps) if body.plan else (None, None)
    fields = body.model_dump(include={"name", "company", "title", "channel", "context"})
    try:
        return await plans_service.create_lead(
            container.db, user, fields, specs, container.clock.now(), history
        )
    except Invalid as exc:
        raise unprocessable(("plan", *exc.loc), exc.message) from None
    except ServiceError as exc:
        raise http_error(exc) from None


@router.delete("/leads/{lead_id}", status_code=204)
async def delete_lead(
    lead_id: LeadId,
    user: CurrentUser,
    container: Annotated[Container, Depends(get_container)],
) -> Response:
    try:
        await steps_service.delete_lead(container.db, user, lead_id)
    except ServiceError as exc:
        raise http_error(exc) from None
    return Response(status_code=204)
