"""Signing initData as Telegram does. Used only by local mode's demo login: the key is the
local-mode development key, which cannot sign anything a real bot would accept."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, urlencode


def sign_init_data(token: str, fields: dict[str, str]) -> str:
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)
