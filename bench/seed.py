"""Realistic plans, and bulk copies of one, for benchmarks that need many users and steps.

A plan is created once through the real code (the REST API or the service it calls), so its
rows are exactly what the app writes; `clone` then copies that user, lead and reminders with
INSERT ... SELECT on the database itself, which makes 100,000 users in seconds instead of
the minutes 100,000 API calls would take. The copies differ only in ids.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Integer, Select, func, insert, literal, select, text, true, update
from sqlalchemy.engine import make_url

from app.db.database import Database
from app.db.tables import lead_registry, users
from app.db.tables import scheduled_reminders as sr
from app.domain.plans import StepSpec
from app.domain.users import TelegramProfile, User
from app.services import plans as plans_service
from app.services import users as users_service
from app.settings import LOCAL_MODE_BOT_TOKEN
from tests.support import initdata

# The realistic plan every benchmark uses: six steps over a month, as the AI writes them.
SIX_STEP_DELAYS: tuple[int, ...] = (0, 3, 7, 14, 21, 30)

_FIRST = ("Ana", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas")
_LAST = ("Lima", "Okafor", "Schmidt", "Tanaka", "Moreau", "Novak", "Silva", "Berg", "Rossi")
_COMPANIES = (
    "Northwind Logistics",
    "Acme Robotics",
    "Globex Health",
    "Initech Payments",
    "Umbrella Analytics",
    "Stark Industrial",
    "Wayne Biotech",
    "Hooli Cloud",
)
_TITLES = ("Head of Sales", "VP Engineering", "COO", "Procurement Lead", "CTO", "Founder")
_CHANNELS = ("linkedin", "email", "phone", "telegram", "email", "linkedin")
_STEP_WORDS = (
    ("Send a connection request with a short personal note", "Day 1"),
    ("Follow up by email with the case study from their industry", "Day 3 — follow up"),
    ("Call to ask about their current process and the pain points", "Day 7, mid-morning"),
    ("Share a two-minute demo video tailored to their team", "Week 2"),
    ("Invite them to the customer round-table next month", "Week 3"),
    ("Close the loop: ask for a 20-minute call or a referral", "Day 30"),
    ("Comment on their latest post with something useful", "in 2 weeks"),
    ("Send the pricing one-pager they asked about", "3 days later"),
    ("Check in after their quarterly planning", "next week"),
    ("Last touch: a friendly break-up email", "Day 45"),
)


def profile(telegram_id: int) -> TelegramProfile:
    """The profile `initdata.default_user` signs, so a bench user's initData never differs
    from its row (a difference would make every request an upsert)."""
    user = initdata.default_user(telegram_id)
    return TelegramProfile(
        telegram_id=telegram_id,
        first_name=user["first_name"],
        last_name=user["last_name"],
        username=user["username"],
        language_code=user["language_code"],
    )


def auth_header(telegram_id: int) -> str:
    """`Authorization` for a user, signed now with the local-mode key."""
    return "tma " + initdata.sign(
        token=LOCAL_MODE_BOT_TOKEN,
        user=initdata.default_user(telegram_id),
        auth_date=int(time.time()),
    )


def lead_payload(index: int, delays: Sequence[int] = SIX_STEP_DELAYS) -> dict[str, Any]:
    """A POST /leads body as the AI writes one: varied names, real sentences, timing text
    beside delay_days, and a ~200-character suggested message per step."""
    rng = random.Random(index)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    company = rng.choice(_COMPANIES)
    steps = []
    for number, delay in enumerate(delays, start=1):
        description, timing = _STEP_WORDS[(index + number) % len(_STEP_WORDS)]
        suggested = (
            f"Hi {first}, I noticed {company} is growing its team this quarter. "
            f"We helped similar companies cut onboarding time by {rng.randint(20, 45)}%. "
            "Would a short call next week be useful? Happy to share what worked for them."
        )
        steps.append(
            {
                "step_id": number,
                "description": f"{description} ({first} at {company})",
                "timing": timing,
                "delay_days": delay,
                "channel": _CHANNELS[(number - 1) % len(_CHANNELS)],
                "suggested_text": suggested[:220],
            }
        )
    return {
        "name": f"{first} {last} #{index}",
        "company": company,
        "title": rng.choice(_TITLES),
        "channel": rng.choice(_CHANNELS),
        "context": (
            f"Met {first} at the {company} booth; interested in automating outreach, "
            "budget decided next quarter, prefers short messages."
        ),
        "plan": {"steps": steps},
    }


def specs_of(payload: dict[str, Any]) -> list[StepSpec]:
    return [
        StepSpec(
            step_id=s["step_id"],
            description=s["description"],
            timing=s["timing"],
            delay_days=s["delay_days"],
            channel=s["channel"],
            suggested_text=s["suggested_text"],
        )
        for s in payload["plan"]["steps"]
    ]


def open_database(url: str) -> Database:
    return Database.from_url(make_url(url))


async def make_user(db: Database, telegram_id: int, now: datetime) -> User:
    return await users_service.sign_in(db, profile(telegram_id), now)


async def make_template(
    db: Database, telegram_id: int, now: datetime, delays: Sequence[int] = SIX_STEP_DELAYS
) -> int:
    """One user and one lead with a plan, through the service the API calls; its lead id."""
    user = await make_user(db, telegram_id, now)
    payload = lead_payload(telegram_id, delays)
    fields = {k: payload[k] for k in ("name", "company", "title", "channel", "context")}
    lead = await plans_service.create_lead(db, user, fields, specs_of(payload), now)
    return lead.id


def _series(count: int, name: str) -> CTE:
    """1..count as a recursive CTE: the same SQL on SQLite and PostgreSQL."""
    base = select(literal(1, Integer).label("i")).cte(name, recursive=True)
    return base.union_all(select((base.c.i + 1).label("i")).where(base.c.i < count))


async def clone(
    db: Database,
    *,
    template_user: int,
    template_lead: int,
    first_user: int,
    user_count: int,
    leads_per_user: int = 1,
) -> None:
    """Copy the template user to ids first_user.., each with `leads_per_user` copies of the
    template lead and all of its reminders, in one transaction."""
    last_user = first_user + user_count - 1
    async with db.transaction() as conn:
        tu = select(users).where(users.c.telegram_id == template_user).subquery("tu")
        people = _series(user_count, "people")
        user_cols = [c.name for c in users.c if c.name != "telegram_id"]
        await conn.execute(
            insert(users).from_select(
                ["telegram_id", *user_cols],
                select(
                    (people.c.i + (first_user - 1)).label("telegram_id"),
                    *[tu.c[name] for name in user_cols],
                ).select_from(people.join(tu, true())),
            )
        )
        tl = select(lead_registry).where(lead_registry.c.id == template_lead).subquery("tl")
        copies = _series(leads_per_user, "copies")
        lead_cols = [c.name for c in lead_registry.c if c.name != "id"]
        lead_select: Select[Any] = (
            select(*[users.c.telegram_id if n == "telegram_id" else tl.c[n] for n in lead_cols])
            .select_from(users.join(tl, true()).join(copies, true()))
            .where(users.c.telegram_id.between(first_user, last_user))
            .order_by(copies.c.i, users.c.telegram_id)
        )
        await conn.execute(insert(lead_registry).from_select(lead_cols, lead_select))
        tr = select(sr).where(sr.c.lead_id == template_lead).subquery("tr")
        reminder_cols = [c.name for c in sr.c if c.name != "id"]
        picked = {"lead_id": lead_registry.c.id, "telegram_id": lead_registry.c.telegram_id}
        await conn.execute(
            insert(sr).from_select(
                reminder_cols,
                select(*[picked.get(n, tr.c[n]) for n in reminder_cols])
                .select_from(lead_registry.join(tr, true()))
                .where(lead_registry.c.telegram_id.between(first_user, last_user))
                .order_by(lead_registry.c.id, tr.c.position),
            )
        )


async def set_first_steps_due(db: Database, first_user: int, last_user: int, at: datetime) -> int:
    """Make the first step of each of these users' leads due at `at`, as if it came due."""
    async with db.transaction() as conn:
        result = await conn.execute(
            update(sr)
            .where(sr.c.telegram_id.between(first_user, last_user), sr.c.position == 0)
            .values(
                status="pending",
                due_at=at,
                next_action_at=at,
                nudge_stage=0,
                reminder_count=0,
                last_reminded_at=None,
                message_id=None,
                claimed_by=None,
                claimed_until=None,
            )
        )
        return result.rowcount or 0


async def count(db: Database, where: str, params: dict[str, Any] | None = None) -> int:
    """SELECT count(*) FROM scheduled_reminders WHERE <where>."""
    async with db.read() as conn:
        value = (
            await conn.execute(
                select(func.count()).select_from(sr).where(text(where)), params or {}
            )
        ).scalar_one()
    return int(value)


async def analyze(db: Database) -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would soon give them."""
    async with db.transaction() as conn:
        await conn.execute(text("ANALYZE"))
