"""The HTTP client under python-telegram-bot: aiohttp instead of PTB's default httpx.

Why: under load the bot spends most of its time sending. Measured on this 2-core machine
(``benchmarks/bench_send.py``: ``Bot.send_message`` to the fake Bot API on 127.0.0.1, client
and server in one process), httpx costs 2.4 ms of CPU per message one at a time and 5.0 ms
with 50 in flight (its connection pool scans every connection on every request); aiohttp, which
the project already uses for its test server, costs 0.75 ms either way. PTB supports any client
through ``BaseRequest``; this is that adapter, nothing more.

Errors map as PTB's own httpx adapter maps them, with one refinement the retry rule
(``handlers/render.py``: ``never_arrived``) relies on: a timeout while *connecting* is a plain
``NetworkError`` (nothing was sent, so sending again is safe), while a timeout waiting for the
answer is ``TimedOut`` (Telegram may have stored the message). Exception texts never carry the
request URL, which holds the bot token.
"""

from __future__ import annotations

import json

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

DEFAULT_TIMEOUT = 5.0
"""Seconds for connecting and for reading an answer, as PTB's httpx default."""
MEDIA_WRITE_TIMEOUT = 20.0
"""Seconds for a whole upload (an xlsx export), as PTB's default for media."""


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` over one ``aiohttp.ClientSession`` with a bounded connection pool."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                skip_auto_headers=("User-Agent",),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one Bot API call; returns the status and the body for PTB to interpret."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        data: aiohttp.FormData | bytes | None = None
        headers = {"User-Agent": self.USER_AGENT}
        total: float | None = None
        if request_data is not None:
            if request_data.contains_files:
                data = _multipart(request_data)
                total = MEDIA_WRITE_TIMEOUT + (read or 0)
            else:
                data = _json_body(request_data)
                headers["Content-Type"] = "application/json"
        timeout = aiohttp.ClientTimeout(
            total=total, connect=connect, sock_connect=connect, sock_read=read
        )
        try:
            async with session.request(
                method, url, data=data, timeout=timeout, headers=headers
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise NetworkError("aiohttp: timed out connecting to the Bot API") from exc
        except TimeoutError as exc:
            raise TimedOut("aiohttp: timed out waiting for the Bot API's answer") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {_without(url, exc)}") from None


def _json_body(request_data: RequestData) -> bytes:
    """The call's parameters as one JSON object, as the Bot API accepts them.

    PTB's own adapter sends a form, which percent-encodes every byte of the text and of the
    keyboard's JSON: for a Chinese answer that is nine characters per character, and the
    encoding was a tenth of the bot's CPU under load. Nested values (keyboards, entities) stay
    objects, Chinese stays UTF-8.
    """
    return json.dumps(request_data.parameters, ensure_ascii=False, separators=(",", ":")).encode()


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, upload in request_data.multipart_data.items():
        filename, content, *rest = upload
        form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
    return form


def _without(url: str, exc: BaseException) -> str:
    """The exception's text with the request URL (and so the token) taken out."""
    return str(exc).replace(url, "<Bot API URL>")
