"""Signing initData the way Telegram does, so tests can build any case they need."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote, urlencode

TEST_BOT_TOKEN = "123456789:TEST-token-for-unit-tests-only"


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))


def compute_hash(fields: dict[str, str], token: str) -> str:
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def user_json(user: dict[str, Any]) -> str:
    # Telegram's clients escape "/" in JSON (photo_url arrives as https:\/\/...).
    return json.dumps(user, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def sign(
    *,
    token: str = TEST_BOT_TOKEN,
    user: dict[str, Any] | None = None,
    auth_date: int,
    extra: dict[str, str] | None = None,
) -> str:
    """A raw initData string, URL-encoded like the Telegram client sends it."""
    fields: dict[str, str] = {"auth_date": str(auth_date)}
    if user is not None:
        fields["user"] = user_json(user)
    fields.update(extra or {})
    fields["hash"] = compute_hash(fields, token)
    return urlencode(fields, quote_via=quote)


def default_user(telegram_id: int = 1001, **overrides: Any) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": telegram_id,
        "first_name": "Ana",
        "last_name": "Lima",
        "username": "ana_sells",
        "language_code": "en",
        "allows_write_to_pm": True,
    }
    user.update(overrides)
    return user
