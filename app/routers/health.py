from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from app.container import Container, get_container
from app.routers.errors import RETRY_AFTER_SECONDS
from app.routers.responses import DATABASE_ERRORS, errors

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)

# A load balancer must get an answer even while the database hangs, not a stuck request.
PING_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", responses=errors(*DATABASE_ERRORS))
async def healthz(container: Annotated[Container, Depends(get_container)]) -> JSONResponse:
    body: dict[str, object] = {
        "database": container.db.dialect,
        "mode": "local" if container.settings.local_mode else "telegram",
    }
    try:
        await asyncio.wait_for(container.db.ping(), timeout=PING_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        # The same refusal as any route's when the database is away (ErrorOut, Retry-After).
        return JSONResponse(
            {"status": "unavailable", "detail": "database unavailable", **body},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ok", **body})
