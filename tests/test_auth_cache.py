"""The verified-initData cache: bounded, the least recently used string leaves first."""

from __future__ import annotations

from datetime import UTC, datetime

from app.auth import SignedInitData
from app.auth_cache import VerifiedInitData
from app.domain.users import TelegramProfile


def _signed(telegram_id: int) -> SignedInitData:
    return SignedInitData(
        profile=TelegramProfile(telegram_id=telegram_id, first_name="A"),
        auth_date=datetime(2026, 3, 2, tzinfo=UTC),
    )


def test_the_least_recently_used_string_leaves_first() -> None:
    cache = VerifiedInitData(max_size=2)
    cache.put("a", _signed(1))
    cache.put("b", _signed(2))
    assert cache.get("a") == _signed(1)  # now "b" is the least recently used
    cache.put("c", _signed(3))
    assert cache.get("b") is None
    assert cache.get("a") == _signed(1)
    assert cache.get("c") == _signed(3)


def test_an_unknown_string_is_not_found() -> None:
    assert VerifiedInitData().get("never verified") is None
