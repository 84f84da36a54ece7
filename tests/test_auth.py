"""initData authentication: every way it can be wrong is a 401 with a JSON detail."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from sqlalchemy import select

from app.auth import InitDataError, verify_init_data
from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import users
from tests.support import initdata
from tests.support.users import domain_user

VECTORS = Path(__file__).parent / "fixtures" / "init_data_vectors.json"


def now_ts(clock: ManualClock) -> int:
    return int(clock.now().timestamp())


async def assert_401(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.get("/me", headers=headers)
    assert response.status_code == 401, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail
    return detail


async def test_valid_init_data_signs_in_and_creates_the_user(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], db: Database
) -> None:
    response = await client.get("/me", headers=auth(4242))
    assert response.status_code == 200, response.text
    assert response.json()["telegram_id"] == 4242
    async with db.read() as conn:
        row = (await conn.execute(select(users).where(users.c.telegram_id == 4242))).one()
    assert row.first_name == "Ana"
    assert row.username == "ana_sells"


async def test_profile_is_refreshed_from_init_data(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    await client.get("/me", headers=auth(7, first_name="Old"))
    response = await client.get("/me", headers=auth(7, first_name="New", username="renamed"))
    assert response.json()["first_name"] == "New"
    assert response.json()["username"] == "renamed"


async def test_settings_survive_a_profile_refresh(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    await client.patch("/me", headers=auth(8), json={"timezone": "Asia/Kolkata"})
    response = await client.get("/me", headers=auth(8, first_name="Renamed"))
    assert response.json()["timezone"] == "Asia/Kolkata"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "tma",
        "tma ",
        "TMA-x data",
        "Basic dXNlcjpwYXNz",
    ],
)
async def test_wrong_scheme(client: httpx.AsyncClient, header: str) -> None:
    detail = await assert_401(client, {"Authorization": header})
    assert "tma" in detail


async def test_missing_header(client: httpx.AsyncClient) -> None:
    assert "missing" in await assert_401(client, {})


async def test_scheme_is_case_insensitive(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock))
    response = await client.get("/me", headers={"Authorization": f"TMA {raw}"})
    assert response.status_code == 200


async def test_tampered_user_fails_the_signature(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    raw = initdata.sign(user=initdata.default_user(1), auth_date=now_ts(clock))
    forged = raw.replace("%22id%22%3A1%2C", "%22id%22%3A2%2C")
    assert forged != raw
    assert "signature" in await assert_401(client, {"Authorization": f"tma {forged}"})


async def test_signed_for_another_bot(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(
        token="987654:another-bot", user=initdata.default_user(), auth_date=now_ts(clock)
    )
    assert "signature" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_no_hash(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = urlencode(
        {"auth_date": now_ts(clock), "user": initdata.user_json(initdata.default_user())},
        quote_via=quote,
    )
    assert "hash" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_duplicated_hash(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock))
    assert "repeats" in await assert_401(client, {"Authorization": f"tma {raw}&hash={'0' * 64}"})


async def test_duplicated_user_field(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(user=initdata.default_user(1), auth_date=now_ts(clock))
    other = quote(initdata.user_json(initdata.default_user(2)))
    assert "repeats" in await assert_401(client, {"Authorization": f"tma user={other}&{raw}"})


async def test_signed_without_user(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(user=None, auth_date=now_ts(clock), extra={"query_id": "AAH"})
    assert "user" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_user_that_is_not_json(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(auth_date=now_ts(clock), extra={"user": "{not json}"})
    assert "malformed" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_user_without_first_name(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(auth_date=now_ts(clock), extra={"user": '{"id": 5}'})
    assert "malformed" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_auth_date_not_a_number(client: httpx.AsyncClient) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=0, extra={"auth_date": "soon"})
    assert "malformed" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_expired(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock))
    clock.advance(timedelta(seconds=86400 + 1))
    assert "expired" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_just_inside_max_age(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock))
    clock.advance(timedelta(seconds=86400 - 1))
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 200


async def test_from_the_future(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock) + 3600)
    assert "future" in await assert_401(client, {"Authorization": f"tma {raw}"})


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "%%%",
        "a=1&&b=2",
        "hash",
        "=&=&=",
        "\x00\x01\x02",
        "user=%7B&hash=zz",
        "é" * 50,
        # aiogram's check raises TypeError on a non-ASCII hash (hmac.compare_digest).
        "auth_date=1&user=%7B%7D&hash=%C3%A9%C3%A9%C3%A9",
    ],
)
async def test_garbage(client: httpx.AsyncClient, raw: str) -> None:
    response = await client.get("/me", headers={b"Authorization": f"tma {raw}".encode()})
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


async def test_kilobytes_long(client: httpx.AsyncClient, clock: ManualClock) -> None:
    raw = initdata.sign(
        user=initdata.default_user(), auth_date=now_ts(clock), extra={"pad": "x" * 8000}
    )
    assert "too long" in await assert_401(client, {"Authorization": f"tma {raw}"})


async def test_unicode_names(client: httpx.AsyncClient, clock: ManualClock) -> None:
    user = initdata.default_user(77, first_name="Аня 🚀", last_name="Ümlaut-名前")
    raw = initdata.sign(user=user, auth_date=now_ts(clock))
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 200, response.text
    assert response.json()["first_name"] == "Аня 🚀"
    assert response.json()["last_name"] == "Ümlaut-名前"


async def test_escaped_slashes_in_photo_url(
    client: httpx.AsyncClient, clock: ManualClock, db: Database
) -> None:
    user = initdata.default_user(78, photo_url="https://t.me/i/userpic/320/abc.svg")
    raw = initdata.sign(user=user, auth_date=now_ts(clock))
    assert "https%3A%5C%2F%5C%2Ft.me" in raw  # sent as https:\/\/ like Telegram's clients
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 200, response.text
    async with db.read() as conn:
        photo = (
            await conn.execute(select(users.c.photo_url).where(users.c.telegram_id == 78))
        ).scalar_one()
    assert photo == "https://t.me/i/userpic/320/abc.svg"


async def test_signature_field_is_part_of_the_signed_data(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    extra = {"signature": "Zm9vYmFy-third-party-ed25519", "chat_instance": "-8600"}
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock), extra=extra)
    response = await client.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 200, response.text
    tampered = raw.replace("Zm9vYmFy", "Zm9vYmFz")
    assert "signature" in await assert_401(client, {"Authorization": f"tma {tampered}"})


async def test_age_check_off_with_zero(
    make_settings: Callable[..., Any], clock: ManualClock, db: Database
) -> None:
    from asgi_lifespan import LifespanManager

    from app.main import create_app

    app = create_app(make_settings(tma_init_data_max_age=0), clock=clock, database=db)
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock) - 10 * 86400)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/me", headers={"Authorization": f"tma {raw}"})
    assert response.status_code == 200


def _published_vectors() -> list[dict[str, Any]]:
    data = json.loads(VECTORS.read_text())
    vectors: list[dict[str, Any]] = data["vectors"]
    return vectors


@pytest.mark.parametrize(
    "vector", _published_vectors(), ids=lambda v: f"{v['source'][:40]}-{v['valid']}"
)
def test_published_vectors(vector: dict[str, Any]) -> None:
    """initData published by Telegram's docs and other libraries' test suites."""
    from datetime import UTC, datetime

    now = datetime.fromtimestamp((vector.get("auth_date") or 0) + 60, tz=UTC)
    if vector["valid"]:
        data = verify_init_data(vector["init_data"], token=vector["token"], now=now, max_age=0)
        if vector.get("user_id") is not None:
            assert str(data.profile.telegram_id) == str(vector["user_id"])
    else:
        with pytest.raises(InitDataError):
            verify_init_data(vector["init_data"], token=vector["token"], now=now, max_age=0)


def test_published_vector_fails_with_another_token() -> None:
    from datetime import UTC, datetime

    vector = next(v for v in _published_vectors() if v["valid"])
    now = datetime.fromtimestamp(vector["auth_date"] + 60, tz=UTC)
    with pytest.raises(InitDataError, match="signature"):
        verify_init_data(vector["init_data"], token="1:not-the-token", now=now, max_age=0)


async def test_a_remembered_init_data_still_expires(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    raw = initdata.sign(user=initdata.default_user(), auth_date=now_ts(clock))
    headers = {"Authorization": f"tma {raw}"}
    assert (await client.get("/me", headers=headers)).status_code == 200
    clock.advance(timedelta(seconds=86400 + 1))
    assert "expired" in await assert_401(client, headers)


def test_user_cache_expires_and_is_bounded() -> None:
    from datetime import UTC, datetime

    from app.domain.users import User
    from app.services.users import UserCache

    now = datetime(2026, 1, 1, tzinfo=UTC)
    cache = UserCache(ttl=timedelta(seconds=1), max_size=2)

    def user(telegram_id: int) -> User:
        return domain_user(telegram_id, at=now)

    cache.put(user(1), now)
    assert cache.get(1, now + timedelta(milliseconds=999)) is not None
    assert cache.get(1, now + timedelta(seconds=1)) is None
    cache.put(user(1), now)
    cache.put(user(2), now)
    cache.put(user(3), now)
    assert cache.get(1, now) is None  # the oldest went first
    assert cache.get(3, now) is not None
    cache.forget(3)
    assert cache.get(3, now) is None
