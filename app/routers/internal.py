from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.container import Container, get_container
from app.routers.responses import DATABASE_ERRORS, errors

router = APIRouter(tags=["internal"])
Deps = Annotated[Container, Depends(get_container)]


@router.post("/internal/tick", responses=errors(401, 404, *DATABASE_ERRORS))
async def tick(request: Request, container: Deps) -> dict[str, int | bool]:
    """One dispatch pass, for a cron job; safe beside the loop and other replicas."""
    expected = container.settings.internal_token
    if expected is None:
        raise HTTPException(status_code=404, detail="Not Found")
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(
            status_code=401, detail="invalid token", headers={"WWW-Authenticate": "Bearer"}
        )
    counts = await container.dispatcher.run_pass()
    return counts.as_dict()


@router.get("/metrics", include_in_schema=False, responses=errors(401))
async def metrics(request: Request, container: Deps) -> Response:
    """Prometheus text; with METRICS_TOKEN set, only for `Authorization: Bearer <it>`, the
    header Prometheus' `authorization` scrape setting sends."""
    expected = container.settings.metrics_token
    if expected is not None and not _bearer_matches(request, expected.get_secret_value()):
        raise HTTPException(
            status_code=401, detail="invalid token", headers={"WWW-Authenticate": "Bearer"}
        )
    return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _bearer_matches(request: Request, expected: str) -> bool:
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    # compare_digest: the time taken must not tell how much of a guess was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), expected.encode())
