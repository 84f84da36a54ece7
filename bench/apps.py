"""The app as deployed plus a baseline endpoint: a constant answer of the same bytes as the
endpoint measured (`me_throughput` compares `/me` with it, `plans_read` compares `/plans`).

The baseline lives in the same app, served by the same uvicorn process, so it pays for the
same server, HTTP parsing and middleware; what it skips is exactly the cost of the measured
endpoint itself (auth, the database reads, building and serialising the response).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response

from app.main import create_app

# A file holding the bytes of one real response (`/me`, `/plans`), captured by the benchmark.
CONSTANT_BODY_ENV = "BENCH_CONSTANT_BODY_FILE"
CONSTANT_PATH = "/bench/constant"
# The same document as a Python object, returned the way a bare FastAPI endpoint returns
# one: FastAPI encodes it (jsonable_encoder, then JSONResponse) on every request.
DOCUMENT_PATH = "/bench/document"


def build() -> FastAPI:
    source = os.environ.get(CONSTANT_BODY_ENV)
    if not source:
        # Serving some other body would compare with a response of a different size.
        raise SystemExit(f"error: {CONSTANT_BODY_ENV} must name the file with the body to serve")
    body = Path(source).read_bytes()
    app = create_app(freeze_heap=True)  # as app.main:app is

    document = json.loads(body)

    @app.get(CONSTANT_PATH, include_in_schema=False)
    async def constant() -> Response:
        return Response(content=body, media_type="application/json")

    @app.get(DOCUMENT_PATH, include_in_schema=False)
    async def bare_document() -> Any:
        return document

    return app


_built: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    # `bench.apps:app` is built when uvicorn asks for it, not on import: the benchmark
    # process imports the names above and must not build (or fail to build) an app.
    global _built
    if name != "app":
        raise AttributeError(name)
    if _built is None:
        _built = build()
    return _built
