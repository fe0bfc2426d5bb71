"""Logging set-up that never writes a secret.

python-telegram-bot's HTTP client logs request URLs, and the Bot API puts the token in the
URL; its ``InvalidToken`` names the token; database URLs carry passwords. Redacting only the
message is not enough: a record's exception text and traceback, and what Python prints for an
uncaught exception, carry them too. So the formatter of every handler redacts the whole
formatted record, and ``sys.excepthook`` redacts the last-resort traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType

from sqlalchemy.engine import make_url

from bot.settings import Settings

__all__ = [
    "RedactingFilter",
    "RedactingFormatter",
    "configure_logging",
    "install_excepthook",
    "redact",
    "secrets_of",
]


def _variants(secrets: Iterable[str]) -> list[str]:
    """Each secret, and a token's part after the colon (which alone is the secret part)."""
    found: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        found.add(secret)
        _, colon, tail = secret.partition(":")
        if colon and len(tail) >= 6:
            found.add(tail)
    return sorted((s for s in found if len(s) >= 6), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first) replaced by ``***``."""
    for secret in _variants(secrets):
        text = text.replace(secret, "***")
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole result: message, exception and stack."""

    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets = _variants(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def install_excepthook(secrets: Iterable[str]) -> None:
    """An uncaught exception is printed as Python would, with the secrets redacted."""
    known = _variants(secrets)

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(redact(text, known))

    sys.excepthook = hook


class RedactingFilter(logging.Filter):
    """Replaces secrets in the formatted message (and drops args already merged in)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = _variants(secrets)

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
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(format=fmt, level=settings.logging.level)
    secrets = secrets_of(settings)
    redactor = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
        handler.setFormatter(RedactingFormatter(secrets, fmt))
    install_excepthook(secrets)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return redactor
