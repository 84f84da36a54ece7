"""One shape for every client error: FastAPI's own, so the TMA parses a single format."""

from __future__ import annotations

from fastapi import HTTPException

from app.services.errors import Conflict, Invalid, NotFound, ServiceError


def http_error(exc: ServiceError) -> HTTPException:
    if isinstance(exc, NotFound):
        return HTTPException(status_code=404, detail="not found")
    if isinstance(exc, Conflict):
        return HTTPException(status_code=409, detail=str(exc))
    if isinstance(exc, Invalid):
        return unprocessable(exc.loc, exc.message)
    return HTTPException(status_code=400, detail=str(exc))


def unprocessable(loc: tuple[str | int, ...], message: str) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=[{"loc": ["body", *loc], "msg": message, "type": "value_error"}],
    )
