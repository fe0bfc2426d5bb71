"""Logging set-up that never writes a secret.

python-telegram-bot's HTTP client logs request URLs, and the Bot API puts the token in the
URL; database URLs carry passwords. A filter on every handler replaces each known secret with
``***`` before a record is written, whatever logger produced it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from bot.settings import Settings

__all__ = ["RedactingFilter", "configure_logging", "secrets_of"]


class RedactingFilter(logging.Filter):
    """Replaces secrets in the formatted message (and drops args already merged in)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def secrets_of(settings: Settings) -> list[str]:
    """The values that must never appear in a log line."""
    found = []
    if settings.telegram.token is not None:
        found.append(settings.telegram.token.get_secret_value())
    if settings.telegram.webhook_secret is not None:
        found.append(settings.telegram.webhook_secret.get_secret_value())
    password = make_url(settings.database.url).password
    if password:
        found.append(str(password))
    return found


def configure_logging(settings: Settings) -> RedactingFilter:
    """Root logging at the configured level, every handler redacting; quiet HTTP chatter."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=settings.logging.level
    )
    redactor = RedactingFilter(secrets_of(settings))
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return redactor
