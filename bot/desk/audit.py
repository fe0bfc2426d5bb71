"""The audit log: who did what, when — every staff action in the console and the CLI.

Admins read it in the console. It holds names and ids, never what a person wrote.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.log.models import AuditEntry

__all__ = ["Audit"]


class Audit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def record(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        async with self.sessions.begin() as session:
            session.add(
                AuditEntry(actor=actor, action=action, target=target[:100], detail=detail[:500])
            )

    async def page(self, *, page: int = 0, size: int = 50) -> tuple[list[AuditEntry], int]:
        """Newest first: one page and the total count."""
        async with self.sessions() as session:
            total = int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
            rows = await session.scalars(
                select(AuditEntry)
                .order_by(AuditEntry.id.desc())
                .offset(max(0, page) * size)
                .limit(size)
            )
            return list(rows), total
