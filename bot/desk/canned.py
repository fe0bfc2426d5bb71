"""Canned replies: ready answers specialists insert into a reply, kept in the database."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.log.models import AuditEntry, CannedReply, utcnow

__all__ = ["CannedError", "CannedReplies"]


class CannedError(Exception):
    """A canned reply that cannot be saved (blank, too long)."""


class CannedReplies:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def all(self) -> list[CannedReply]:
        async with self.sessions() as session:
            return list(await session.scalars(select(CannedReply).order_by(CannedReply.title)))

    async def save(self, title: str, text: str, *, actor: str) -> None:
        """Adds a reply, or replaces the text of the one with this title."""
        title, text = title.strip(), text.strip()
        if not title or not text or len(title) > 100 or len(text) > 4000:
            raise CannedError("title (1-100 characters) and text (1-4000) are needed")
        async with self.sessions.begin() as session:
            row = await session.scalar(select(CannedReply).where(CannedReply.title == title))
            if row is None:
                session.add(CannedReply(title=title, text=text, updated_by=actor))
            else:
                row.text, row.updated_by, row.updated_at = text, actor, utcnow()
            session.add(AuditEntry(actor=actor, action="canned.save", target=title, detail=""))

    async def remove(self, reply_id: int, *, actor: str) -> None:
        async with self.sessions.begin() as session:
            title = await session.scalar(
                select(CannedReply.title).where(CannedReply.id == reply_id)
            )
            if title is None:
                return
            await session.execute(delete(CannedReply).where(CannedReply.id == reply_id))
            session.add(AuditEntry(actor=actor, action="canned.remove", target=title, detail=""))
