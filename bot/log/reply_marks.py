"""Marking replies as sent, so a redelivered update is not answered twice.

Marks made while one is being written share the next ``UPDATE``: under load a statement per
reply would cost the bot as much as the rest of the turn.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.log import queries
from bot.log.models import Inquiry, utcnow

__all__ = ["ReplyMarks"]

MAX_MARKS = 500
"""At most this many replies are marked as sent by one statement."""
_MARK = (
    update(Inquiry)
    .where(Inquiry.id.in_(bindparam("ids", expanding=True)))
    .values(replied_at=bindparam("now"))
)
"""Built once, so SQLAlchemy keys it once (see ``bot.log.recorder``)."""


class ReplyMarks:
    """Sets ``inquiries.replied_at``; ``autocommit``: the engine for single statements."""

    def __init__(self, autocommit: AsyncEngine) -> None:
        self._autocommit = autocommit
        self._marks: list[tuple[int, asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Finishes the marks in hand."""
        if self._marker is not None:
            await self._marker

    async def mark_replied(self, inquiry_id: int) -> None:
        """Notes that the reply to this inquiry went out; returns once that is committed."""
        if not queries.storable_id(inquiry_id):
            return
        done = asyncio.get_running_loop().create_future()
        self._marks.append((inquiry_id, done))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._write_marks(), name="inquiry-log-marks")
        await done

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks[:MAX_MARKS], self._marks[MAX_MARKS:]
            error: Exception | None = None
            try:
                # One UPDATE: no BEGIN/COMMIT round trips on PostgreSQL (autocommit).
                async with self._autocommit.begin() as connection:
                    await connection.execute(
                        _MARK, {"ids": [inquiry_id for inquiry_id, _ in batch], "now": utcnow()}
                    )
            except Exception as failed:  # noqa: BLE001 - each waiting caller gets it
                error = failed
            for _, done in batch:
                if done.done():
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)
