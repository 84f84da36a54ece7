"""One shape for every client error: FastAPI's own, so the TMA parses a single format."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
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


async def service_error(request: Request, exc: Exception) -> Response:
    """What a service refused, as the HTTPException `http_error` names, answered by
    FastAPI's own handler: the same bytes a route raising it would send."""
    assert isinstance(exc, ServiceError)
    return await http_exception_handler(request, http_error(exc))


def install_service_errors(app: FastAPI) -> None:
    # One mapping for every route: a route calls its service and lets refusals through.
    app.add_exception_handler(ServiceError, service_error)


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


# A lone UTF-16 surrogate ("\ud800") is valid JSON text but no Unicode character: it
# cannot be encoded as UTF-8, so a 422 that echoes it back would itself fail as a 500.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(value: Any) -> Any:
    """`value` with every lone surrogate, in strings and in dict keys, made U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 (same shape, same detail), except that what it echoes of the input
    can always be encoded: a client sending garbage gets told which field, never a 500."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _encodable(jsonable_encoder(exc.errors()))}, status_code=422)


def install_request_validation_error(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, request_validation_error)
