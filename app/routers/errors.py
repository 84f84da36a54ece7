"""One shape for every client error: FastAPI's own, so the TMA parses a single format."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from app.services.errors import Conflict, Invalid, NotFound, ServiceError

log = logging.getLogger(__name__)

# Long enough for a restarting PostgreSQL or a released SQLite lock; short enough for a user.
RETRY_AFTER_SECONDS = 5

# What the database's absence looks like: SQLite's "database is locked" past the busy
# timeout, and PostgreSQL's dropped connections, are OperationalError or InterfaceError;
# a refused connection reaches us as the OSError it is.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, ConnectionError)


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


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A 503 the client can act on (retry shortly), instead of a 500 with a traceback: the
    request was refused whole, nothing half-done (its transaction rolled back). For the
    webhook it means Telegram delivers the update again later."""
    log.warning(
        "%s %s: database unavailable: %s", request.method, request.url.path, type(exc).__name__
    )
    return JSONResponse(
        {"detail": "database unavailable, try again shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_database_unavailable(app: FastAPI) -> None:
    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, database_unavailable)
