"""When a step's draft is stale: pure rules, no I/O and no clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

# Activity that is news about a lead: what the next draft should take into account. The
# dispatcher's own messages (sent, nudged, snoozed) are not news about the lead.
NEWS = frozenset({"note_added", "step_completed", "step_skipped", "status_change", "lead_edited"})


def latest_news(activity: Iterable[tuple[str, datetime]]) -> datetime | None:
    """The newest moment of news among (activity_type, created_at) pairs."""
    moments = [at for kind, at in activity if kind in NEWS]
    return max(moments) if moments else None


def is_stale(*, text: str | None, generated_at: datetime | None, news_at: datetime | None) -> bool:
    """A draft is stale when there is none, or the lead has news newer than it."""
    if not text:
        return True
    if news_at is None:
        return False
    return generated_at is None or news_at > generated_at
