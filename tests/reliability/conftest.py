"""A PostgreSQL-only database fixture for the reliability tests (the shared `db` fixture runs
every test on both engines; these are about PostgreSQL's locking). Modules that use it mark
themselves `requires_postgres`, so with TEST_DATABASES=sqlite they skip before it is set up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL

from app.db.database import Database
from tests.conftest import clean


@pytest.fixture
async def pg(pg_url: URL) -> AsyncIterator[Database]:
    """The session's PostgreSQL test database, emptied, on an engine of this test's own."""
    db = Database.from_url(pg_url)
    try:
        await clean(db)
        yield db
    finally:
        await db.dispose()
