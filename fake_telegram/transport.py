"""In-process transport: PTB's Bot talks to a FakeTelegram without any sockets."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from .faults import SimulatedNetworkError, SimulatedTimeout
from .server import FakeTelegram
from .state import FileTuple

__all__ = ["FakeTelegramRequest"]


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class FakeTelegramRequest(BaseRequest):
    """A ``telegram.request.BaseRequest`` that answers from a FakeTelegram.

    Use one instance for ``ApplicationBuilder().request(...)`` and another for
    ``.get_updates_request(...)``; both may share the same FakeTelegram. The default
    ``base_url``/``base_file_url`` of PTB are fine: only the path of the URL is looked at.
    """

    __slots__ = ("_fake", "_read_timeout")

    def __init__(self, fake: FakeTelegram, *, read_timeout: float | None = 5.0) -> None:
        self._fake = fake
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Route ``.../bot<token>/<method>`` to ``FakeTelegram.call`` and file URLs to bytes."""
        path = unquote(urlsplit(url).path)
        # File downloads (File.download_*) go through BaseRequest.retrieve, i.e. here too.
        if "/file/bot" in path:
            token_and_path = path.split("/file/bot", 1)[1]
            token, _, file_path = token_and_path.partition("/")
            if token != self._fake.token:
                return 401, _json_bytes(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}
                )
            content = self._fake.file_bytes(file_path)
            if content is None:
                return 404, _json_bytes(
                    {"ok": False, "error_code": 404, "description": "Not Found"}
                )
            return 200, content

        token_segment, _, api_method = path.rpartition("/")
        if not token_segment.endswith(f"bot{self._fake.token}"):
            return 401, _json_bytes({"ok": False, "error_code": 401, "description": "Unauthorized"})

        params: dict[str, Any] = {}
        files: dict[str, FileTuple] = {}
        if request_data is not None:
            # json_parameters is exactly what goes over the wire (str values raw, the rest
            # JSON-encoded), so the in-process path decodes the same bytes as HTTP mode and
            # catches values that would not survive JSON encoding.
            params = dict(request_data.json_parameters)
            if request_data.contains_files:
                for name, (filename, upload, mime) in request_data.multipart_data.items():
                    payload = upload if isinstance(upload, bytes) else upload.read()
                    files[name] = (filename, payload, mime)

        try:
            status, body = await self._fake.call(api_method, params, files)
        except SimulatedTimeout as exc:
            raise TimedOut(f"Timed out (simulated by FakeTelegram: {exc})") from exc
        except SimulatedNetworkError as exc:
            raise NetworkError(f"Connection dropped (simulated by FakeTelegram: {exc})") from exc
        return status, _json_bytes(body)
