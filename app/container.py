"""What a running app holds: built once in the lifespan, handed to routers by dependency."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from app.clock import Clock
from app.db.database import Database
from app.settings import Settings


@dataclass(slots=True)
class Container:
    settings: Settings
    clock: Clock
    db: Database


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container
