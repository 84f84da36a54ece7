"""The claim on PostgreSQL, without the advisory lock that normally keeps one dispatcher
at a time: concurrent claimers on their own connections split the due reminders between
them, each exactly once; leases expire and are honoured; closed steps are never taken; and
the claim reads only due rows, however many reminders wait in the future."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import URL

from app.db.database import Database
from app.db.tables import scheduled_reminders as sr
from app.repositories import claims
from app.repositories import users as users_repo
from app.scheduler.tick import LEASE
from app.services import steps as steps_service
from tests.reliability.support import requires_postgres, seed_reminders, unless_run_slow

pytestmark = requires_postgres

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DUE = NOW - timedelta(minutes=5)


async def _claim(db: Database, worker: str, now: datetime = NOW, limit: int = 50) -> set[int]:
    async with db.transaction() as conn:
        return {
            r.id for r in await claims.claim(conn, worker=worker, now=now, lease=LEASE, limit=limit)
        }


async def _claimed_by(db: Database) -> dict[int, str | None]:
    async with db.read() as conn:
        return {
            row.id: row.claimed_by for row in await conn.execute(select(sr.c.id, sr.c.claimed_by))
        }


async def _race(url: URL, claimers: int, batch: int) -> dict[str, list[int]]:
    """`claimers` workers, each on its own engine (its own connections), claiming in a loop
    until nothing is left. Each holds its transaction open a random moment after claiming,
    so the others meet locked rows and rows committed under their statement's snapshot."""
    engines = [Database.from_url(url) for _ in range(claimers)]
    go = asyncio.Event()
    rng = random.Random(20260302)

    async def claimer(db: Database, worker: str) -> list[int]:
        async with db.read() as conn:  # connect before the start, so all begin together
            await conn.execute(text("SELECT 1"))
        await go.wait()
        taken: list[int] = []
        while True:
            async with db.transaction() as conn:
                rows = await claims.claim(conn, worker=worker, now=NOW, lease=LEASE, limit=batch)
                await asyncio.sleep(rng.random() * 0.004)
            if not rows:
                return taken
            taken.extend(r.id for r in rows)

    try:
        tasks = {
            f"worker-{i}": asyncio.create_task(claimer(db, f"worker-{i}"))
            for i, db in enumerate(engines)
        }
        await asyncio.sleep(0.2)
        go.set()
        return {worker: await task for worker, task in tasks.items()}
    finally:
        for db in engines:
            await db.dispose()


async def _analyze(pg: Database) -> None:
    """What autovacuum does shortly after a bulk load: fresh planner statistics."""
    async with pg.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))


async def _assert_claimed_exactly_once(
    pg: Database, url: URL, ids: list[int], *, claimers: int, rounds: int, analyze_after: int
) -> None:
    """`rounds` races over the same reminders (the claims reset in between); planner
    statistics are refreshed after `analyze_after` rounds, so both plans get raced."""
    for round_ in range(rounds):
        if round_ == analyze_after:
            await _analyze(pg)
        taken = await _race(url, claimers, batch=50)
        flat = [rid for rows in taken.values() for rid in rows]
        duplicates = sorted(rid for rid in set(flat) if flat.count(rid) > 1)
        assert not duplicates, f"round {round_}: claimed twice: {duplicates[:20]}"
        assert sorted(flat) == sorted(ids), f"round {round_}: not every reminder was claimed"
        # The database agrees with what each claimer was told it holds.
        owner = await _claimed_by(pg)
        for worker, rows in taken.items():
            assert all(owner[rid] == worker for rid in rows), f"round {round_}: {worker}"
        async with pg.transaction() as conn:
            await conn.execute(update(sr).values(claimed_by=None, claimed_until=None))


async def test_concurrent_claimers_take_each_reminder_exactly_once(
    pg: Database, pg_url: URL
) -> None:
    ids = await seed_reminders(pg, users_count=400, per_user=5, due_at=DUE, now=NOW)
    assert len(ids) == 2000
    await _assert_claimed_exactly_once(pg, pg_url, ids, claimers=4, rounds=3, analyze_after=1)


@pytest.mark.slow
@unless_run_slow
async def test_many_concurrent_claimers_many_rounds(pg: Database, pg_url: URL) -> None:
    # Analyzed from the start: without statistics a claim among 10,000 due reminders takes
    # about a second (see the note on the plan test below), and a round 200 of them.
    ids = await seed_reminders(pg, users_count=2000, per_user=5, due_at=DUE, now=NOW)
    await _assert_claimed_exactly_once(pg, pg_url, ids, claimers=8, rounds=10, analyze_after=0)


