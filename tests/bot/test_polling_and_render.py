"""Long polling through the same dispatcher, and message rendering limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from asgi_lifespan import LifespanManager

from app.clock import ManualClock
from app.db.database import Database
from app.main import create_app
from app.telegram import render
from tests.support.fake_telegram import FakeTelegram, message_update


async def test_polling_mode_answers_through_the_same_handlers(
    make_settings: Callable[..., Any], clock: ManualClock, db: Database
) -> None:
    async with FakeTelegram() as fake:
        settings = make_settings(
            telegram_bot_token=fake.token,
            telegram_api_base=fake.base_url,
            telegram_updates="polling",
        )
        app = create_app(settings, clock=clock, database=db)
        async with LifespanManager(app):
            fake.queue_update(message_update(55, "/help"))
            for _ in range(100):
                if fake.sent_messages(55):
                    break
                await asyncio.sleep(0.05)
        assert "/today" in fake.sent_messages(55)[0].params["text"]
        assert fake.calls_to("deleteWebhook")
        assert fake.calls_to("setMyCommands")


def card(**overrides: Any) -> render.ReminderCard:
    values: dict[str, Any] = {
        "reminder_id": 1,
        "lead_id": 1,
        "lead_name": "Ana",
        "company": "Acme",
        "step_number": 2,
        "step_total": 5,
        "description": "Follow-up email",
        "timing": "after 3 days",
        "channel": "email",
        "due_at": datetime(2026, 3, 2, 9, tzinfo=UTC),
        "draft": "Hi Ana",
    }
    values.update(overrides)
    return render.ReminderCard(**values)


def test_a_huge_draft_and_description_stay_within_telegram_limits() -> None:
    text = render.reminder_text(
        card(draft="x" * 4000, description="d" * 4000, lead_name="n" * 4000),
        "first",
        datetime(2026, 3, 2, 9, tzinfo=UTC),
    )
    assert len(text) <= render.TELEGRAM_LIMIT
    assert "x" * 199 + "…" in text
    assert "x" * 201 not in text


def test_every_user_text_is_escaped() -> None:
    text = render.reminder_text(
        card(
            lead_name="<script>",
            company="A&B",
            description="<b>bold</b>",
            timing="<i>",
            draft="</blockquote>",
        ),
        "gentle",
        datetime(2026, 3, 3, 9, tzinfo=UTC),
    )
    assert "&lt;script&gt;" in text
    assert "A&amp;B" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "&lt;/blockquote&gt;" in text
    assert "Still pending" in text
    assert "overdue by 1 day" in text


def test_digest_lists_compactly() -> None:
    now = datetime(2026, 3, 5, 9, tzinfo=UTC)
    items = [
        render.DigestItem(
            lead_name=f"<L{i}>", step_number=1, description="call", due_at=now - timedelta(days=i)
        )
        for i in range(40)
    ]
    text = render.digest_text(items, now)
    assert "40 more steps" in text
    assert "&lt;L0&gt;" in text
    assert "… and 10 more" in text
    assert len(text) <= render.TELEGRAM_LIMIT


def test_text_that_grows_when_escaped_still_fits() -> None:
    worst = "&" * 5000
    text = render.reminder_text(
        card(lead_name=worst, company=worst, description=worst, timing=worst, draft=worst),
        "final",
        datetime(2026, 3, 9, 9, tzinfo=UTC),
    )
    assert len(text) <= render.TELEGRAM_LIMIT
    assert "&am…" not in text  # never cut inside an entity
    items = [
        render.DigestItem(
            lead_name=worst,
            step_number=1,
            description=worst,
            due_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
        for _ in range(30)
    ]
    assert len(render.digest_text(items, datetime(2026, 3, 9, tzinfo=UTC))) <= render.TELEGRAM_LIMIT
