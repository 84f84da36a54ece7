"""The server process hides its start-up heap from the garbage collector (see create_app's
`freeze_heap`); apps built by tests do not."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from asgi_lifespan import LifespanManager

from app.db.database import Database
from app.main import create_app


async def test_a_server_app_freezes_its_start_up_heap(
    make_settings: Callable[..., Any], db: Database
) -> None:
    gc.unfreeze()
    app = create_app(make_settings(), database=db, freeze_heap=True)
    try:
        async with LifespanManager(app):
            frozen = gc.get_freeze_count()
            container = app.state.container
            # The objects built at start-up are among those set aside.
            assert frozen > 10_000
            assert gc.is_tracked(container)
            assert container not in gc.get_objects(generation=2)
    finally:
        gc.unfreeze()


async def test_an_app_built_by_default_leaves_the_collector_alone(
    make_settings: Callable[..., Any], db: Database
) -> None:
    gc.unfreeze()
    app = create_app(make_settings(), database=db)
    async with LifespanManager(app):
        assert gc.get_freeze_count() == 0
