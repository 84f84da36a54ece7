from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from app.schemas import ErrorOut


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise straight to JSON bytes with pydantic's core.

    Returning the model would make FastAPI validate it again, turn it into Python objects
    and only then into JSON; for the plans document that costs more than the query (BENCHMARKS.md).
    Routes using this still declare `response_model`, so the OpenAPI schema is unchanged.
    """
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


_WHY: dict[int, str] = {
    400: "The body is not readable JSON (e.g. not UTF-8)",
    401: "initData is missing, or refused; `detail` says why",
    404: "No such lead or reminder among yours (someone else's looks exactly the same)",
    409: "The action contradicts the current state, e.g. skipping a step already done",
    413: "The body is larger than MAX_REQUEST_BODY_BYTES",
    503: "The database does not answer",
}


_HEADERS: dict[int, dict[str, Any]] = {
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the refusals a route can give, so clients and schema-driven
    tests know every status the API answers with."""
    return {
        code: {"model": ErrorOut, "description": _WHY[code]}
        | ({"headers": _HEADERS[code]} if code in _HEADERS else {})
        for code in codes
    }


# What every route that reads or writes the database can also answer (see
# app.routers.errors.database_unavailable); initData checks load the user, so that is
# every signed-in route.
DATABASE_ERRORS = (503,)


# What a route that reads a JSON body can also answer.
BODY_ERRORS = (400, 413)
