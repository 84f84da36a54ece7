"""Servers of the tests on loopback: the fake outside services, the database proxy."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self

from aiohttp import web


async def serve(app: web.Application, *, shutdown_timeout: float) -> tuple[web.AppRunner, int]:
    """Start `app` on 127.0.0.1 at a port the OS picks; the runner (to clean up) and port.

    The socket is bound here rather than by aiohttp so that the port is known before the
    first request, and nothing is left listening if starting fails."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        await web.SockSite(runner, sock).start()
    except BaseException:
        sock.close()
        await runner.cleanup()
        raise
    return runner, port


class LoopbackServer:
    """`async with` one of them: started on entry, stopped on exit."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
