"""Where half-filled /demand forms survive a restart: PTB's pickle file, written only on change.

python-telegram-bot's ``PicklePersistence`` rewrites its whole file whenever a person's
``user_data`` differs from the stored copy, and for someone who never opened a form that is an
empty dict against nothing: every new person cost a full rewrite of the file, inside the event
loop, every five seconds. With a thousand new people the bot stalled for the rewrites of a file
growing with each of them. Here an empty ``user_data`` of a person the file does not hold is not
a change, and only what the bot uses is kept (``user_data`` for the form's draft, and the
conversations); chat and bot data are not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram.ext import PersistenceInput, PicklePersistence

__all__ = ["FormPersistence"]


class FormPersistence(PicklePersistence[Any, Any, Any]):
    """The /demand form's state in one pickle file, rewritten only when a form changed."""

    def __init__(self, filepath: Path, *, update_interval: float = 5) -> None:
        super().__init__(
            filepath=filepath,
            store_data=PersistenceInput(bot_data=False, chat_data=False, callback_data=False),
            update_interval=update_interval,
        )

    async def update_user_data(self, user_id: int, data: Any) -> None:
        if not data and (self.user_data is None or user_id not in self.user_data):
            return  # nothing to keep for someone who never filled in a form
        await super().update_user_data(user_id, data)