async def test_an_expired_lease_is_taken_again_and_a_live_one_is_not(pg: Database) -> None:
    expired, live, free = await seed_reminders(pg, users_count=1, per_user=3, due_at=DUE, now=NOW)
    async with pg.transaction() as conn:
        await conn.execute(
            update(sr)
            .where(sr.c.id == expired)
            .values(claimed_by="dead-worker", claimed_until=NOW - timedelta(seconds=1))
        )
        await conn.execute(
            update(sr)
            .where(sr.c.id == live)
            .values(claimed_by="busy-worker", claimed_until=NOW + timedelta(seconds=60))
        )
    assert await _claim(pg, "me") == {expired, free}
    owner = await _claimed_by(pg)
    assert owner == {expired: "me", live: "busy-worker", free: "me"}
    async with pg.read() as conn:
        until = (
            await conn.execute(select(sr.c.claimed_until).where(sr.c.id == expired))
        ).scalar_one()
    assert until == NOW + LEASE
    # Nothing more while the leases run; once they have run out, all are free to take.
    assert await _claim(pg, "me", NOW + LEASE - timedelta(seconds=1)) == set()
    assert await _claim(pg, "other", NOW + timedelta(seconds=59)) == {expired, free}
    assert await _claim(pg, "another", NOW + timedelta(seconds=61)) == {live}


async def test_a_step_closed_before_the_claim_is_never_claimed(pg: Database) -> None:
    by_service, by_sql, still_open = await seed_reminders(
        pg, users_count=1, per_user=3, due_at=DUE, now=NOW
    )
    async with pg.read() as conn:
        user = await users_repo.get(conn, 100_000)
    assert user is not None
    await steps_service.close_step(pg, user, by_service, "complete", NOW)
    async with pg.transaction() as conn:  # closed with its lead's plan still active
        await conn.execute(
            update(sr).where(sr.c.id == by_sql).values(status="completed", completed_at=NOW)
        )
    assert await _claim(pg, "me") == {still_open}
    async with pg.transaction() as conn:
        await conn.execute(update(sr).values(claimed_by=None, claimed_until=None))
    assert await _claim(pg, "me", NOW + timedelta(days=30)) == {still_open}


async def test_a_step_being_closed_during_the_claim_is_not_taken(pg: Database, pg_url: URL) -> None:
    closing, other = await seed_reminders(pg, users_count=1, per_user=2, due_at=DUE, now=NOW)
    closer = Database.from_url(pg_url)
    try:
        async with closer.transaction() as conn:
            await conn.execute(
                update(sr).where(sr.c.id == closing).values(status="completed", completed_at=NOW)
            )
            # Uncommitted: its row is locked, so the claim passes it by without waiting...
            assert await asyncio.wait_for(_claim(pg, "me"), 5) == {other}
        # ...and after the close committed, it is closed for every later claim (the other
        # one's lease has run out by then, so it comes back alone).
        assert await _claim(pg, "me", NOW + timedelta(days=1)) == {other}
    finally:
        await closer.dispose()


# --- the plan of the claim -----------------------------------------------------------------


async def _seed_future(pg: Database, count: int) -> None:
    """`count` open reminders 1-30 days ahead, for 1,000 users, all in active plans."""
    params = {"now": NOW, "plan": json.dumps([{"step_id": 1, "description": "later"}])}
    async with pg.transaction() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (telegram_id, first_name, created_at, updated_at) "
                "SELECT 500000 + g, 'Future', CAST(:now AS timestamptz), "
                "CAST(:now AS timestamptz) FROM generate_series(0, 999) AS g"
            ),
            params,
        )
        await conn.execute(
            text(
                "INSERT INTO lead_registry (telegram_id, name, engagement_plan, plan_status, "
                "plan_started_at, created_at, updated_at) "
                "SELECT 500000 + g % 1000, 'Future ' || g, CAST(:plan AS jsonb), 'active', "
                "CAST(:now AS timestamptz), CAST(:now AS timestamptz), CAST(:now AS timestamptz) "
                "FROM generate_series(1, :count) AS g"
            ),
            {**params, "count": count},
        )
        await conn.execute(
            text(
                "INSERT INTO scheduled_reminders (lead_id, telegram_id, step_id, position, "
                "due_at, planned_due_at, status, nudge_stage, next_action_at, created_at, "
                "updated_at) "
                "SELECT id, telegram_id, 1, 0, at, at, 'pending', 0, at, "
                "CAST(:now AS timestamptz), CAST(:now AS timestamptz) FROM ("
                "  SELECT id, telegram_id, CAST(:now AS timestamptz) "
                "    + (1 + id % 30) * interval '1 day' + (id % 1440) * interval '1 minute' AS at"
                "  FROM lead_registry WHERE name LIKE 'Future %'"
                ") AS future"
            ),
            params,
        )


