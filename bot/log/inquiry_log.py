"""The inquiry log as the conversation core sees it: record, feedback, hand over, forget.

One object over the database for the core, the staff desk and the CLI. Its parts each have a
module: ``bot.log.recorder`` commits inquiries (group commit; a durable spool while the
database is away, replayed when it is back), ``bot.log.person_state`` reads what the log holds
about a person as their message arrives, ``bot.log.reply_marks`` notes which replies went out;
``bot.log.queries`` holds the storage functions all of them use. The other actions here are
one transaction per call.

Texts are stored safely whatever they hold: NUL characters (which PostgreSQL text cannot
hold) become U+FFFD and texts longer than ``store_chars`` are cut to it. Ids from outside
(callback data, commands) beyond PostgreSQL's ``integer`` simply find nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.assistant import STORE_CHARS, Person, Recorded, Reply
from bot.log import queries
from bot.log.db import create_engine, session_factory, upgrade
from bot.log.direct import DirectWriter
from bot.log.models import Inquiry, Ticket, TicketLink, TicketReason
from bot.log.models import Person as PersonRow
from bot.log.person_state import PersonState, Profile, StateReader
from bot.log.queries import NotYours
from bot.log.recorder import Recorder, person_fields, redelivered
from bot.log.reply_marks import ReplyMarks
from bot.log.spool import Spool, default_spool_path
from knowledge.verdict import Outcome

__all__ = ["InquiryLog", "NotYours", "PersonState", "Profile"]


class InquiryLog:
    """The database behind the bot; build with ``InquiryLog.open(url)``.

    Args:
        engine: the database.
        spool: where inquiries go while the database is away (default: next to the database).
        store_chars: longer texts are stored cut to this many characters.
        retry_max_seconds: the longest wait between two attempts to replay the spool.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        spool: Spool | None = None,
        store_chars: int = STORE_CHARS,
        retry_max_seconds: float = 30.0,
    ) -> None:
        self.engine = engine
        # For single statements (the reads of each message, the replied marks). On PostgreSQL
        # each went out wrapped in BEGIN and ROLLBACK or COMMIT, three round trips instead of
        # one; dropping them saved about a seventh of the bot's CPU per reply under load. The
        # pool resets the connection to transactions when it comes back. SQLite's driver does
        # not begin a transaction for a read, and switching modes there costs a thread hop
        # each way.
        autocommit = (
            engine
            if engine.dialect.name == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self.recorder = Recorder(
            engine,
            spool if spool is not None else Spool(default_spool_path(str(engine.url))),
            store_chars=store_chars,
            retry_max_seconds=retry_max_seconds,
            direct=DirectWriter.for_engine(engine),
        )
        self.states = StateReader(autocommit)
        self.marks = ReplyMarks(autocommit)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrate: bool = True,
        echo: bool = False,
        spool_path: Path | None = None,
        store_chars: int = STORE_CHARS,
        retry_max_seconds: float = 30.0,
    ) -> InquiryLog:
        """Connects, (by default) upgrades the schema, and replays what an outage spooled."""
        engine = create_engine(url, echo=echo)
        if migrate:
            await upgrade(engine)
        log = cls(
            engine,
            spool=Spool(spool_path) if spool_path is not None else None,
            store_chars=store_chars,
            retry_max_seconds=retry_max_seconds,
        )
        if log.spooled:
            await log.replay()
            if log.spooled:
                log.recorder.ensure_writer()  # keeps retrying in the background
        return log

    async def close(self) -> None:
        """Finishes the records, marks and reads in hand, then releases the connection pool."""
        await self.recorder.close()
        await self.marks.close()
        await self.states.close()
        await self.engine.dispose()

    # -- the parts, as the core calls them ------------------------------------------------------

    @property
    def spool(self) -> Spool:
        """Where inquiries wait while the database is away."""
        return self.recorder.spool

    @property
    def spooled(self) -> int:
        """How many inquiries wait in the spool for the database."""
        return self.recorder.spooled

    async def replay(self) -> int:
        """Writes what the spool holds into the database (``Recorder.replay``)."""
        return await self.recorder.replay()

    def storable(self, text: str) -> str:
        """``text`` as it can be stored: NUL characters as U+FFFD, at most ``store_chars`` long."""
        return self.recorder.storable(text)

    async def record(
        self,
        person: Person,
        text: str,
        reply: Reply,
        *,
        channel: str,
        chat_id: str | None,
        update_id: int | None,
    ) -> Recorded:
        """Stores the inquiry (an unmatched one opens a ticket); returns once committed."""
        return await self.recorder.record(
            person, text, reply, channel=channel, chat_id=chat_id, update_id=update_id
        )

    async def mark_replied(self, inquiry_id: int) -> None:
        """Notes that the reply to this inquiry went out (so a redelivery is not answered again)."""
        await self.marks.mark_replied(inquiry_id)

    async def state(self, person_key: str) -> PersonState:
        """Profile, relayed ticket and dialogue state together (``StateReader.state``)."""
        return await self.states.state(person_key)

    async def last_entry(self, person_key: str) -> tuple[str, datetime] | None:
        """The entry answered last for the person and when (``StateReader.last_entry``)."""
        return await self.states.last_entry(person_key)

    # -- one transaction each -------------------------------------------------------------------

    async def _person_id(self, session: queries.Executor, person: Person) -> int:
        return await queries.touch_person(session, **person_fields(person))

    async def _owned_inquiry(
        self, session: AsyncSession, inquiry_id: int, person_key: str | None
    ) -> Inquiry:
        """The inquiry, if it exists and (when ``person_key`` is given) belongs to that person."""
        if not queries.storable_id(inquiry_id):
            raise queries.InquiryNotFound(f"inquiry {inquiry_id} not found")
        inquiry = await session.get(Inquiry, inquiry_id)
        if inquiry is None:
            raise queries.InquiryNotFound(f"inquiry {inquiry_id} not found")
        if person_key is not None:
            owner = await session.scalar(
                select(PersonRow.key).where(PersonRow.id == inquiry.person_id)
            )
            if owner != person_key:
                raise NotYours(f"inquiry {inquiry_id} does not belong to {person_key}")
        return inquiry

    async def feedback(
        self,
        inquiry_id: int,
        *,
        helpful: bool,
        comment: str | None = None,
        person_key: str | None = None,
    ) -> int | None:
        """Stores feedback; returns the ticket id when "not helpful" opened one.

        With ``person_key`` (every call from Telegram) the inquiry must be that person's.
        """
        async with self.engine.begin() as connection:
            return await queries.add_feedback(
                connection,
                inquiry_id=inquiry_id,
                helpful=helpful,
                comment=self.storable(comment) if comment is not None else None,
                owner=person_key,
            )

    async def request_human(
        self, person: Person, text: str, *, inquiry_id: int | None = None
    ) -> int:
        """Opens (or joins) a ticket because the person asked for a specialist."""
        async with self.sessions.begin() as session:
            if inquiry_id is not None:
                inquiry = await self._owned_inquiry(session, inquiry_id, person.key)
                text = text or inquiry.text
            text = self.storable(text)
            person_id = await self._person_id(session, person)
            return await queries.open_ticket(
                session,
                person_id=person_id,
                reason=TicketReason.HUMAN_REQUEST,
                text=text,
                inquiry_id=inquiry_id,
                author_name=person.display_name,
            )

    async def record_choice(
        self,
        person: Person,
        entry_id: str,
        title: str,
        *,
        via: str,
        chat_id: str | None,
        update_id: int | None,
        channel: str = "telegram",
    ) -> Recorded:
        """Logs an entry opened from the menu or a suggestion, so its feedback has an inquiry."""
        async with self.engine.begin() as connection:
            person_id = await self._person_id(connection, person)
            inquiry_id, created = await queries.log_inquiry(
                connection,
                person_id=person_id,
                channel=channel,
                audience=person.audience.value if person.audience else None,
                chat_id=chat_id,
                text=f"[{via}] {title}",
                outcome=Outcome.ANSWERED.value,
                entry_id=entry_id,
                entry_title=title,
                score=None,
                update_id=update_id,
            )
            if not created:
                return await redelivered(connection, inquiry_id)
        return Recorded(inquiry_id, None)

    async def profile(self, person_key: str) -> Profile | None:
        """What we remember about a person (role, phone), or ``None`` for someone new.

        Read with the state (every button tap reads it, so taps share reads with messages).
        While the database is away: ``None`` too, so the person is still answered.
        """
        return (await self.state(person_key)).profile

    async def remember(self, person: Person, *, phone: str | None = None) -> None:
        """Stores the person (with their chosen role) and, if given, their phone number."""
        async with self.engine.begin() as connection:
            person_id = await self._person_id(connection, person)
            if phone is not None:
                await connection.execute(
                    update(PersonRow).where(PersonRow.id == person_id).values(phone=phone)
                )

    async def mark_blocked(self, person_key: str) -> None:
        """Notes that the person blocked the bot, so nobody keeps retrying them."""
        async with self.engine.begin() as connection:
            await connection.execute(
                update(PersonRow).where(PersonRow.key == person_key).values(blocked_bot=True)
            )

    async def add_demand(
        self,
        person: Person,
        *,
        company: str,
        contact_name: str,
        contact_phone: str,
        positions: list[dict[str, Any]],
        needed_by: str,
        summary: str,
    ) -> tuple[int, int | None]:
        """Stores an enterprise's recruitment need and opens its ticket; returns (demand id, ticket id)."""
        async with self.sessions.begin() as session:
            person_id = await self._person_id(session, person)
            demand = await queries.add_demand(
                session,
                person_id=person_id,
                company=company,
                contact_name=contact_name,
                contact_phone=contact_phone,
                positions=positions,
                needed_by=needed_by,
                summary=summary,
            )
            return demand.id, demand.ticket_id

    async def staff_messages_of(self, person_key: str) -> list[tuple[int, int]]:
        """(chat id, message id) of every staff-group message the bot posted about the person.

        ``/forget`` redacts them in Telegram before the records that point to them are gone.
        """
        query = (
            select(TicketLink.chat_id, TicketLink.message_id)
            .join(Ticket, Ticket.id == TicketLink.ticket_id)
            .join(PersonRow, PersonRow.id == Ticket.person_id)
            .where(PersonRow.key == person_key)
        )
        async with self.sessions() as session:
            return [(int(c), int(m)) for c, m in (await session.execute(query)).all()]

    async def forget(self, person_key: str) -> bool:
        """Deletes everything stored about the person; False if nothing was stored."""
        async with self.sessions.begin() as session:
            return await queries.forget_person(session, person_key)
