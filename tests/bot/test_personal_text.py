"""What people type never breaks a handler (U+0000) nor reaches a log line at INFO or above."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.bot.handlers import COMMAND_FAILED
from app.db.database import Database
from app.db.tables import lead_registry
from tests.bot.support import Delivered, post_update, the_note
from tests.support.fake_telegram import FakeTelegram, message_update

ME = 1001


def _logged_at_info_or_above(caplog: pytest.LogCaptureFixture) -> str:
    """Every record at INFO or above as a handler would write it, tracebacks included."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records if r.levelno >= logging.INFO)


async def test_lead_with_nul_is_answered_and_created_without_it(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    update = message_update(ME, "/lead Ana\x00 Silva, Ac\x00me — met at Saa\x00Str")
    assert (await post_update(http, update)).status_code == 200
    [answer] = fake.sent_messages(ME)
    assert "New lead: Ana Silva · Acme" in answer.params["text"]
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(lead_registry.c.name, lead_registry.c.company, lead_registry.c.context)
            )
        ).one()
    assert tuple(row) == ("Ana Silva", "Acme", "met at SaaStr")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_note_with_nul_is_saved_without_it(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    delivered: Delivered,
) -> None:
    await post_update(http, delivered.reply("They asked\x00 for pricing"))
    assert "Saved as a note" in fake.sent_messages(ME)[-1].params["text"]
    details = await the_note(db)
    assert details == {"text": "They asked for pricing"}


async def test_a_failed_command_is_answered_and_its_log_lines_hold_no_user_text(
    http: httpx.AsyncClient,
    fake: FakeTelegram,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A real failure in the database while the lead is written: its table is away.
    async with db.transaction() as conn:
        await conn.execute(text("ALTER TABLE lead_registry RENAME TO leads_away"))
    try:
        update = message_update(ME, "/lead Zebulon Quill, Hushco — whispered at the gala")
        response = await post_update(http, update)
    finally:
        async with db.transaction() as conn:
            await conn.execute(text("ALTER TABLE leads_away RENAME TO lead_registry"))
    assert response.status_code == 200
    assert [m.params["text"] for m in fake.sent_messages(ME)] == [COMMAND_FAILED]
    logged = _logged_at_info_or_above(caplog)
    assert f"handler failed for update {update['update_id']}" in logged
    for word in ("Zebulon", "Quill", "Hushco", "whispered", "gala"):
        assert word not in logged


async def test_database_errors_keep_statement_parameters_out_of_their_message(
    db: Database,
) -> None:
    """Whatever logs a database error, its message cannot quote what a person typed."""
    with pytest.raises(DBAPIError) as caught:
        async with db.read() as conn:
            await conn.execute(
                text("SELECT * FROM no_such_table WHERE name = :name"),
                {"name": "Zebulon Quill"},
            )
    assert "Zebulon" not in str(caught.value)
    assert "hidden" in str(caught.value)
