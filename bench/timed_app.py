"""`bench.apps:app` (the app plus the constant endpoint) inside a timing middleware.

The middleware measures, per path, the time from the moment uvicorn hands the request to
the app to the moment the app sends the last byte of its answer: the server's own time,
without the network, the client or queueing in the client. `GET /bench/timings` answers
the count and median per path since the previous call, and starts afresh; it is not timed.
Beside the wall time it reports the process's CPU time over the same span (all threads:
aiosqlite works in one), which on a shared machine says what a request costs even when
other processes take the cores; it is only meaningful with one request at a time.
The cost of the middleware itself (two clock reads and a list append) applies to every
endpoint alike.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bench import apps

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TIMINGS_PATH = "/bench/timings"


class Timed:
    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self.samples: dict[str, list[tuple[float, float]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        path = scope["path"]
        if path == TIMINGS_PATH:
            await self._report(send)
            return
        started = time.perf_counter()
        cpu = time.process_time()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                elapsed = time.perf_counter() - started
                used = time.process_time() - cpu
                self.samples.setdefault(path, []).append((elapsed, used))

        await self.inner(scope, receive, timed_send)

    async def _report(self, send: Send) -> None:
        samples, self.samples = self.samples, {}
        body = json.dumps(
            {
                path: {
                    "count": len(values),
                    "median_ms": statistics.median(wall for wall, _ in values) * 1000,
                    "cpu_median_ms": statistics.median(cpu for _, cpu in values) * 1000,
                }
                for path, values in samples.items()
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_built: Timed | None = None


def __getattr__(name: str) -> Timed:
    # Built when uvicorn asks for `bench.timed_app:app`, like bench.apps.
    global _built
    if name != "app":
        raise AttributeError(name)
    if _built is None:
        _built = Timed(apps.build())
    return _built
