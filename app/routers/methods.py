"""`Allow`: every method a path answers, on a 405 and as the answer to OPTIONS.

Starlette answers a method a path lacks with the first route whose path matched, so
`DELETE /me` used to say `Allow: GET` although `PATCH /me` exists too, and OPTIONS was such
a 405. The 405 is raised before any dependency runs (no initData check, no database), so
answering here costs the routes nothing.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Asks the app's own routes, method by method, whether they would take this path: the
    same matching that routes a request, so included routers and path parameters count."""
    methods = ["OPTIONS"]
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            methods.append(method)
    return sorted(methods)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code != 405:
        return await http_exception_handler(request, exc)
    allow = {"Allow": ", ".join(allowed_methods(request))}
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=allow)
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=allow)


def install_allow(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _method_not_allowed)
