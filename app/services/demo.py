"""The local-mode demo: one salesperson with plans whose steps are due, overdue and upcoming,
so a newcomer sees the whole loop within a minute of `make run`."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.db.database import Database
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile
from app.repositories import leads as leads_repo
from app.services import plans as plans_service
from app.services import users as users_service

DEMO_USER = TelegramProfile(telegram_id=777000001, first_name="Demo", last_name="Seller")

_PLANS = [
    (
        "Ana Lima",
        "Acme Logistics",
        "Head of Operations",
        0,
        [
            (
                "Send a connection request with a personal note",
                "Day 0",
                "linkedin",
                "Hi Ana — I saw Acme is expanding its fleet. Would love to connect.",
            ),
            (
                "Follow-up email with the route-planning case study",
                "after 3 days",
                "email",
                "Subject: Cutting empty miles at Acme\n\nHi Ana, ...",
            ),
            ("Call to book a 20-minute demo", "1 week later", "phone", None),
        ],
    ),
    (
        "Bruno Costa",
        "Northwind",
        "VP Sales",
        3,  # started three days ago: its first step is overdue
        [
            (
                "Intro email referencing their Q3 hiring push",
                "Day 1",
                "email",
                "Subject: Ramp time for your new reps\n\nHi Bruno, ...",
            ),
            ("LinkedIn comment on his latest post", "Day 3", "linkedin", None),
            ("Telegram check-in", "after 2 weeks", "telegram", "Hey Bruno, quick one: ..."),
        ],
    ),
    (
        "Chen Wei",
        "Globex",
        "CTO",
        0,
        [
            (
                "Send the security whitepaper",
                "in 2 days",
                "email",
                "Subject: How we handle your data\n\nHi Chen, ...",
            ),
            ("Call about the pilot", "next week", "phone", None),
        ],
    ),
]


async def seed_demo(db: Database, now: datetime) -> bool:
    """Create the demo data once; returns False when it already exists."""
    user = await users_service.sign_in(db, DEMO_USER, now)
    async with db.read() as conn:
        if await leads_repo.list_for_user(conn, user.telegram_id):
            return False
    # Every day of the week is a workday for the demo, so something is due whenever it runs.
    user = await users_service.update_settings(
        db,
        user.telegram_id,
        {"workdays": [1, 2, 3, 4, 5, 6, 7], "work_start": "00:00", "work_end": "23:59"},
        now,
    )
    for name, company, title, started_days_ago, steps in _PLANS:
        specs = [
            StepSpec(
                step_id=i + 1,
                description=description,
                timing=timing,
                channel=channel,  # type: ignore[arg-type]
                suggested_text=text,
            )
            for i, (description, timing, channel, text) in enumerate(steps)
        ]
        await plans_service.create_lead(
            db,
            user,
            {"name": name, "company": company, "title": title},
            specs,
            now - timedelta(days=started_days_ago),
        )
    return True
