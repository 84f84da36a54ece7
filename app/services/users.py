"""Users: sign-in from initData and the reminder settings a user edits."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from app.db.database import Database
from app.db.signals import schedule_changed
from app.domain.users import TelegramProfile, User, is_iana_zone, parse_hhmm
from app.repositories import users as users_repo
from app.services.errors import Invalid, NotFound

SETTINGS_FIELDS = frozenset(
    {"timezone", "work_start", "work_end", "workdays", "reminders_paused", "paused_until"}
)


class UserCache:
    """Users read in the last moment, so a burst of Mini App requests costs one query.

    Entries live `ttl` on the injected clock and the cache holds at most `max_size` users.
    Writes made in this process replace their entry at once; a write made by another
    replica is seen here within `ttl`. Authentication and the bot's buttons read from it;
    the dispatcher reads the row inside its transaction.
    """

    def __init__(self, ttl: timedelta = timedelta(seconds=1), max_size: int = 10_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._entries: OrderedDict[int, tuple[User, datetime]] = OrderedDict()

    def get(self, telegram_id: int, now: datetime) -> User | None:
        entry = self._entries.get(telegram_id)
        if entry is None:
            return None
        user, stored_at = entry
        if not (stored_at <= now < stored_at + self.ttl):
            del self._entries[telegram_id]
            return None
        return user

    def put(self, user: User, now: datetime) -> None:
        self._entries[user.telegram_id] = (user, now)
        self._entries.move_to_end(user.telegram_id)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def forget(self, telegram_id: int) -> None:
        self._entries.pop(telegram_id, None)


async def sign_in(
    db: Database, profile: TelegramProfile, now: datetime, cache: UserCache | None = None
) -> User:
    """The user behind a verified initData: created on first use, refreshed when it changed.

    The common case (known user, same profile) is a cache hit or a single read, so
    authentication adds at most one cheap query to a request, never a write.
    """
    if cache is not None:
        cached = cache.get(profile.telegram_id, now)
        if cached is not None and not profile.differs_from(cached):
            return cached
    async with db.single_read() as conn:
        user = await users_repo.get(conn, profile.telegram_id)
    if user is None or profile.differs_from(user):
        async with db.transaction() as conn:
            user = await users_repo.upsert_profile(conn, profile, now)
    if cache is not None:
        cache.put(user, now)
    return user


async def update_settings(
    db: Database,
    telegram_id: int,
    changes: dict[str, Any],
    now: datetime,
    cache: UserCache | None = None,
) -> User:
    unknown = set(changes) - SETTINGS_FIELDS
    if unknown:
        raise Invalid((sorted(unknown)[0],), "is not a setting")
    async with db.transaction() as conn:
        current = await users_repo.get(conn, telegram_id)
        if current is None:
            raise NotFound("user")
        values = _validated(current, changes, now)
        updated = await users_repo.update_settings(conn, telegram_id, values, now)
        if {"reminders_paused", "paused_until"} & values.keys():
            await schedule_changed(conn)
    if updated is None:
        raise NotFound("user")
    if cache is not None:
        cache.put(updated, now)
    return updated


def _validated(current: User, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    values = dict(changes)
    if "timezone" in values:
        zone = values["timezone"]
        if not isinstance(zone, str) or not is_iana_zone(zone):
            raise Invalid(("timezone",), "must be an IANA time zone name, e.g. Europe/Berlin")
        values["timezone_set_at"] = now
    start = values.get("work_start", current.work_start)
    end = values.get("work_end", current.work_end)
    for name, value in (("work_start", start), ("work_end", end)):
        try:
            parse_hhmm(value)
        except (TypeError, ValueError) as exc:
            raise Invalid((name,), str(exc)) from None
    if parse_hhmm(start) >= parse_hhmm(end):
        field = "work_end" if "work_end" in changes else "work_start"
        raise Invalid((field,), f"working hours must end after they start ({start}–{end})")
    if "workdays" in values:
        days = values["workdays"]
        if not days or any(not isinstance(d, int) or isinstance(d, bool) for d in days):
            raise Invalid(("workdays",), "must be a non-empty list of ISO weekdays 1–7")
        if any(d < 1 or d > 7 for d in days):
            raise Invalid(("workdays",), "must only contain ISO weekdays 1 (Mon) to 7 (Sun)")
        values["workdays"] = sorted(set(days))
    paused_until = values.get("paused_until")
    if paused_until is not None:
        if not isinstance(paused_until, datetime) or paused_until.tzinfo is None:
            raise Invalid(("paused_until",), "must be a date-time with a time zone")
        if paused_until <= now:
            raise Invalid(("paused_until",), "must be in the future")
        try:
            # "9999-12-31T23:59:59-14:00" is a valid text past year 9999 in UTC: it used to
            # overflow (a 500) where it is stored.
            values["paused_until"] = paused_until.astimezone(UTC)
        except OverflowError:
            raise Invalid(("paused_until",), "is beyond the year 9999 in UTC") from None
    return values


async def mark_unreachable(
    db: Database, telegram_id: int, now: datetime, cache: UserCache | None = None
) -> None:
    """Telegram said the user blocked the bot (or the chat is gone): stop reminding them
    until they write to the bot again."""
    async with db.transaction() as conn:
        await users_repo.set_blocked(conn, telegram_id, now, now)
    if cache is not None:
        cache.forget(telegram_id)


async def mark_reachable(
    db: Database, telegram_id: int, now: datetime, cache: UserCache | None = None
) -> bool:
    """The user wrote to the bot: reminders resume. Returns whether they had been blocked."""
    async with db.transaction() as conn:
        user = await users_repo.get(conn, telegram_id)
        if user is None or user.blocked_at is None:
            return False
        await users_repo.set_blocked(conn, telegram_id, None, now)
        await schedule_changed(conn)
    if cache is not None:
        cache.forget(telegram_id)
    return True


async def get_user(
    db: Database, telegram_id: int, now: datetime, cache: UserCache | None = None
) -> User | None:
    """The user, from `cache` when read in the last moment (as authentication does)."""
    if cache is not None and (cached := cache.get(telegram_id, now)) is not None:
        return cached
    async with db.single_read() as conn:
        user = await users_repo.get(conn, telegram_id)
    if user is not None and cache is not None:
        cache.put(user, now)
    return user
