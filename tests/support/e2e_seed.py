"""Seeds the database the browser suite (webapp/e2e) runs against.

`python -m tests.support.e2e_seed TELEGRAM_ID...` gives each user the same six leads, with
plans started in the past so some steps are overdue, through the real services (the only
way to start a plan days ago). Every hour of every day is working time for these users, so
what is due, overdue or upcoming does not depend on when the suite runs. Prints what it
made as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from app.db.database import Database
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services import users as users_service
from app.settings import load_settings

# name, company, title, plan started this many days ago (None: no plan), delays, paused
LEADS: list[tuple[str, str, str, int | None, list[int], bool]] = [
    ("Ana Lima", "Acme Logistics", "Head of Operations", 0, [0, 3, 7], False),
    ("Bruno Costa", "Northwind", "VP Sales", 3, [0, 1, 10], False),
    ("Chen Wei", "Globex", "CTO", 5, [0, 8], False),
    ("Dana Ortiz", "Initech", "Founder", None, [], False),
    ("Eve Park", "Umbrella", "COO", 2, [0, 4], True),
    ("Femi Ade", "Hooli", "Head of Growth", 0, [2, 6], False),
]
CHANNELS = ["linkedin", "email", "phone"]


async def seed_user(db: Database, telegram_id: int, now: datetime) -> dict[str, Any]:
    profile = TelegramProfile(telegram_id=telegram_id, first_name="Ana", last_name="Lima")
    user = await users_service.sign_in(db, profile, now)
    user = await users_service.update_settings(
        db,
        telegram_id,
        {
            "timezone": "UTC",
            "workdays": [1, 2, 3, 4, 5, 6, 7],
            "work_start": "00:00",
            "work_end": "23:59",
        },
        now,
    )
    made = []
    for name, company, title, started, delays, paused in LEADS:
        specs = [
            StepSpec(
                step_id=i + 1,
                description=f"Step {i + 1} for {name.split()[0]}",
                timing=f"Day {delay}",
                delay_days=delay,
                channel=CHANNELS[i % len(CHANNELS)],  # type: ignore[arg-type]
                suggested_text=f"Hi {name.split()[0]}, draft number {i + 1}.",
            )
            for i, delay in enumerate(delays)
        ]
        start = now - timedelta(days=started or 0)
        lead = await plans_service.create_lead(
            db,
            user,
            {"name": name, "company": company, "title": title},
            specs or None,
            start,
        )
        if paused:
            await steps_service.pause_plan(db, user, lead.id, now)
        made.append({"id": lead.id, "name": name})
    return {"telegram_id": telegram_id, "leads": made}


async def main(ids: list[int]) -> None:
    settings = load_settings()
    db = Database.from_url(settings.database)
    now = datetime.now(UTC)
    try:
        users = [await seed_user(db, telegram_id, now) for telegram_id in ids]
    finally:
        await db.dispose()
    print(json.dumps({"users": users}))


if __name__ == "__main__":
    asyncio.run(main([int(arg) for arg in sys.argv[1:]]))
