from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.auth import CurrentUser
from app.container import Container, get_container
from app.domain.users import User
from app.routers.errors import http_error, unprocessable
from app.routers.responses import BODY_ERRORS, errors, model_response
from app.services import users as users_service
from app.services.errors import ServiceError

router = APIRouter(tags=["me"], responses=errors(401))


class MeOut(BaseModel):
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    timezone: str
    timezone_set: bool
    work_start: str
    work_end: str
    workdays: list[int]
    reminders_paused: bool
    paused_until: datetime | None
    blocked: bool

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls(
            telegram_id=user.telegram_id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            timezone=user.timezone,
            timezone_set=user.timezone_set_at is not None,
            work_start=user.work_start,
            work_end=user.work_end,
            workdays=list(user.workdays),
            reminders_paused=user.reminders_paused,
            paused_until=user.paused_until,
            blocked=user.blocked_at is not None,
        )


class MePatch(BaseModel):
    """Only the fields sent are changed; `paused_until: null` lifts a timed pause."""

    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])
    work_start: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$", examples=["09:00"])
    work_end: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$", examples=["18:00"])
    workdays: list[StrictInt] | None = Field(default=None, min_length=1, max_length=7)
    reminders_paused: bool | None = None
    paused_until: datetime | None = None


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
    for name in ("timezone", "work_start", "work_end", "workdays", "reminders_paused"):
        if name in changes and changes[name] is None:
            raise unprocessable((name,), "cannot be null; leave the field out to keep it")
    try:
        updated = await users_service.update_settings(
            container.db, user.telegram_id, changes, container.clock.now(), container.user_cache
        )
    except ServiceError as exc:
        raise http_error(exc) from None
    return MeOut.of(updated)
