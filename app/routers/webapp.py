"""The built Mini App at /app/: hashed assets cached for a year, index.html never cached,
every other path under /app/ answered by index.html (the app routes on the client), and a
page that says what to do when the build is missing."""

from __future__ import annotations

import gzip
import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

DEFAULT_DIST = Path(__file__).resolve().parents[2] / "webapp" / "dist"
# Vite names every file under assets/ by its content hash: a new build is a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"
# Revalidated on every open, so a new build reaches people at once.
NO_CACHE = "no-cache"
COMPRESSIBLE = {".js", ".css", ".html", ".svg", ".json", ".txt", ".map"}

MISSING_BUILD = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mini App not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:560px;margin:3em auto;padding:0 1em;
line-height:1.5}code{background:#8882;padding:2px 4px;border-radius:4px}</style></head><body>
<h1>The Mini App has not been built yet</h1>
<p>The server is running, but there is no build of the Mini App in
<code>webapp/dist</code>. Build it with Node.js 20 or newer:</p>
<pre><code>cd webapp &amp;&amp; npm ci &amp;&amp; npm run build</code></pre>
<p>or run <code>make run</code>, which builds it before starting the server. The API itself
works without it: see <a href="/docs">/docs</a>.</p>
</body></html>"""


# Linux's NAME_MAX: no file of the build has a longer name, and asking the file system
# about one raises instead of saying no.
MAX_NAME_BYTES = 255
# Far beyond any real asset or client route; a longer path is not worth a lookup.
MAX_PATH_CHARS = 1024


def names_nothing(path: str) -> bool:
    """Paths under /app/ that cannot name a file of the build nor a page of the app: a NUL
    (the file system refuses it outright), a name longer than any file system allows, or a
    step up with `..` (decoded from %2e%2e or %2f by the server before it reaches us)."""
    if len(path) > MAX_PATH_CHARS or "\x00" in path:
        return True
    return any(
        part == ".." or len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
        for part in path.split("/")
    )


def not_found() -> Response:
    return Response("not found", status_code=404, media_type="text/plain")


class _Gzipped:
    """Compressed copies of the build's text files, made once per file version."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[float, bytes]] = {}

    def get(self, path: Path) -> bytes:
        mtime = path.stat().st_mtime
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        body = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        self._cache[path] = (mtime, body)
        return body


def build_router(dist: Path | None = None) -> APIRouter:
    root = (dist or DEFAULT_DIST).resolve()
    router = APIRouter(include_in_schema=False)
    gzipped = _Gzipped()

    def send(request: Request, path: Path, cache_control: str) -> Response:
        headers = {"Cache-Control": cache_control, "Vary": "Accept-Encoding"}
        accepts_gzip = "gzip" in request.headers.get("accept-encoding", "")
        if accepts_gzip and path.suffix in COMPRESSIBLE:
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type.endswith("javascript"):
                media_type += "; charset=utf-8"
            headers["Content-Encoding"] = "gzip"
            return Response(gzipped.get(path), media_type=media_type, headers=headers)
        return FileResponse(path, headers=headers)

    @router.api_route("/app", methods=["GET", "HEAD"])
    async def app_without_slash() -> RedirectResponse:
        # Relative asset URLs only resolve under /app/.
        return RedirectResponse("/app/", status_code=308)

    @router.api_route("/app/{path:path}", methods=["GET", "HEAD"])
    async def webapp(request: Request, path: str) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(MISSING_BUILD, status_code=503, headers={"Cache-Control": NO_CACHE})
        if path:
            if names_nothing(path):
                return not_found()
            try:
                candidate = (root / path).resolve()
                inside = candidate.is_relative_to(root)
                found = inside and candidate.is_file()
            except (OSError, ValueError):
                # Whatever else the file system cannot even look up is no file of the build.
                return not_found()
            if found:
                hashed = candidate.is_relative_to(root / "assets")
                return send(request, candidate, IMMUTABLE if hashed else NO_CACHE)
            if not inside or path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
                # A missing file, not a page: answering index.html would hand the browser
                # HTML where it expects a script.
                return not_found()
        return send(request, index, NO_CACHE)

    return router
