"""What staff read from the inquiry log: the filtered inquiry list, one inquiry in full, demands.

The CLI, the web console and the staff group's ``/export`` list the same rows, so the query
and its filter live here once. Reads only; the writes are in ``bot.log.queries``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.log.models import Demand, Feedback, Inquiry, Person, Ticket, TicketMessage
from bot.log.queries import InquiryNotFound, storable_id

__all__ = [
    "InquiryFilter",
    "InquiryRow",
    "InquiryView",
    "count_inquiries",
    "count_rows",
    "get_inquiry",
    "list_demands",
    "list_inquiries",
]


@dataclass(frozen=True)
class InquiryRow:
    """One line of the staff's inquiry list."""

    id: int
    created_at: datetime
    person: str
    person_key: str
    audience: str | None
    channel: str
    text: str
    outcome: str
    entry_id: str | None
    entry_title: str | None
    score: float | None
    ticket_id: int | None
    status: str | None
    assignee: str | None
    helpful: bool | None = None
    """The person's latest rating of the answer (有帮助 / 没帮助), if any."""
    resolution_note: str | None = None
    resolved_at: datetime | None = None
    suggestions: list[Any] = field(default_factory=list)
    """The choices offered ("您是不是想问"), or the entries answered for several questions."""


def _rows_query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Inquiry.id,
            Inquiry.created_at,
            Person.display_name,
            Person.key,
            Inquiry.audience,
            Inquiry.channel,
            Inquiry.text,
            Inquiry.outcome,
            Inquiry.entry_id,
            Inquiry.entry_title,
            Inquiry.score,
            Inquiry.ticket_id,
            Ticket.status,
            Ticket.assignee,
            select(Feedback.helpful)
            .where(Feedback.inquiry_id == Inquiry.id)
            .order_by(Feedback.id.desc())
            .limit(1)
            .scalar_subquery(),
            Ticket.resolution_note,
            Ticket.resolved_at,
            Inquiry.suggestions,
        )
        .join(Person, Person.id == Inquiry.person_id)
        .outerjoin(Ticket, Ticket.id == Inquiry.ticket_id)
    )


@dataclass(frozen=True)
class InquiryFilter:
    """What the inquiry list is narrowed to (the CLI's options, the console's filter form)."""

    status: str | None = None
    """A ticket status, or ``none`` for inquiries without a ticket."""
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    audience: str | None = None
    entry_id: str | None = None
    search: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.status == "none":
            where.append(Inquiry.ticket_id.is_(None))
        elif self.status:
            where.append(Ticket.status == self.status)
        if self.outcome:
            where.append(Inquiry.outcome == self.outcome)
        if self.since:
            where.append(Inquiry.created_at >= self.since)
        if self.until:
            where.append(Inquiry.created_at < self.until)
        if self.audience:
            where.append(Inquiry.audience == self.audience)
        if self.entry_id:
            where.append(Inquiry.entry_id == self.entry_id)
        if self.search:
            pattern = f"%{self.search}%"
            where.append(
                or_(
                    Inquiry.text.like(pattern),
                    Inquiry.entry_title.like(pattern),
                    Person.display_name.like(pattern),
                )
            )
        return where


async def list_inquiries(
    session: AsyncSession,
    *,
    status: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    search: str | None = None,
    limit: int | None = 200,
    offset: int = 0,
    where: InquiryFilter | None = None,
) -> list[InquiryRow]:
    """Inquiries newest first, filtered by ticket status, outcome, date and text (or ``where``)."""
    where = where or InquiryFilter(status=status, outcome=outcome, since=since, search=search)
    newest_first = (Inquiry.created_at.desc(), Inquiry.id.desc())
    if limit is None and not offset:
        query = _rows_query().where(*where.clauses()).order_by(*newest_first)
    else:
        # A deferred join: the page's ids first (cheap columns only), then the full rows for
        # those alone. Otherwise every skipped row of a deep page is joined and its feedback
        # looked up before OFFSET drops it (page 500 of 100,000: 257 ms -> see bench_console).
        page = (
            select(Inquiry.id)
            .join(Person, Person.id == Inquiry.person_id)
            .outerjoin(Ticket, Ticket.id == Inquiry.ticket_id)
            .where(*where.clauses())
            .order_by(*newest_first)
            .offset(offset)
        )
        if limit is not None:
            page = page.limit(limit)
        query = _rows_query().where(Inquiry.id.in_(page.scalar_subquery())).order_by(*newest_first)
    return [InquiryRow(*row) for row in (await session.execute(query)).all()]


async def count_inquiries(session: AsyncSession, where: InquiryFilter) -> int:
    """How many inquiries ``where`` selects (for paging)."""
    query = (
        select(func.count())
        .select_from(Inquiry)
        .join(Person, Person.id == Inquiry.person_id)
        .outerjoin(Ticket, Ticket.id == Inquiry.ticket_id)
        .where(*where.clauses())
    )
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True)
class InquiryView:
    """Everything about one inquiry for ``inquiries show``."""

    row: InquiryRow
    suggestions: list[Any]
    feedback: list[Feedback]
    ticket: Ticket | None
    messages: list[TicketMessage] = field(default_factory=list)


async def get_inquiry(session: AsyncSession, inquiry_id: int) -> InquiryView:
    """One inquiry with its feedback, ticket and ticket messages."""
    if not storable_id(inquiry_id):
        raise InquiryNotFound(f"inquiry {inquiry_id} not found")
    row = (await session.execute(_rows_query().where(Inquiry.id == inquiry_id))).one_or_none()
    if row is None:
        raise InquiryNotFound(f"inquiry {inquiry_id} not found")
    view_row = InquiryRow(*row)
    suggestions = (
        await session.scalar(select(Inquiry.suggestions).where(Inquiry.id == inquiry_id)) or []
    )
    feedback = list(
        (await session.scalars(select(Feedback).where(Feedback.inquiry_id == inquiry_id))).all()
    )
    ticket = await session.get(Ticket, view_row.ticket_id) if view_row.ticket_id else None
    messages: list[TicketMessage] = []
    if ticket is not None:
        messages = list(
            (
                await session.scalars(
                    select(TicketMessage)
                    .where(TicketMessage.ticket_id == ticket.id)
                    .order_by(TicketMessage.id)
                )
            ).all()
        )
    return InquiryView(view_row, list(suggestions), feedback, ticket, messages)


async def count_rows(session: AsyncSession, model: type[Any]) -> int:
    """Number of rows of ``model`` (for tests and stats)."""
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def list_demands(session: AsyncSession, *, since: datetime | None = None) -> list[Demand]:
    """Recruitment needs, newest first."""
    query = select(Demand).order_by(Demand.created_at.desc(), Demand.id.desc())
    if since is not None:
        query = query.where(Demand.created_at >= since)
    return list((await session.scalars(query)).all())
