"""Helpers of the bot tests: updates posted to the webhook, a reminder delivered to press."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from app.clock import ManualClock
from app.db.database import Database
from app.db.tables import lead_activity_log
from tests.scheduler.support import make_lead, make_user
from tests.support.fake_telegram import FakeTelegram, callback_query_update, message_update

SECRET = "webhook-secret"
_ids = itertools.count(1)


async def post_update(
    http: httpx.AsyncClient, update: dict[str, Any], secret: str | None = SECRET
) -> httpx.Response:
    update.setdefault("update_id", next(_ids))
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await http.post("/telegram/webhook", json=update, headers=headers)


def next_update_id() -> int:
    return next(_ids)


@dataclass(frozen=True)
class Delivered:
    """A first reminder the dispatcher sent: its id and the message as Telegram holds it."""

    chat: int
    rid: int
    message: dict[str, Any]

    def press(self, action: str, **extra: Any) -> dict[str, Any]:
        """The owner pressing `action` under this very message."""
        return callback_query_update(
            self.chat,
            f"eplan:{action}:{self.rid}",
            message_id=self.message["message_id"],
            message_text=self.message["text"],
            **extra,
        )

    def reply(self, text: str) -> dict[str, Any]:
        """The owner answering this message with `text`, as a Telegram reply."""
        update = message_update(self.chat, text)
        update["message"]["reply_to_message"] = {
            "message_id": self.message["message_id"],
            "date": 0,
            "chat": {"id": self.chat, "type": "private"},
            "text": "reminder",
        }
        return update


async def the_note(db: Database) -> Any:
    """The details of the one note the log holds."""
    async with db.read() as conn:
        return (
            await conn.execute(
                select(lead_activity_log.c.details).where(
                    lead_activity_log.c.activity_type == "note_added"
                )
            )
        ).scalar_one()


async def deliver_one_reminder(
    http: httpx.AsyncClient, fake: FakeTelegram, db: Database, clock: ManualClock, chat: int = 1001
) -> Delivered:
    user = await make_user(db, clock, chat)
    lead = await make_lead(db, clock, user, [0, 2], name="Ana")
    response = await http.post("/internal/tick", headers={"Authorization": "Bearer tick"})
    assert response.json()["sent"] == 1
    message = fake.sent_messages(chat)[-1]
    rid = lead.steps[0].reminder_id
    assert rid is not None
    return Delivered(chat, rid, message.result)
