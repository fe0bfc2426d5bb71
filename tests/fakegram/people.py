"""The person side of the fake: users and chats as Telegram describes them.

Tests talk *as people* to the bot under test. These small value objects hold
what Telegram would know about a person or a chat and render the exact Bot API
JSON (``User`` / ``Chat``) that ends up inside updates, so the real
python-telegram-bot parses them like production traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
"""A Bot API object as decoded JSON."""


@dataclass(frozen=True)
class FakeUser:
    """A human Telegram account that writes to the bot.

    Attributes:
        id: The Telegram user id (also the id of their private chat).
        first_name: Display name.
        language_code: IETF tag Telegram reports for the client, e.g. ``"zh-hans"``.
        username: Optional ``@username`` without the ``@``.
    """

    id: int
    first_name: str
    language_code: str | None = "zh-hans"
    username: str | None = None

    def to_dict(self) -> JSON:
        """Render the Bot API ``User`` object.

        Returns:
            The user as Telegram sends it inside updates.
        """
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True)
class FakeChat:
    """A chat the bot can see: a private chat or a group.

    Attributes:
        id: Chat id (positive for private chats, negative for groups).
        type: ``"private"``, ``"group"`` or ``"supergroup"``.
        title: Group title (groups only).
        user: The counterpart of a private chat.
    """

    id: int
    type: str
    title: str | None = None
    user: FakeUser | None = None

    def to_dict(self) -> JSON:
        """Render the Bot API ``Chat`` object.

        Returns:
            The chat as Telegram sends it inside messages.
        """
        data: JSON = {"id": self.id, "type": self.type}
        if self.title is not None:
            data["title"] = self.title
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.username is not None:
                data["username"] = self.user.username
        return data