async def _explain_claim(pg: Database, limit: int) -> dict[str, Any]:
    """EXPLAIN ANALYZE of the very statement claims.claim sends, run (and rolled back) in a
    transaction of its own."""
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE SCHEDULED_REMINDERS"):
            captured.append((statement, parameters))

    event.listen(pg.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with pg.engine.connect() as conn, conn.begin() as tx:
            await claims.claim(conn, worker="probe", now=NOW, lease=LEASE, limit=limit)
            await tx.rollback()
    finally:
        event.remove(pg.engine.sync_engine, "before_cursor_execute", capture)
    [(statement, parameters)] = captured
    async with pg.engine.connect() as conn, conn.begin() as tx:
        result = await conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
        )
        raw = result.scalar_one()
        await tx.rollback()
    document = json.loads(raw) if isinstance(raw, str) else raw
    plan: dict[str, Any] = document[0]
    return plan


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("Plans", []):
        found.extend(_nodes(child))
    return found


def _rows_read(node: dict[str, Any]) -> int:
    """Rows a scan node produced over all its loops, plus those its filter threw away."""
    loops = int(node.get("Actual Loops", 1))
    kept = int(node.get("Actual Rows", 0))
    removed = int(node.get("Rows Removed by Filter", 0)) + int(
        node.get("Rows Removed by Index Recheck", 0)
    )
    return (kept + removed) * loops if loops else kept + removed


async def test_the_claim_reads_only_due_rows_among_100k_future_ones(pg: Database) -> None:
    """With planner statistics, as autovacuum keeps them. Without (just after a bulk load,
    before autovacuum's next ANALYZE) PostgreSQL 15 picks a plan that probes the whole
    partial index once per candidate for the "no earlier open step" check: about 5 million
    index entries and 150 ms for this data, and about 1.5 s per claim with a 10,000-reminder
    backlog. A partial index on (lead_id, position) of open reminders turns that check into
    one small probe whatever the statistics say."""
    await _seed_future(pg, 100_000)
    due = await seed_reminders(pg, users_count=10, per_user=5, due_at=DUE, now=NOW)
    assert len(due) == 50
    await _analyze(pg)
    plan = await _explain_claim(pg, limit=500)
    nodes = _nodes(plan["Plan"])
    shape = json.dumps(plan["Plan"], indent=1)[:6000]

    due_scans = [n for n in nodes if n.get("Index Name") == "ix_scheduled_reminders_due_open"]
    assert due_scans, f"the claim does not use ix_scheduled_reminders_due_open:\n{shape}"
    read_from_index = sum(_rows_read(n) for n in due_scans)
    assert read_from_index < 1_000, f"{read_from_index} rows read from the due index:\n{shape}"
    # Nothing else in the plan walks the big tables either: no sequential scan of the
    # reminders or the leads, and no node (an index probe repeated per row, say) reading
    # thousands of rows. The users table is small here; a hash of it is a fine plan.
    for node in nodes:
        relation = node.get("Relation Name")
        if relation in ("scheduled_reminders", "lead_registry"):
            assert node["Node Type"] != "Seq Scan", f"sequential scan of {relation}:\n{shape}"
        if relation is not None or node.get("Index Name") is not None:
            assert _rows_read(node) < 5_000, f"{node['Node Type']} reads too much:\n{shape}"
    # And the claim did claim the 50 due reminders (in the rolled-back transaction).
    assert plan["Plan"].get("Actual Rows", 0) == 50 or any(
        n.get("Node Type") == "ModifyTable" and n.get("Actual Rows") == 50 for n in nodes
    ), shape
    assert plan["Execution Time"] < 1_000, f"{plan['Execution Time']} ms:\n{shape}"
