"""Log configuration: aiogram's line per handled update shows only when debugging."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    names = ("", "aiogram.event", "alembic")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_aiogram_update_lines_are_off_outside_debugging(
    make_settings: Callable[..., Any], level: str
) -> None:
    configure_logging(make_settings(log_level=level))
    assert not logging.getLogger("aiogram.event").isEnabledFor(logging.INFO)
    assert logging.getLogger("aiogram.event").isEnabledFor(logging.WARNING)


def test_debugging_shows_every_handled_update(make_settings: Callable[..., Any]) -> None:
    configure_logging(make_settings(log_level="DEBUG"))
    assert logging.getLogger("aiogram.event").isEnabledFor(logging.INFO)
