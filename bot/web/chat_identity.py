"""Who is chatting, without accounts: an anonymous id in a signed cookie.

The cookie holds ``<random id>.<HMAC>``; the person is ``web:<random id>`` in the inquiry log,
as ``telegram:<id>`` is for Telegram. Nothing personal is stored unless the person gives it (a
phone number for a call back). The CSRF token of a chat page is derived from the same secret and
the id, so it needs no storage and differs for every visitor.

The secret comes from ``TALENTBOT_WEB__CHAT_SECRET``; without it, one is generated once and
kept in ``data/chat_secret`` readable by its owner only, so visitors keep their chats across
restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings

__all__ = ["CHAT_COOKIE", "ChatIdentity"]

CHAT_COOKIE = "tb_chat"
SECRET_FILE = PROJECT_ROOT / "data" / "chat_secret"


def _load_secret(settings: Settings, path: Path = SECRET_FILE) -> bytes:
    configured = settings.web.chat_secret
    if configured is not None:
        return configured.get_secret_value().encode()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32).encode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secret)
        return secret


class ChatIdentity:
    """Issues and checks the anonymous chat cookie and the page's CSRF token."""

    def __init__(self, settings: Settings, secret_file: Path = SECRET_FILE) -> None:
        self._secret = _load_secret(settings, secret_file)

    def _sign(self, purpose: str, value: str) -> str:
        return hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def new_cookie(self) -> tuple[str, str]:
        """A fresh visitor: (cookie value, person key)."""
        visitor = secrets.token_hex(12)
        return f"{visitor}.{self._sign('id', visitor)}", f"web:{visitor}"

    def person_key(self, cookie: str | None) -> str | None:
        """The person key of a well-signed cookie, else ``None`` (a forged or foreign value)."""
        if not cookie or len(cookie) > 200 or "." not in cookie:
            return None
        visitor, _, signature = cookie.partition(".")
        if not (visitor.isalnum() and hmac.compare_digest(signature, self._sign("id", visitor))):
            return None
        return f"web:{visitor}"

    def csrf(self, person_key: str) -> str:
        return self._sign("csrf", person_key)[:32]

    def csrf_ok(self, person_key: str, given: object) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given, self.csrf(person_key))
