"""Alembic environment: runs inside the app's own connection, or standalone from the CLI."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from app.db.tables import metadata

config = context.config


def run_with_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_standalone() -> None:
    # `alembic upgrade head` from a shell: go through the same locked path as start-up.
    from app.db.migrate import run_alembic_standalone

    asyncio.run(run_alembic_standalone(config, run_with_connection))


existing = config.attributes.get("connection")
if existing is not None:
    run_with_connection(existing)
else:
    run_standalone()
