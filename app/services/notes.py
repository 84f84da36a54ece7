"""Notes a salesperson adds to a lead: new context for the next draft."""

from __future__ import annotations

from datetime import datetime

from app.db.database import Database
from app.domain.users import User
from app.repositories import activity as activity_repo
from app.repositories import leads as leads_repo
from app.repositories import reminders as reminders_repo
from app.repositories.activity import Activity, NewActivity
from app.services.errors import Invalid, NotFound

MAX_NOTE = 4000


async def add_note_by_reply(
    db: Database, user: User, message_id: int, text: str, now: datetime
) -> bool:
    """A reply to a reminder message becomes a note on its lead; False if the message is
    not one of this user's reminders."""
    async with db.read() as conn:
        reminder = await reminders_repo.by_message(conn, user.telegram_id, message_id)
    if reminder is None:
        return False
    await add_note(db, user, reminder.lead_id, text, now)
    return True


async def add_note(db: Database, user: User, lead_id: int, text: str, now: datetime) -> Activity:
    text = text.strip()
    if not text:
        raise Invalid(("text",), "a note cannot be empty")
    if len(text) > MAX_NOTE:
        raise Invalid(("text",), f"a note is at most {MAX_NOTE} characters")
    async with db.transaction() as conn:
        lead = await leads_repo.get(conn, lead_id, user.telegram_id)
        if lead is None:
            raise NotFound("lead")
        return await activity_repo.add_one(
            conn,
            NewActivity(
                lead_id=lead.id,
                telegram_id=user.telegram_id,
                activity_type="note_added",
                created_at=now,
                details={"text": text},
            ),
        )
