"""The sender against the fake Bot API in real time: 429 storms, pacing, error classes."""

from __future__ import annotations

import asyncio

from app.clock import SystemClock
from app.scheduler.metrics import DispatchMetrics
from app.telegram.sender import RETRY_AFTER_MARGIN, BotTransport, Outgoing, Sender
from tests.support.fake_telegram import FakeTelegram, make_bot


async def test_a_429_holds_every_send_for_retry_after_and_drops_nothing() -> None:
    async with FakeTelegram() as fake:
        async with make_bot(fake, timeout=5) as bot:
            metrics = DispatchMetrics()
            sender = Sender(
                BotTransport(bot),
                SystemClock(),
                global_rate=1000,
                per_chat_rate=1000,
                on_retry_after=lambda _s: metrics.retry_after.inc(),
            )
            fake.fail_next("sendMessage", status=429, retry_after=1)
            results = await asyncio.gather(
                *(sender.send(Outgoing(chat_id=100 + i, text=f"m{i}")) for i in range(5))
            )
        calls = fake.calls_to("sendMessage")
    assert [r.outcome for r in results] == ["sent"] * 5
    refused = next(c for c in calls if c.response_status == 429)
    # Requests already on the wire when the 429 came back cannot be recalled; after the
    # answer arrived (well within 150 ms on loopback) nothing goes out until retry_after
    # (plus the margin) has passed.
    quiet_from, quiet_to = refused.at + 0.15, refused.at + 1.0 + RETRY_AFTER_MARGIN - 0.05
    assert not [c for c in calls if quiet_from < c.at < quiet_to]
    assert any(c.at >= quiet_to for c in calls), "the refused message was retried"
    assert sorted(c.params["chat_id"] for c in calls if c.response_status == 200) == [
        100,
        101,
        102,
        103,
        104,
    ]
    assert metrics.registry.get_sample_value("eplan_telegram_429_total") == 1


async def test_pacing_keeps_under_the_limits_in_every_window() -> None:
    async with FakeTelegram() as fake:
        fake.enforce_limits(global_per_second=10, per_chat_per_second=1)
        async with make_bot(fake, timeout=5) as bot:
            sender = Sender(BotTransport(bot), SystemClock(), global_rate=10, per_chat_rate=1)
            outgoing = [Outgoing(chat_id=i % 8, text=f"m{i}") for i in range(24)]
            results = await asyncio.gather(*(sender.send(m) for m in outgoing))
        calls = fake.calls_to("sendMessage")
    assert [r.outcome for r in results] == ["sent"] * 24
    assert all(c.response_status == 200 for c in calls), "no 429 was ever needed"
    times = sorted(c.at for c in calls)
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 1.0) <= 10


async def test_forbidden_and_missing_chats_are_facts_not_retries() -> None:
    async with FakeTelegram() as fake:
        fake.block_chat(1)
        fake.missing_chat(2)
        async with make_bot(fake, timeout=5) as bot:
            sender = Sender(BotTransport(bot), SystemClock(), global_rate=1000, per_chat_rate=1000)
            blocked = await sender.send(Outgoing(chat_id=1, text="x"))
            missing = await sender.send(Outgoing(chat_id=2, text="x"))
        assert (blocked.outcome, blocked.reason) == ("blocked", "forbidden")
        assert (missing.outcome, missing.reason) == ("blocked", "chat_not_found")
        assert len(fake.calls_to("sendMessage")) == 2


async def test_timeouts_are_retried() -> None:
    async with FakeTelegram() as fake, make_bot(fake, timeout=0.3) as bot:
        sender = Sender(BotTransport(bot), SystemClock(), global_rate=1000, per_chat_rate=1000)
        fake.delay = 1.0
        task = asyncio.create_task(sender.send(Outgoing(chat_id=5, text="x")))
        await asyncio.sleep(0.5)
        fake.delay = 0
        result = await task
        attempts = fake.calls_to("sendMessage")
    assert result.outcome == "sent"
    assert len(attempts) >= 2, "the timed-out request was sent again"
