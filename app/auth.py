"""Telegram Mini App authentication: `Authorization: tma <initDataRaw>`.

The signature check is aiogram's implementation of Telegram's algorithm; this module adds
what aiogram leaves to the caller: the header format, duplicated keys, the age of
`auth_date` against the injected clock, and turning every failure into a 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qsl

from aiogram.utils.web_app import check_webapp_signature, parse_webapp_init_data
from fastapi import Depends, HTTPException, Request
from pydantic import ValidationError

from app.container import Container
from app.domain.users import TelegramProfile, User
from app.services import users as users_service

# Telegram's initData is well under 1 KB; anything far larger is not from a Telegram client.
MAX_INIT_DATA_LENGTH = 4096
# Clients' clocks are not ours: a little skew into the future is tolerated, no more.
FUTURE_SKEW = timedelta(minutes=5)
# Telegram's user ids are positive and fit the signed 64-bit columns that store them.
MAX_TELEGRAM_ID = 2**63 - 1


class InitDataError(Exception):
    """Why initData was refused; the message is safe to show the caller."""


@dataclass(frozen=True, slots=True)
class SignedInitData:
    """What a correctly signed initData says: who, and when Telegram signed it."""

    profile: TelegramProfile
    auth_date: datetime


def check_signed(raw: str, *, token: str) -> SignedInitData:
    """Everything about initData that depends only on the string and the token."""
    if not raw:
        raise InitDataError("initData is empty")
    if len(raw) > MAX_INIT_DATA_LENGTH:
        raise InitDataError("initData is too long")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("initData is not a query string") from None
    keys = [key for key, _ in pairs]
    if "hash" not in keys:
        raise InitDataError("initData has no hash")
    if len(keys) != len(set(keys)):
        # Telegram never repeats a key; a repeat is an attempt to make the parser and the
        # signature check read different values.
        raise InitDataError("initData repeats a field")
    try:
        signed = check_webapp_signature(token, raw)
    except (TypeError, ValueError):
        # hmac.compare_digest refuses a non-ASCII hash with TypeError instead of saying no.
        signed = False
    if not signed:
        raise InitDataError("initData signature is invalid")
    try:
        data = parse_webapp_init_data(raw)
    except (ValueError, ValidationError):
        raise InitDataError("initData fields are malformed") from None
    if data.user is None:
        raise InitDataError("initData has no user")
    user = data.user
    if not 1 <= user.id <= MAX_TELEGRAM_ID:
        # Signed, so only from someone holding the token, but still no id the BIGINT
        # columns can store: a refusal, not a database error.
        raise InitDataError("initData user id is out of range")
    profile = TelegramProfile(
        telegram_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        photo_url=user.photo_url,
    )
    return SignedInitData(profile=profile, auth_date=data.auth_date.astimezone(UTC))


def check_age(auth_date: datetime, *, now: datetime, max_age: int) -> None:
    if auth_date > now + FUTURE_SKEW:
        raise InitDataError("initData auth_date is in the future")
    if max_age and now - auth_date > timedelta(seconds=max_age):
        raise InitDataError("initData has expired")


def verify_init_data(raw: str, *, token: str, now: datetime, max_age: int) -> SignedInitData:
    signed = check_signed(raw, token=token)
    check_age(signed.auth_date, now=now, max_age=max_age)
    return signed


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "tma"})


async def current_user(request: Request) -> User:
    # Read straight from the request rather than through nested FastAPI parameters: this
    # runs on every Mini App request, and each resolved parameter costs time per call.
    container: Container = request.app.state.container
    authorization = request.headers.get("authorization")
    if authorization is None:
        raise _unauthorized("missing Authorization header; expected 'tma <initData>'")
    scheme, _, raw = authorization.partition(" ")
    if scheme.lower() != "tma" or not raw:
        raise _unauthorized("unsupported Authorization scheme; expected 'tma <initData>'")
    now = container.clock.now()
    try:
        signed = container.init_data.get(raw)
        if signed is None:
            signed = check_signed(raw, token=container.settings.initdata_token)
            container.init_data.put(raw, signed)
        check_age(signed.auth_date, now=now, max_age=container.settings.tma_init_data_max_age)
    except InitDataError as exc:
        raise _unauthorized(str(exc)) from None
    return await users_service.sign_in(container.db, signed.profile, now, container.user_cache)


CurrentUser = Annotated[User, Depends(current_user)]
