"""The FakeTelegram served over real HTTP (aiohttp) on localhost.

Point PTB at it with ``ApplicationBuilder().base_url(server.base_url)
.base_file_url(server.base_file_url)``; everything else (HTTPXRequest, polling) stays stock.

Simulated failures over HTTP:

* ``kind="timeout"``: the server withholds the response (up to ``timeout_hold`` seconds, or
  until the server closes) so the client's read timeout fires and PTB raises ``TimedOut``.
  Give the client a short read timeout in such tests (``.read_timeout(0.3)`` on the builder,
  or ``read_timeout=`` on the call) so they stay fast.
* ``kind="network"``: the connection is dropped without a response; PTB raises
  ``NetworkError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from .faults import SimulatedNetworkError, SimulatedTimeout
from .server import FakeTelegram
from .state import FileTuple

__all__ = ["FakeTelegramServer", "serve"]

_T = TypeVar("_T")


class _ServerClosing(Exception):
    """The server is shutting down while a request was still waiting."""


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def _error(status: int, description: str) -> web.Response:
    return _json({"ok": False, "error_code": status, "description": description}, status)


@dataclass(eq=False)
class FakeTelegramServer:
    """A running HTTP server for a FakeTelegram (create it with ``serve``)."""

    fake: FakeTelegram
    host: str
    port: int
    timeout_hold: float = 30.0
    _runner: web.AppRunner | None = field(default=None, repr=False)
    _closing: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def close(self) -> None:
        """Release waiting requests (long polls, held timeouts) and stop the server."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _until_closing(self, awaitable: Awaitable[_T]) -> _T:
        """Await ``awaitable`` unless the server starts closing first."""
        task = asyncio.ensure_future(awaitable)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({task, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not task.done():  # server closing, or this handler got cancelled
                task.cancel()
                # Let the call unwind (release the fake's locks) before going on.
                await asyncio.wait({task})
        if task.cancelled():
            raise _ServerClosing
        return task.result()

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.fake.token:
            return _error(401, "Unauthorized")
        params: dict[str, Any] = dict(request.query)
        files: dict[str, FileTuple] = {}
        if request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = (value.filename, value.file.read(), value.content_type)
                    else:
                        params[key] = value
        try:
            status, body = await self._until_closing(
                self.fake.call(request.match_info["method"], params, files)
            )
        except SimulatedTimeout:
            # Hold the response past the client's read timeout; the client gives up first.
            # (Released early when the client hangs up or the server closes.)
            with contextlib.suppress(_ServerClosing):
                await self._until_closing(asyncio.sleep(self.timeout_hold))
            return _error(504, "Gateway Timeout (simulated by FakeTelegram)")
        except SimulatedNetworkError:
            if request.transport is not None:
                request.transport.abort()
            # Nothing can be written any more; aiohttp discards this response.
            return web.Response(status=500)
        except _ServerClosing:
            return _error(503, "Service Unavailable: FakeTelegram server is closing")
        return _json(body, status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.fake.token:
            return _error(401, "Unauthorized")
        file_path = request.match_info["path"]
        content = self.fake.file_bytes(file_path)
        if content is None:
            return _error(404, "Not Found")
        mime = mimetypes.guess_type(file_path)[0] or "application/octet-stream"
        return web.Response(body=content, content_type=mime)


async def serve(
    fake: FakeTelegram, host: str = "127.0.0.1", port: int = 0, *, timeout_hold: float = 30.0
) -> FakeTelegramServer:
    """Serve ``fake`` over HTTP on ``host:port`` (0 = a free port) and return the server."""
    server = FakeTelegramServer(fake=fake, host=host, port=port, timeout_hold=timeout_hold)
    # Uploads up to the Bot API's 50 MB limit (aiohttp's default body limit is 1 MB).
    app = web.Application(client_max_size=51 * 1024 * 1024)
    app.router.add_route("*", "/bot{token}/{method}", server._handle_api)
    app.router.add_route("GET", "/file/bot{token}/{path:.+}", server._handle_file)
    # handler_cancellation: a client that hangs up (PTB stopping a long poll) cancels the
    # handler instead of leaving it waiting; the short shutdown_timeout keeps close() quick.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server._runner = runner
    server.port = int(runner.addresses[0][1])
    return server
