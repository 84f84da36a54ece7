"""GET /plans costs a constant number of SQL statements, whatever the number of leads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from app.db.database import Database

Auth = Callable[..., dict[str, str]]


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def add_leads(client: httpx.AsyncClient, auth: Auth, n: int) -> None:
    steps = [{"step_id": i, "description": f"s{i}", "delay_days": i} for i in range(1, 7)]
    for k in range(n):
        r = await client.post(
            "/leads", headers=auth(), json={"name": f"L{k}", "plan": {"steps": steps}}
        )
        assert r.status_code == 201


async def test_statement_count_does_not_grow_with_leads(
    client: httpx.AsyncClient, auth: Auth, db: Database
) -> None:
    await add_leads(client, auth, 2)
    with counting(db) as few:
        r = await client.get("/plans", headers=auth())
    assert len(r.json()["leads"]) == 2
    await add_leads(client, auth, 30)
    with counting(db) as many:
        r = await client.get("/plans", headers=auth())
    assert len(r.json()["leads"]) == 32
    assert len(many) == len(few)
    assert len(few) <= 6, few  # BEGIN/auth/leads/reminders/COMMIT, engine permitting
