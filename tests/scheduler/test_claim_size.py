"""How much one claim takes: seconds of sending, so a killed process holds little, yet
enough that the pace is never idle while a batch's slowest chat is served."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from app.clock import SystemClock
from app.db.database import Database
from app.scheduler.tick import BATCH_SIZE, SEND_CONCURRENCY, claim_size
from app.telegram.sender import PACING_HEADROOM
from tests.reliability.support import seed_reminders
from tests.scheduler.support import dispatch_env


def _size(global_rate: float, per_chat_rate: float, cap: int) -> int:
    return claim_size(
        1 / (global_rate * PACING_HEADROOM), 1 / (per_chat_rate * PACING_HEADROOM), cap
    )


@pytest.mark.parametrize(
    ("global_rate", "per_chat_rate", "cap", "expected"),
    [
        (30, 1, 3, 120),  # Telegram's pace: four messages a person, a second apart
        (30, 1, 1, 60),
        (30, 30, 3, SEND_CONCURRENCY),  # one second of sending is less than a full set
        (30, 1, 50, BATCH_SIZE),
        (1_000_000, 1_000_000, 3, BATCH_SIZE),
    ],
)
def test_a_claim_is_seconds_of_sending(
    global_rate: float, per_chat_rate: float, cap: int, expected: int
) -> None:
    assert _size(global_rate, per_chat_rate, cap) == expected


async def test_several_reminders_a_person_keep_the_global_pace(db: Database) -> None:
    """40 people with four due reminders each, at 30 messages a second and one per chat a
    second: three singles and a digest each, 160 messages in about 5.6 s. Claims too small
    for the chat gaps would serve a few people at a time, four seconds each (~20 s)."""
    now = datetime.now(UTC)
    await seed_reminders(db, users_count=40, per_user=4, due_at=now - timedelta(minutes=1), now=now)
    async with dispatch_env(db, SystemClock(), cap=3, global_rate=30, per_chat_rate=1) as env:
        started = time.monotonic()
        counts = await env.dispatcher.run_pass()
        elapsed = time.monotonic() - started
    assert (counts.sent, counts.digested) == (160, 40)  # 40 of them went by digest
    assert len(env.fake.sent_messages()) == 160
    assert elapsed < 9.0, f"{elapsed:.1f} s for 160 messages at 30/s"
