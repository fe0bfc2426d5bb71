"""The inquiry log as the conversation core sees it: record, feedback, hand over, forget.

Wraps the storage functions of ``bot.inquiries`` in one transaction per call, and implements
the core's ``InquiryRecorder``: the inquiry (and any ticket it opens) is committed before the
reply is returned to the channel that will send it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import inquiries
from bot.assistant import Person, Reply
from bot.db import create_engine, session_factory, upgrade
from bot.models import TicketReason
from knowledge.matcher import Outcome

__all__ = ["InquiryLog"]


def _channel_of(person: Person) -> str:
    return person.key.partition(":")[0] or "console"


def _telegram_id(person: Person) -> int | None:
    prefix, _, rest = person.key.partition(":")
    return int(rest) if prefix == "telegram" and rest.lstrip("-").isdigit() else None


class InquiryLog:
    """The database behind the bot; build with ``InquiryLog.open(url)``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(engine)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, echo: bool = False) -> InquiryLog:
        """Connects and (by default) upgrades the schema to the newest revision."""
        engine = create_engine(url, echo=echo)
        if migrate:
            await upgrade(engine)
        return cls(engine)

    async def close(self) -> None:
        """Releases the connection pool."""
        await self.engine.dispose()

    async def _person_id(self, session: inquiries.Executor, person: Person) -> int:
        return await inquiries.touch_person(
            session,
            key=person.key,
            channel=_channel_of(person),
            display_name=person.display_name,
            language=person.language,
            audience=person.audience.value if person.audience else None,
            telegram_user_id=_telegram_id(person),
        )

    async def record(
        self,
        person: Person,
        text: str,
        reply: Reply,
        *,
        channel: str,
        chat_id: str | None,
        update_id: int | None,
    ) -> tuple[int | None, int | None]:
        """Stores the inquiry; an unmatched one opens a ticket. Returns (inquiry id, ticket id)."""
        match = reply.match
        entry = reply.entry
        suggestions = [
            {"entry_id": c.entry.id, "title": c.entry.title, "score": c.score}
            for c in match.candidates
            if reply.outcome is Outcome.SUGGESTED
        ]
        async with self.engine.begin() as connection:
            person_id = await self._person_id(connection, person)
            inquiry_id, created = await inquiries.log_inquiry(
                connection,
                person_id=person_id,
                channel=channel,
                chat_id=chat_id,
                text=text,
                outcome=reply.outcome.value,
                entry_id=entry.id if entry else None,
                entry_title=entry.title if entry else None,
                score=match.score if reply.outcome is not Outcome.SMALLTALK else None,
                suggestions=suggestions,
                update_id=update_id,
            )
            ticket_id = None
            if created and reply.needs_follow_up:
                ticket_id = await inquiries.open_ticket(
                    connection,
                    person_id=person_id,
                    reason=TicketReason.UNMATCHED,
                    text=text,
                    inquiry_id=inquiry_id,
                    author_name=person.display_name,
                )
        return inquiry_id, ticket_id

    async def feedback(
        self, inquiry_id: int, *, helpful: bool, comment: str | None = None
    ) -> int | None:
        """Stores feedback; returns the ticket id when "not helpful" opened one."""
        async with self.sessions.begin() as session:
            return await inquiries.add_feedback(
                session, inquiry_id=inquiry_id, helpful=helpful, comment=comment
            )

    async def request_human(
        self, person: Person, text: str, *, inquiry_id: int | None = None
    ) -> int:
        """Opens (or joins) a ticket because the person asked for a specialist."""
        async with self.sessions.begin() as session:
            person_id = await self._person_id(session, person)
            return await inquiries.open_ticket(
                session,
                person_id=person_id,
                reason=TicketReason.HUMAN_REQUEST,
                text=text,
                inquiry_id=inquiry_id,
                author_name=person.display_name,
            )

    async def forget(self, person_key: str) -> bool:
        """Deletes everything stored about the person; False if nothing was stored."""
        async with self.sessions.begin() as session:
            return await inquiries.forget_person(session, person_key)
