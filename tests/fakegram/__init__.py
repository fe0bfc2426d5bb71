"""fakegram: a fake Telegram Bot API server for end-to-end tests of talentbot.

The bot under test runs the real python-telegram-bot ``Application`` against
:class:`FakeTelegram` (``base_url`` on 127.0.0.1), so tests cover the actual
HTTP conversation with Telegram, not mocks of it. See ``server.py`` for the
rationale and ``test_fakegram.py`` for usage.
"""

from tests.fakegram.markup import ApiError, html_to_plain, render_text
from tests.fakegram.people import JSON, FakeChat, FakeUser
from tests.fakegram.server import (
    DEFAULT_TOKEN,
    SECRET_HEADER,
    ChatRef,
    FakeDocument,
    FakegramError,
    FakeTelegram,
    Fault,
    FaultKind,
    RecordedRequest,
    SentRequest,
    WebhookDelivery,
)

__all__ = [
    "DEFAULT_TOKEN",
    "JSON",
    "SECRET_HEADER",
    "ApiError",
    "ChatRef",
    "FakeChat",
    "FakeDocument",
    "FakeTelegram",
    "FakeUser",
    "FakegramError",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "SentRequest",
    "WebhookDelivery",
    "html_to_plain",
    "render_text",
]
