"""The bot's replies take the dispatcher's pacer: per-chat and global rates, and 429s waited
out. In real time against the fake Bot API, whose arrival times are what is measured."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from app.bot.handlers import HELP, TODAY_LIMIT
from app.clock import ManualClock
from app.container import Container
from app.db.database import Database
from app.telegram.sender import RETRY_AFTER_MARGIN
from tests.bot.support import Delivered, post_update
from tests.conftest import START
from tests.scheduler.support import make_lead, make_user
from tests.support.fake_telegram import FakeTelegram, message_update

ME = 1001
# Loopback and a busy test machine can squeeze two requests closer on arrival than they
# left; the windows below are this much shorter than a second to allow for it.
JITTER = 0.05


class RealTimeClock(ManualClock):
    """The calendar stays where the test put it (a Monday morning, steps due), while
    pacing waits for real, so the fake sees real arrival times."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.fixture
def clock() -> ManualClock:
    return RealTimeClock(START)


@pytest.fixture
def rates() -> dict[str, float]:
    return {"send_rate_global": 30.0, "send_rate_per_chat": 1.0}


@pytest.fixture
def settings_overrides(rates: dict[str, float]) -> dict[str, Any]:
    return dict(rates)


@pytest.fixture
def app_client(
    app_client: tuple[httpx.AsyncClient, Container], fake: FakeTelegram
) -> tuple[httpx.AsyncClient, Container]:
    """The bot tests' app, with what it said to the fake while starting forgotten."""
    fake.reset()
    return app_client


def most_in_one_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))


@pytest.mark.parametrize("rates", [{"send_rate_global": 30.0, "send_rate_per_chat": 4.0}])
async def test_today_with_many_due_steps_arrives_within_the_per_chat_rate(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
) -> None:
    user = await make_user(db, clock, ME)
    for i in range(TODAY_LIMIT + 2):
        await make_lead(db, clock, user, [0, 3], name=f"Lead {i}")
    assert (await post_update(http, message_update(ME, "/today"))).status_code == 200
    sent = fake.calls_to("sendMessage")
    # What /today sends is unchanged: one message per due step, then the remainder line.
    assert [c.response_status for c in sent] == [200] * (TODAY_LIMIT + 1)
    assert sent[-1].params["text"] == "…and 2 more in the app."
    times = [c.at for c in sent]
    assert most_in_one_window(times, 1.0 - JITTER) <= 4
    assert times[-1] - times[0] >= TODAY_LIMIT / 4 * 0.97 - JITTER


async def test_a_reply_shares_the_pacer_with_reminders_and_they_are_not_paced_twice(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
) -> None:
    user = await make_user(db, clock, ME)
    await make_lead(db, clock, user, [0, 3], name="Ana")
    started = time.monotonic()
    tick = await http.post("/internal/tick", headers={"Authorization": "Bearer tick"})
    assert tick.json()["sent"] == 1
    [reminder] = fake.sent_messages(ME)
    # The dispatcher's own send took its slot once: a second slot for the same chat, in
    # the session, would have held it a whole per-chat gap (a second) first.
    assert reminder.at - started < 0.5
    assert (await post_update(http, message_update(ME, "/help"))).status_code == 200
    [_, reply] = fake.sent_messages(ME)
    assert reply.params["text"] == HELP
    # The same pacer: the reply waited for the chat's gap after the reminder.
    assert reply.at - reminder.at >= 1.0 - JITTER


async def test_a_429_on_a_reply_is_waited_out_and_the_reply_delivered(
    app_client: tuple[httpx.AsyncClient, Container], fake: FakeTelegram
) -> None:
    http, container = app_client
    fake.fail_next("sendMessage", status=429, retry_after=1)
    assert (await post_update(http, message_update(ME, "/help"))).status_code == 200
    refused, delivered = fake.calls_to("sendMessage")
    assert refused.response_status == 429
    assert delivered.ok
    assert delivered.params["text"] == HELP
    assert delivered.at - refused.at >= 1.0 + RETRY_AFTER_MARGIN - JITTER
    assert container.metrics.registry.get_sample_value("eplan_telegram_429_total") == 1


async def test_press_answers_and_edits_are_not_held_behind_the_pacer(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    delivered: Delivered,
) -> None:
    """A press's answer and its edit answer a tap the person just made: right after a
    reminder to the same chat, they still go at once."""
    [reminder] = fake.sent_messages(ME)
    assert (await post_update(http, delivered.press("done"))).status_code == 200
    [answer] = fake.calls_to("answerCallbackQuery")
    [edit] = fake.calls_to("editMessageText")
    assert answer.params["text"] == "✅ Done"
    assert edit.ok
    assert edit.at - reminder.at < 0.5
