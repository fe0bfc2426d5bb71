"""The webhook endpoint: Telegram's POSTed updates, each handled before it is acknowledged.

python-telegram-bot's own webhook server answers 200 as soon as an update is queued, so a crash
loses every update in its queue (Telegram does not send them again), and it reads a body of any
size. Here, as with ``handlers.polling``:

- the secret token is checked first (403 without it, compared in constant time);
- a body larger than ``telegram.max_webhook_body_bytes`` is refused with 413, and it is never
  read whole: the declared length is checked, then the stream is counted as it arrives;
- a body that is not a JSON object is refused with 400; an object that is not an update is
  logged by its id and acknowledged (200), so Telegram does not send it again and again;
- an update is answered 200 only after the handlers went through it, whose first step is to
  store the inquiry; after a crash Telegram delivers the unacknowledged ones again.

Updates of one chat are handled in order, different chats at once up to a bound.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from handlers.polling import chat_key

__all__ = ["SECRET_HEADER", "WebhookEndpoint", "webhook_app"]

logger = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]

# A header's name, not a secret (bandit B105 flags names containing "secret").
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # nosec B105
"""Where Telegram puts the ``secret_token`` given to ``setWebhook``."""


class TooLarge(Exception):
    """The body is longer than the limit."""


class WebhookEndpoint:
    """``POST /telegram``: checks, parses and handles one update, then acknowledges it."""

    def __init__(
        self, app: TelegramApp, *, secret: str, max_body_bytes: int, concurrency: int = 64
    ) -> None:
        self.app = app
        self._secret = secret.encode()
        self.max_body_bytes = max_body_bytes
        self._slots = asyncio.Semaphore(concurrency)
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        """Per chat: its lock and how many updates hold or wait for it."""
        self.handled = 0
        self.skipped = 0

    async def handle(self, request: Request) -> Response:
        """One POSTed update: 403, 413, 400, or 200 once handled (or skipped as unparseable)."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return Response(status_code=403)
        try:
            body = await self._body(request)
        except TooLarge:
            logger.warning("webhook body over %d bytes refused", self.max_body_bytes)
            return Response(status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return Response(status_code=400)
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception:  # noqa: BLE001 - acknowledged and skipped, never handled half
            self.skipped += 1
            logger.error("skipping update %r: it cannot be parsed", str(data.get("update_id"))[:20])
            return Response(status_code=200)
        await self._handle(update)
        return Response(status_code=200)

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise TooLarge
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                raise TooLarge
        return bytes(body)

    async def _handle(self, update: Update) -> None:
        key = chat_key(update)
        lock, users = self._chats.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock, self._slots:
                # process_update hands handler errors to the error handler; it does not raise.
                await self.app.process_update(update)
                self.handled += 1
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._chats[key]


def webhook_app(endpoint: WebhookEndpoint, path: str = "/telegram") -> Starlette:
    """The ASGI application serving ``endpoint`` at ``path`` (everything else: 404/405)."""
    return Starlette(routes=[Route(path, endpoint.handle, methods=["POST"])])
