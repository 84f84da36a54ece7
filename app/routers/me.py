from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, field_validator

from app.auth import CurrentUser
from app.container import Container, get_container
from app.domain.users import User, iana_zones
from app.routers.responses import BODY_ERRORS, DATABASE_ERRORS, errors, model_response
from app.schemas import INTEGRAL, ApiDatetime
from app.services import users as users_service

router = APIRouter(tags=["me"], responses=errors(401, *DATABASE_ERRORS))


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


# The document states what JSON Schema can: a real clock time, a real weekday, a zone name
# from the list the server accepts. Rules across fields (hours end after they start) and
# against the clock (a pause ends in the future) are in the descriptions.
HHMM = Annotated[str, Field(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Annotated[int, Strict(), Field(ge=1, le=7), INTEGRAL]


def _zone_names(schema: dict[str, Any]) -> None:
    _no_null_default(schema)
    schema["enum"] = sorted(iana_zones())


def _no_null_default(schema: dict[str, Any]) -> None:
    # Left out means "keep"; a documented default of null would contradict the type.
    schema.pop("default", None)


def _optional(**kwargs: Any) -> Any:
    kwargs.setdefault("json_schema_extra", _no_null_default)
    return Field(default=None, **kwargs)


class MePatch(BaseModel):
    """Only the fields sent are changed; `paused_until: null` lifts a timed pause.

    The other settings have no "unset" value: they may be left out, never sent as null."""

    model_config = ConfigDict(extra="forbid")

    timezone: Annotated[str, Field(max_length=64)] = _optional(
        examples=["Europe/Berlin"],
        description="An IANA time zone name",
        json_schema_extra=_zone_names,
    )
    work_start: HHMM = _optional(examples=["09:00"], description="Before work_end")
    work_end: HHMM = _optional(examples=["18:00"], description="After work_start")
    workdays: Annotated[list[Weekday], Field(min_length=1, max_length=7)] = _optional(
        description="ISO weekdays, 1 (Mon) to 7 (Sun)"
    )
    reminders_paused: StrictBool = _optional()
    paused_until: ApiDatetime | None = Field(
        default=None,
        description="Reminders resume then, a moment in the future; null lifts a timed pause",
    )

    @field_validator(
        "timezone", "work_start", "work_end", "workdays", "reminders_paused", mode="before"
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value


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
