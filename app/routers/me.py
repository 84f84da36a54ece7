from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.auth import CurrentUser
from app.container import Container, get_container
from app.routers.responses import BODY_ERRORS, DATABASE_ERRORS, errors, model_response
from app.schemas import MeOut, MePatch
from app.services import users as users_service

router = APIRouter(tags=["me"], responses=errors(401, *DATABASE_ERRORS))


@router.get("/me", response_model=MeOut)
async def get_me(user: CurrentUser) -> Response:
    return model_response(MeOut.of(user))


@router.patch("/me", responses=errors(*BODY_ERRORS))
async def patch_me(
    patch: MePatch,
    user: CurrentUser,
    container: Annotated[Container, Depends(get_container)],
) -> MeOut:
    changes = patch.model_dump(exclude_unset=True)
    updated = await users_service.update_settings(
        container.db, user.telegram_id, changes, container.clock.now(), container.user_cache
    )
    return MeOut.of(updated)
