"""The staff desk: tickets as specialists see and work them, without Telegram.

Cards for the staff group, the inbox, a ticket's history, take / reply / resolve, the person's
messages relayed while a specialist is on their ticket, satisfaction ratings, and the state of
SLA reminders and daily digests, which lives in the database so a restart loses none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.log import queries
from bot.log.inquiry_log import InquiryLog
from bot.log.models import (
    Inquiry,
    Person,
    StaffDigest,
    Ticket,
    TicketLink,
    TicketMessage,
    TicketStatus,
    utcnow,
)
from bot.texts import texts

__all__ = [
    "NOTE",
    "DeskError",
    "HistoryItem",
    "QueueRow",
    "StaffDesk",
    "TicketCard",
]

OPEN = queries.OPEN_STATUSES


DeskError = queries.TicketError
"""The ticket cannot do that (unknown, already resolved, not the person's)."""


@dataclass(frozen=True)
class TicketCard:
    """What a specialist needs to know about a ticket at a glance."""

    id: int
    status: str
    reason: str
    person_key: str
    person_name: str
    telegram_user_id: int | None
    audience: str | None
    language: str
    phone: str | None
    question: str
    bot_outcome: str | None
    bot_entry: str | None
    assignee: str | None
    opened_at: datetime
    card_chat_id: int | None
    card_message_id: int | None


@dataclass(frozen=True)
class HistoryItem:
    """One message of a ticket."""

    created_at: datetime
    author: str
    author_name: str
    text: str
    recipient: str = "staff"
    """``person`` (a reply), ``staff`` (the person's words) or ``note`` (staff only)."""

    @property
    def is_note(self) -> bool:
        return self.recipient == NOTE


NOTE = "note"
"""The recipient of a private note: specialists only, never delivered to the person."""


@dataclass(frozen=True)
class QueueRow:
    """One ticket in the console's inbox: one query for a whole page, no card per row."""

    id: int
    status: str
    reason: str
    person_name: str
    question: str
    assignee: str | None
    opened_at: datetime
    first_response_at: datetime | None


_FIRST_WORDS = (  # a ticket's first words from the person (its card, the queue)
    select(TicketMessage.text)
    .where(TicketMessage.ticket_id == Ticket.id, TicketMessage.author == "person")
    .order_by(TicketMessage.id)
    .limit(1)
    .scalar_subquery()
)
_CARD_DETAILS = (
    select(
        Person.key,
        Person.display_name,
        Person.telegram_user_id,
        Person.audience,
        Person.language,
        Person.phone,
        _FIRST_WORDS.label("first"),
        Inquiry.text.label("inquiry_text"),
        Inquiry.outcome,
        Inquiry.entry_title,
    )
    .select_from(Ticket)
    .join(Person, Person.id == Ticket.person_id)
    .outerjoin(Inquiry, Inquiry.id == Ticket.inquiry_id)
    .where(Ticket.id == bindparam("ticket"))
)
"""Who a ticket's card is about, their first words and what the bot made of them."""


class StaffDesk:
    """Ticket operations for specialists and the follow-up side of the conversation."""

    def __init__(self, log: InquiryLog) -> None:
        self.log = log

    async def _card(self, session: AsyncSession, ticket: Ticket) -> TicketCard:
        # One statement for the person, the first words and the bot's attempt: a card is drawn
        # for every unmatched question, and the ORM's three look-ups cost it most of its time.
        row = (await session.execute(_CARD_DETAILS, {"ticket": ticket.id})).one()
        return TicketCard(
            ticket.id,
            ticket.status,
            ticket.reason,
            row.key,
            row.display_name,
            row.telegram_user_id,
            row.audience,
            row.language,
            row.phone,
            row.first or row.inquiry_text or "",
            row.outcome,
            row.entry_title,
            ticket.assignee,
            ticket.opened_at,
            ticket.card_chat_id,
            ticket.card_message_id,
        )

    async def _ticket(self, session: AsyncSession, ticket_id: int) -> Ticket:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None:
            raise DeskError(f"ticket {ticket_id} not found")
        return ticket

    async def card(self, ticket_id: int) -> TicketCard:
        """The ticket's card; raises ``DeskError`` if there is no such ticket."""
        async with self.log.sessions() as session:
            return await self._card(session, await self._ticket(session, ticket_id))

    async def link(
        self, ticket_id: int, chat_id: int, message_id: int, *, is_card: bool = False
    ) -> None:
        """Remembers a staff-group message about the ticket (the card when ``is_card``)."""
        async with self.log.sessions.begin() as session:
            insert = (
                postgresql.insert
                if session.get_bind().dialect.name == "postgresql"
                else sqlite.insert
            )
            await session.execute(
                insert(TicketLink)
                .values(chat_id=chat_id, message_id=message_id, ticket_id=ticket_id)
                .on_conflict_do_nothing()
            )
            if is_card:
                await session.execute(
                    update(Ticket)
                    .where(Ticket.id == ticket_id)
                    .values(card_chat_id=chat_id, card_message_id=message_id)
                )

    async def ticket_for_message(self, chat_id: int, message_id: int) -> int | None:
        """The ticket a staff-group message belongs to, if the bot posted it."""
        async with self.log.sessions() as session:
            return await session.scalar(
                select(TicketLink.ticket_id).where(
                    TicketLink.chat_id == chat_id, TicketLink.message_id == message_id
                )
            )

    async def inbox(self, *, page: int = 0, size: int = 5) -> tuple[list[TicketCard], int]:
        """Open and in-progress tickets, oldest first: one page and the total count."""
        async with self.log.sessions() as session:
            total = int(
                await session.scalar(
                    select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN))
                )
                or 0
            )
            tickets = (
                await session.scalars(
                    select(Ticket)
                    .where(Ticket.status.in_(OPEN))
                    .order_by(Ticket.opened_at, Ticket.id)
                    .offset(max(0, page) * size)
                    .limit(size)
                )
            ).all()
            return [await self._card(session, t) for t in tickets], total

    async def history(self, ticket_id: int) -> tuple[TicketCard, list[HistoryItem]]:
        """The card and every message of the ticket, in order."""
        async with self.log.sessions() as session:
            ticket = await self._ticket(session, ticket_id)
            messages = (
                await session.scalars(
                    select(TicketMessage)
                    .where(TicketMessage.ticket_id == ticket_id)
                    .order_by(TicketMessage.id)
                )
            ).all()
            card = await self._card(session, ticket)
            return card, [
                HistoryItem(m.created_at, m.author, m.author_name, m.text, m.recipient)
                for m in messages
            ]

    async def take(self, ticket_id: int, staff: str) -> TicketCard:
        """Assigns the ticket to ``staff`` and marks it in progress."""
        async with self.log.sessions.begin() as session:
            ticket = await self._ticket(session, ticket_id)
            queries.take(ticket, staff)
            await session.flush()
            return await self._card(session, ticket)

    async def reply(self, ticket_id: int, staff: str, text: str) -> TicketCard:
        """Stores a specialist's reply (first response time, in progress, assignee)."""
        async with self.log.sessions.begin() as session:
            ticket = await self._ticket(session, ticket_id)
            if ticket.status == TicketStatus.RESOLVED.value:
                raise DeskError(f"ticket {ticket_id} is already resolved")
            await queries.add_staff_reply(session, ticket_id=ticket_id, staff=staff, text=text)
            return await self._card(session, ticket)

    async def note(self, ticket_id: int, staff: str, text: str) -> None:
        """A private note on the ticket: for specialists, never sent to the person."""
        async with self.log.sessions.begin() as session:
            await self._ticket(session, ticket_id)
            session.add(
                TicketMessage(
                    ticket_id=ticket_id,
                    author="staff",
                    author_name=staff,
                    recipient=NOTE,
                    text=text,
                )
            )

    async def queue(
        self, *, mine: str | None = None, status: str | None = None, page: int = 0, size: int = 50
    ) -> tuple[list[QueueRow], int]:
        """Open and in-progress tickets (or one status; or one specialist's), oldest first."""
        where: list[ColumnElement[bool]] = [
            Ticket.status == status if status else Ticket.status.in_(OPEN)
        ]
        if mine is not None:
            where.append(Ticket.assignee == mine)
        async with self.log.sessions() as session:
            total = int(
                await session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
            )
            rows = await session.execute(
                select(
                    Ticket.id,
                    Ticket.status,
                    Ticket.reason,
                    func.coalesce(func.nullif(Person.display_name, ""), Person.key),
                    func.coalesce(_FIRST_WORDS, Inquiry.text, ""),
                    Ticket.assignee,
                    Ticket.opened_at,
                    Ticket.first_response_at,
                )
                .join(Person, Person.id == Ticket.person_id)
                .outerjoin(Inquiry, Inquiry.id == Ticket.inquiry_id)
                .where(*where)
                .order_by(Ticket.opened_at, Ticket.id)
                .offset(max(0, page) * size)
                .limit(size)
            )
            return [QueueRow(*row) for row in rows.all()], total

    async def resolve(self, ticket_id: int, staff: str, note: str = "") -> TicketCard:
        """Resolves the ticket with an optional note."""
        async with self.log.sessions.begin() as session:
            ticket = await self._ticket(session, ticket_id)
            queries.close(ticket, note=note, staff=staff, now=utcnow())
            await session.flush()
            return await self._card(session, ticket)

    async def person_message(self, ticket_id: int, author_name: str, text: str) -> None:
        """Stores what the person wrote on their ticket."""
        async with self.log.sessions.begin() as session:
            session.add(
                TicketMessage(
                    ticket_id=ticket_id,
                    author="person",
                    author_name=author_name,
                    recipient="staff",
                    text=text,
                )
            )

    async def _owned(self, session: AsyncSession, ticket_id: int, person_key: str) -> Ticket:
        ticket = await self._ticket(session, ticket_id)
        owner = await session.scalar(select(Person.key).where(Person.id == ticket.person_id))
        if owner != person_key:
            raise DeskError(f"ticket {ticket_id} is not {person_key}'s")
        return ticket

    async def end_by_person(self, ticket_id: int, person_key: str) -> TicketCard:
        """The person tapped 结束咨询: the ticket is resolved on their word.

        A stale tap (the ticket was resolved meanwhile) raises ``DeskError``: nothing changes
        and the staff group is not told the person ended a conversation already closed.
        """
        async with self.log.sessions.begin() as session:
            ticket = await self._owned(session, ticket_id, person_key)
            note = texts("zh").t("cli.ended_note")
            queries.close(ticket, note=note, staff=None, now=utcnow(), by_staff=False)
            await session.flush()
            return await self._card(session, ticket)

    async def rate(self, ticket_id: int, person_key: str, rating: int) -> None:
        """Stores a 1-5 satisfaction rating for a resolved ticket of the person."""
        if not 1 <= rating <= 5:
            raise DeskError("rating must be 1 to 5")
        async with self.log.sessions.begin() as session:
            ticket = await self._owned(session, ticket_id, person_key)
            if ticket.status != TicketStatus.RESOLVED.value:
                raise DeskError(f"ticket {ticket_id} is not resolved")
            ticket.rating = rating

    async def due_for_reminder(
        self, *, sla: timedelta, now: datetime | None = None
    ) -> list[TicketCard]:
        """Unresolved tickets older than ``sla`` not re-announced within the last ``sla``."""
        now = now or utcnow()
        async with self.log.sessions() as session:
            tickets = (
                await session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.status.in_(OPEN),
                        Ticket.opened_at <= now - sla,
                        or_(Ticket.reminded_at.is_(None), Ticket.reminded_at <= now - sla),
                    )
                    .order_by(Ticket.opened_at)
                )
            ).all()
            return [await self._card(session, t) for t in tickets]

    async def without_card(self, *, opened_before: datetime, limit: int = 50) -> list[int]:
        """Unresolved tickets opened before then whose card never reached the staff group.

        Their card was still queued when the bot stopped, gave up on a long outage, or the
        ticket was opened elsewhere (the web chat, the spool's replay): the periodic check
        posts them.
        """
        async with self.log.engine.connect() as connection:
            rows = await connection.scalars(
                select(Ticket.id)
                .where(
                    Ticket.status.in_(OPEN),
                    Ticket.card_message_id.is_(None),
                    Ticket.opened_at <= opened_before,
                )
                .order_by(Ticket.id)
                .limit(limit)
            )
            return list(rows)

    async def mark_reminded(self, ticket_id: int, now: datetime | None = None) -> None:
        """Notes that the ticket was re-announced."""
        async with self.log.sessions.begin() as session:
            ticket = await self._ticket(session, ticket_id)
            ticket.reminded_at = now or utcnow()

    async def digest_sent(self, day: date) -> bool:
        """Whether the digest for ``day`` already went out."""
        async with self.log.sessions() as session:
            return await session.get(StaffDigest, day) is not None

    async def mark_digest(self, day: date) -> None:
        """Notes that the digest for ``day`` went out."""
        async with self.log.sessions.begin() as session:
            if await session.get(StaffDigest, day) is None:
                session.add(StaffDigest(day=day, sent_at=utcnow()))
