"""GET /plans is served from a per-process cache, and is never stale: after every kind of
change — on this replica or another, by the dispatcher, by time alone, by new settings —
the answer equals one built afresh from the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.clock import ManualClock
from app.container import Container
from app.db.database import Database
from app.main import create_app
from app.schemas import PlansOut
from app.services import plans as plans_service
from app.services import users as users_service
from app.settings import Settings
from tests.api.plan_helpers import (
    OWNER,
    Auth,
    Json,
    act_ok,
    create_lead,
    list_plans,
    put_steps,
    reminder_ids,
    steps_with_delays,
)
from tests.scheduler.support import dispatch_env


@asynccontextmanager
async def replica(
    settings: Settings, clock: ManualClock, db: Database
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """One app process: its own container, so its own caches, on the shared database."""
    app: FastAPI = create_app(settings, clock=clock, database=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, app.state.container


async def fresh(db: Database, clock: ManualClock, **params: str) -> Json:
    user = await users_service.get_user(db, OWNER, clock.now())
    assert user is not None
    plans = await plans_service.list_plans(
        db,
        user,
        clock.now(),
        filter_by=params.get("filter"),  # type: ignore[arg-type]
        sort=params.get("sort", "next_due"),  # type: ignore[arg-type]
    )
    out: Json = PlansOut.model_validate(plans).model_dump(mode="json")
    return out


async def test_cached_plans_always_match_a_fresh_build(
    settings: Settings, clock: ManualClock, db: Database, auth: Auth
) -> None:
    async with (
        replica(settings, clock, db) as (a, a_container),
        replica(settings, clock, db) as (b, _),
    ):
        cache = a_container.plans_cache

        async def check(**params: str) -> Json:
            served = await list_plans(a, auth, OWNER, **params)
            assert served == await fresh(db, clock, **params)
            return served

        first = await create_lead(a, auth, steps_with_delays(0, 2, 5), name="Ana")
        second = await create_lead(a, auth, steps_with_delays(1, 3), name="Bo")
        before = await check()
        hits = cache.hits
        assert await check() == before
        assert cache.hits == hits + 1, "an unchanged answer is served from the cache"
        await check(filter="overdue")

        ids = reminder_ids(first)
        await act_ok(a, auth, ids[1], "complete")
        after_done = await check()
        assert after_done != before

        # Another replica changes a step: this one's cache must not answer with old data.
        await act_ok(b, auth, reminder_ids(second)[1], "snooze", days=2)
        await check()
        await act_ok(b, auth, ids[2], "skip")
        await check()

        # The dispatcher reminds a due step (state and reminder_count change).
        clock.advance(timedelta(days=1))
        await create_lead(b, auth, steps_with_delays(0, 4), name="Di")
        await check()
        async with dispatch_env(db, clock) as env:
            counts = await env.dispatcher.run_pass()
        assert counts.sent >= 1
        await check()

        # Time alone: a step turns due, then overdue by a day, then by two; a new day.
        for hours in (5, 20, 24, 24, 7):
            clock.advance(timedelta(hours=hours))
            await check()
            await check(filter="overdue")

        # Settings: another time zone moves "today".
        response = await a.patch("/me", headers=auth(), json={"timezone": "Pacific/Auckland"})
        assert response.status_code == 200, response.text
        await check()

        # Pause, resume, edit, a new lead without a plan, delete.
        lead_id = second["id"]
        assert (await a.post(f"/plans/{lead_id}/pause", headers=auth())).status_code == 200
        await check()
        clock.advance(timedelta(days=2))
        assert (await b.post(f"/plans/{lead_id}/resume", headers=auth())).status_code == 200
        await check()
        edited = await put_steps(b, auth, first["id"], steps_with_delays(0, 2, 5, 9))
        assert edited.status_code == 200, edited.text
        await check()
        await create_lead(b, auth, None, name="Cy")
        await check(filter="no_plan")
        assert (await b.delete(f"/leads/{lead_id}", headers=auth())).status_code == 204
        served = await check(sort="name")
        assert [lead["name"] for lead in served["leads"]] == ["Ana", "Cy", "Di"]
