from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise straight to JSON bytes with pydantic's core.

    Returning the model would make FastAPI validate it again, turn it into Python objects
    and only then into JSON; for a 300 KB plans document that costs more than the query.
    Routes using this still declare `response_model`, so the OpenAPI schema is unchanged.
    """
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
