"""The verified-initData cache app/auth.py consults before checking a signature."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for the annotation: app.auth reads the container, which holds this cache.
    from app.auth import SignedInitData


class VerifiedInitData:
    """initData strings already verified, so a page's burst of requests (which all carry
    the same string) pays for parsing and two HMACs once. Verification is a pure function of
    the string and the token, so remembering it is exact; the age is still checked on every
    request. Bounded, least recently used first out; failures are never remembered."""

    def __init__(self, max_size: int = 4096) -> None:
        self.max_size = max_size
        self._entries: OrderedDict[str, SignedInitData] = OrderedDict()

    def get(self, raw: str) -> SignedInitData | None:
        found = self._entries.get(raw)
        if found is not None:
            self._entries.move_to_end(raw)
        return found

    def put(self, raw: str, value: SignedInitData) -> None:
        self._entries[raw] = value
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)
