"""A user's reminder settings, as the rest of the domain sees them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import available_timezones

DEFAULT_TIMEZONE = "UTC"
DEFAULT_WORK_START = "09:00"
DEFAULT_WORK_END = "18:00"
DEFAULT_WORKDAYS: tuple[int, ...] = (1, 2, 3, 4, 5)

_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


# What the zone database holds beside real places: "Factory" (a zone meaning "unset"),
# the host's own "localtime" and "posixrules" files, and the posix/ and right/ copies.
_NOT_PLACES = frozenset({"Factory", "localtime", "posixrules", "posix", "right"})


@lru_cache(maxsize=1)
def iana_zones() -> frozenset[str]:
    """The time zone names a user may choose: real places, plus UTC and its aliases."""
    return frozenset(
        name for name in available_timezones() if name.split("/", 1)[0] not in _NOT_PLACES
    )


def is_iana_zone(name: str) -> bool:
    # ZoneInfo() alone accepts odd keys (file paths, "posixrules"); the IANA list does not.
    return name in iana_zones()


def parse_hhmm(value: str) -> time:
    if not _HHMM.fullmatch(value):
        raise ValueError("must be HH:MM on a 24-hour clock, e.g. 09:00")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class User:
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    photo_url: str | None
    timezone: str
    timezone_set_at: datetime | None
    work_start: str
    work_end: str
    workdays: tuple[int, ...]
    reminders_paused: bool
    paused_until: datetime | None
    blocked_at: datetime | None
    created_at: datetime
    updated_at: datetime


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    """What initData's `user` tells us about the person; refreshed on every sign-in."""

    telegram_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    photo_url: str | None = None

    def __post_init__(self) -> None:
        # Names come from Telegram, not from the caller, so they are cleaned rather than
        # refused: PostgreSQL cannot store U+0000 in text, and a name holding one made
        # every sign-in of that person a 500 there (and every bot update of theirs fail).
        # A lone UTF-16 surrogate (JSON may spell one, "\ud800") cannot be stored as UTF-8
        # on either engine: it becomes U+FFFD.
        for name in ("first_name", "last_name", "username", "language_code", "photo_url"):
            value = getattr(self, name)
            if value is not None:
                cleaned = _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
                if cleaned != value:
                    object.__setattr__(self, name, cleaned)

    def differs_from(self, user: User) -> bool:
        return (
            self.first_name != user.first_name
            or self.last_name != user.last_name
            or self.username != user.username
            or self.language_code != user.language_code
            or self.photo_url != user.photo_url
        )
