"""Outside a private chat the bot shows no lead data: one line to its commands, else silence."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.bot.handlers import PRIVATE_ONLY
from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_activity_log, lead_registry, scheduled_reminders, users
from app.domain.views import LeadRead
from tests.bot.support import post_update
from tests.scheduler.support import make_lead, make_user
from tests.support.fake_telegram import FakeTelegram, callback_query_update, message_update

ME = 1001
GROUPS = {"group": -4001, "supergroup": -1001234567890}
# Every command the bot registers, in the forms a group sees them.
COMMANDS = [
    "/start",
    "/help",
    "/today",
    "/lead Ana Silva, Acme — met at SaaStr",
    "/lead",
    "/pause",
    "/pause 3",
    "/resume",
    "/today@fake_test_bot",
]
# Chatter, and commands that are not this bot's.
SILENT = ["hello everyone", "/today@some_other_bot", "/weather", "Bea, Acme — a lead?"]


@pytest.fixture
async def lead(db: Database, clock: ManualClock) -> LeadRead:
    """ME with a lead whose first step is due: what a group must never be shown."""
    user = await make_user(db, clock, ME)
    return await make_lead(db, clock, user, [0, 3], name="Bea Secretlead")


def in_chat(update: dict[str, Any], kind: str) -> dict[str, Any]:
    """The same message, sent by ME in a group or supergroup."""
    update["message"]["chat"] = {"id": GROUPS[kind], "type": kind, "title": "Sales team"}
    return update


def channel_post(text: str) -> dict[str, Any]:
    post: dict[str, Any] = {
        "message_id": 7,
        "chat": {"id": -1009876543210, "type": "channel", "title": "News"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        post["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"channel_post": post}


async def _snapshot(db: Database) -> tuple[Any, ...]:
    async with db.read() as conn:
        people = (await conn.execute(select(users))).all()
        leads = (await conn.execute(select(lead_registry))).all()
        reminders = (await conn.execute(select(scheduled_reminders))).all()
        log = (await conn.execute(select(func.count()).select_from(lead_activity_log))).scalar()
    return (people, leads, reminders, log)


def _sent(fake: FakeTelegram) -> list[str]:
    # getMe is how aiogram learns its own username for "/cmd@bot"; it tells nobody anything.
    return [c.method for c in fake.calls if c.method.lower() != "getme"]


@pytest.mark.usefixtures("lead")
@pytest.mark.parametrize("kind", ["group", "supergroup"])
async def test_commands_in_a_group_get_one_line_and_no_lead_data(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    kind: str,
) -> None:
    before = await _snapshot(db)
    for text in COMMANDS:
        fake.reset()
        response = await post_update(http, in_chat(message_update(ME, text), kind))
        assert response.status_code == 200
        assert _sent(fake) == ["sendMessage"], text
        [line] = fake.sent_messages()
        assert line.chat_id == GROUPS[kind], text
        assert line.params["text"] == PRIVATE_ONLY, text
        assert "\n" not in line.params["text"]
        assert "reply_markup" not in line.params, text
    assert await _snapshot(db) == before


@pytest.mark.parametrize("kind", ["group", "supergroup"])
async def test_chatter_joins_and_other_bots_commands_in_a_group_get_nothing(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    lead: LeadRead,
    kind: str,
) -> None:
    before = await _snapshot(db)
    updates = [in_chat(message_update(ME, text), kind) for text in SILENT]
    joined = in_chat(message_update(ME, "x"), kind)
    del joined["message"]["text"]
    joined["message"]["new_chat_members"] = [{"id": ME, "is_bot": False, "first_name": "Ana"}]
    reply = in_chat(message_update(ME, "They asked for pricing"), kind)
    reply["message"]["reply_to_message"] = {
        "message_id": 1,
        "date": 0,
        "chat": reply["message"]["chat"],
        "text": f"step of {lead.name}",
    }
    fake.reset()
    for update in [*updates, joined, reply]:
        assert (await post_update(http, update)).status_code == 200
    assert _sent(fake) == []
    assert await _snapshot(db) == before


async def test_channel_posts_get_nothing(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
) -> None:
    await make_user(db, clock, ME)
    before = await _snapshot(db)
    fake.reset()
    for text in [*COMMANDS, *SILENT]:
        assert (await post_update(http, channel_post(text))).status_code == 200
    assert _sent(fake) == []
    assert await _snapshot(db) == before


@pytest.mark.parametrize("kind", ["group", "supergroup"])
@pytest.mark.parametrize("action", ["done", "snooze1", "skip", "draft", "lead"])
async def test_a_forged_press_from_a_group_changes_nothing(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    lead: LeadRead,
    kind: str,
    action: str,
) -> None:
    """The bot never puts buttons in a group, but callback data and its message can be
    forged: the owner's own press, claimed from a group, is refused with an alert."""
    rid = lead.steps[0].reminder_id
    before = await _snapshot(db)
    fake.reset()
    update = callback_query_update(ME, f"eplan:{action}:{rid}", message_id=5)
    update["callback_query"]["message"]["chat"] = {
        "id": GROUPS[kind],
        "type": kind,
        "title": "Sales team",
    }
    assert (await post_update(http, update)).status_code == 200
    assert _sent(fake) == ["answerCallbackQuery"]
    [answer] = fake.calls_to("answerCallbackQuery")
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == PRIVATE_ONLY
    assert await _snapshot(db) == before


@pytest.mark.usefixtures("lead")
async def test_the_same_commands_in_private_still_work(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
) -> None:
    """The group filter must not catch private chats: /today there lists the lead."""
    await post_update(http, message_update(ME, "/today"))
    [listing] = fake.sent_messages(ME)
    assert "Bea Secretlead" in listing.params["text"]
