"""Storage functions for the inquiry log. Each takes a session, flushes, and never commits.

The caller owns the transaction (one per incoming message), so "write the inquiry, open the
ticket" either happens completely or not at all. Inserts that can race (a person's first
message, a redelivered Telegram update) use the database's upsert, identical in effect on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from bot.log.models import (
    Base,
    Demand,
    Feedback,
    Inquiry,
    Person,
    Ticket,
    TicketMessage,
    TicketReason,
    TicketStatus,
    WebMessage,
    utcnow,
)
from bot.texts import texts

__all__ = [
    "InquiryNotFound",
    "NotYours",
    "TicketError",
    "add_demand",
    "add_feedback",
    "add_staff_reply",
    "assign_ticket",
    "forget_person",
    "log_inquiry",
    "log_inquiry_now",
    "open_ticket",
    "open_ticket_now",
    "purge_resolved",
    "resolve_ticket",
    "storable_id",
    "touch_people_now",
    "touch_person",
    "touch_person_now",
]

OPEN_STATUSES = (TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value)


MAX_ID = 2**31 - 1
"""The largest id an ``integer`` column holds on PostgreSQL."""


def storable_id(value: int) -> bool:
    """Whether ``value`` can be an id at all; a forged larger one simply finds nothing."""
    return 1 <= value <= MAX_ID


def relaying() -> ColumnElement[bool]:
    """Tickets a person is in conversation with the office on, so their messages are relayed.

    Once a specialist took or answered the ticket, or when the person asked for a person
    themselves; until then the bot answers them.
    """
    return or_(
        Ticket.status == TicketStatus.IN_PROGRESS.value,
        (Ticket.status == TicketStatus.OPEN.value)
        & (Ticket.reason == TicketReason.HUMAN_REQUEST.value),
    )


class InquiryNotFound(LookupError):
    """No inquiry (or ticket) with that id."""


class TicketError(ValueError):
    """The ticket cannot do what was asked (e.g. the inquiry has none)."""


Executor = AsyncSession | AsyncConnection
"""Hot-path functions run Core statements and accept a session or a bare connection."""

SyncExecutor = Session | Connection
"""The same on the synchronous side: the ``…_now`` functions, which the async ones run through
``run_sync`` and the inquiry log's direct SQLite writer calls as they are (one code path)."""


P = ParamSpec("P")
T = TypeVar("T")


def _awaitable(
    now: Callable[Concatenate[SyncExecutor, P], T],
) -> Callable[Concatenate[Executor, P], Awaitable[T]]:
    """The async form of a ``…_now`` function: the same statements, through ``run_sync``."""

    @wraps(now)
    async def run(session: Executor, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await session.run_sync(now, *args, **kwargs)

    return run


def _dialect(executor: SyncExecutor) -> str:
    if isinstance(executor, Connection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


@cache
def _person_upsert(dialect: str) -> Any:
    """Built once per dialect with bound parameters, so the hot path reuses a compiled statement.

    Optional fields (name, username, audience) only overwrite when the new value is given.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Person).values(
        key=bindparam("key"),
        channel=bindparam("channel"),
        display_name=bindparam("display_name"),
        language=bindparam("language"),
        audience=bindparam("audience"),
        telegram_user_id=bindparam("telegram_user_id"),
        username=bindparam("username"),
        blocked_bot=False,
        first_seen=bindparam("now"),
        last_seen=bindparam("now"),
    )
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[Person.key],
        set_={
            "last_seen": new.last_seen,
            "language": new.language,
            "blocked_bot": False,
            "display_name": func.coalesce(func.nullif(new.display_name, ""), Person.display_name),
            "username": func.coalesce(new.username, Person.username),
            "audience": func.coalesce(new.audience, Person.audience),
        },
    ).returning(Person.id)


@cache
def _people_upsert(dialect: str) -> Any:
    """``_person_upsert`` returning each row's key too, for ``touch_people``; built once."""
    return _person_upsert(dialect).returning(Person.key)


@cache
def _inquiry_insert(dialect: str) -> Any:
    """The inquiry insert, ignoring a duplicate Telegram update id; built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = (
        "person_id",
        "channel",
        "chat_id",
        "text",
        "outcome",
        "entry_id",
        "entry_title",
        "score",
        "suggestions",
        "update_id",
        "audience",
        "created_at",
    )
    statement = insert(Inquiry).values({name: bindparam(name) for name in columns})
    return statement.on_conflict_do_nothing(index_elements=[Inquiry.update_id]).returning(
        Inquiry.id
    )


def touch_person_now(
    session: SyncExecutor,
    *,
    key: str,
    channel: str,
    display_name: str = "",
    language: str = "zh",
    audience: str | None = None,
    telegram_user_id: int | None = None,
    username: str | None = None,
    now: datetime | None = None,
) -> int:
    """Creates or refreshes the person with ``key``; returns their id."""
    params = {
        "key": key,
        "channel": channel,
        "display_name": display_name,
        "language": language,
        "audience": audience,
        "telegram_user_id": telegram_user_id,
        "username": username,
        "now": now or utcnow(),
    }
    person_id: int = session.execute(_person_upsert(_dialect(session)), params).scalar_one()
    return person_id


def touch_people_now(
    session: SyncExecutor, people: Sequence[dict[str, Any]], *, now: datetime | None = None
) -> dict[str, int]:
    """``touch_person`` for several people in one statement; returns key -> id.

    Each dict has the keyword arguments of ``touch_person`` (``key`` and ``channel`` at least).
    Keys must be unique: one upsert statement may not touch the same row twice.
    """
    when = now or utcnow()
    rows = [
        {
            "key": p["key"],
            "channel": p["channel"],
            "display_name": p.get("display_name", ""),
            "language": p.get("language", "zh"),
            "audience": p.get("audience"),
            "telegram_user_id": p.get("telegram_user_id"),
            "username": p.get("username"),
            "now": when,
        }
        for p in people
    ]
    if not rows:
        return {}
    result = session.execute(_people_upsert(_dialect(session)), rows)
    return {key: person_id for person_id, key in result.all()}


def log_inquiry_now(
    session: SyncExecutor,
    *,
    person_id: int,
    channel: str,
    text: str,
    outcome: str,
    chat_id: str | None = None,
    entry_id: str | None = None,
    entry_title: str | None = None,
    score: float | None = None,
    suggestions: Sequence[dict[str, Any]] = (),
    update_id: int | None = None,
    audience: str | None = None,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Stores one inquiry; returns (id, created). A known ``update_id`` returns the first one."""
    params = {
        "person_id": person_id,
        "channel": channel,
        "chat_id": chat_id,
        "text": text,
        "outcome": outcome,
        "entry_id": entry_id,
        "entry_title": entry_title,
        "score": score,
        "suggestions": list(suggestions),
        "update_id": update_id,
        "audience": audience,
        "created_at": now or utcnow(),
    }
    inserted = session.execute(_inquiry_insert(_dialect(session)), params).scalar_one_or_none()
    if inserted is not None:
        return inserted, True
    existing = session.scalar(select(Inquiry.id).where(Inquiry.update_id == update_id))
    if existing is None:  # pragma: no cover - the conflict target is update_id
        raise RuntimeError("inquiry insert ignored without a duplicate update id")
    return existing, False


_TICKETS = Base.metadata.tables["tickets"]
_TICKET_MESSAGES = Base.metadata.tables["ticket_messages"]
_INQUIRIES = Base.metadata.tables["inquiries"]
_OPEN_TICKET_OF_PERSON = (
    select(Ticket.id)
    .where(Ticket.person_id == bindparam("person"), Ticket.status.in_(OPEN_STATUSES))
    .order_by(Ticket.id.desc())
    .limit(1)
)
_NEW_TICKET = (
    insert(_TICKETS)
    .values(
        person_id=bindparam("person"),
        inquiry_id=bindparam("inquiry"),
        reason=bindparam("reason"),
        status=TicketStatus.OPEN.value,
        opened_at=bindparam("now"),
    )
    .returning(Ticket.id)
)
_NEW_MESSAGE = insert(_TICKET_MESSAGES).values(
    ticket_id=bindparam("ticket"),
    author=bindparam("author"),
    author_name=bindparam("author_name"),
    recipient=bindparam("recipient"),
    text=bindparam("text"),
    created_at=bindparam("now"),
)
_LINK_INQUIRY = (
    update(_INQUIRIES)
    .where(Inquiry.id == bindparam("inquiry"))
    .values(ticket_id=bindparam("ticket"))
)


def open_ticket_now(
    session: SyncExecutor,
    *,
    person_id: int,
    reason: TicketReason,
    text: str,
    inquiry_id: int | None = None,
    author_name: str = "",
    now: datetime | None = None,
) -> int:
    """Opens a follow-up ticket, or adds to the person's ticket that is still open; returns its id.

    Core statements only, so the per-message hot path skips the ORM's unit of work.
    """
    now = now or utcnow()
    ticket_id = session.scalar(_OPEN_TICKET_OF_PERSON, {"person": person_id})
    if ticket_id is None:
        params = {"person": person_id, "inquiry": inquiry_id, "reason": reason.value, "now": now}
        ticket_id = session.execute(_NEW_TICKET, params).scalar_one()
    message = {
        "ticket": ticket_id,
        "author": "person",
        "author_name": author_name,
        "recipient": "staff",
    }
    text = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    session.execute(_NEW_MESSAGE, {**message, "text": text, "now": now})
    if inquiry_id is not None:
        session.execute(_LINK_INQUIRY, {"inquiry": inquiry_id, "ticket": ticket_id})
    return int(ticket_id)


touch_person = _awaitable(touch_person_now)
touch_people = _awaitable(touch_people_now)
log_inquiry = _awaitable(log_inquiry_now)
open_ticket = _awaitable(open_ticket_now)


class FeedbackExists(Exception):
    """One rating per answer: a quick second tap must not store a second row."""


class NotYours(PermissionError):
    """A button named an inquiry of somebody else (forged or stale callback data)."""


_RATED = select(Feedback.id).where(Feedback.inquiry_id == Inquiry.id).limit(1).scalar_subquery()
_FEEDBACK_TARGET = (
    select(Inquiry.text, Inquiry.person_id, Person.key, _RATED.label("rated"))
    .join(Person, Person.id == Inquiry.person_id)
    .where(Inquiry.id == bindparam("inquiry"))
)
"""The rated inquiry, its owner and whether it was rated: one read for a tap on 有帮助."""


async def add_feedback(
    session: Executor,
    *,
    inquiry_id: int,
    helpful: bool,
    comment: str | None = None,
    now: datetime | None = None,
    owner: str | None = None,
) -> int | None:
    """Stores feedback; "not helpful" opens (or joins) a ticket, whose id is returned.

    Core statements, one read and one insert: every answer carries the two buttons, and the
    ORM's identity map and unit of work cost a tap several times what the rows do.

    Raises:
        InquiryNotFound: no such inquiry (a forged or stale button).
        NotYours: ``owner`` is given and the inquiry is somebody else's.
        FeedbackExists: the inquiry was rated already (a second tap on the same button).
    """
    row = (
        (await session.execute(_FEEDBACK_TARGET, {"inquiry": inquiry_id})).one_or_none()
        if storable_id(inquiry_id)
        else None
    )
    if row is None:
        raise InquiryNotFound(f"inquiry {inquiry_id} not found")
    if owner is not None and row.key != owner:
        raise NotYours(f"inquiry {inquiry_id} does not belong to {owner}")
    if row.rated is not None:
        raise FeedbackExists(f"inquiry {inquiry_id} was rated already")
    await session.execute(
        insert(Feedback).values(
            inquiry_id=inquiry_id, helpful=helpful, comment=comment, created_at=now or utcnow()
        )
    )
    if helpful:
        return None
    text = (
        row.text
        if not comment
        else texts("zh").t("cli.feedback_note", text=row.text, comment=comment)
    )
    return await open_ticket(
        session,
        person_id=row.person_id,
        reason=TicketReason.NOT_HELPFUL,
        text=text,
        inquiry_id=inquiry_id,
        now=now,
    )


async def _ticket_for(session: AsyncSession, inquiry_id: int) -> Ticket:
    inquiry = await session.get(Inquiry, inquiry_id) if storable_id(inquiry_id) else None
    if inquiry is None:
        raise InquiryNotFound(f"inquiry {inquiry_id} not found")
    if inquiry.ticket_id is None:
        raise TicketError(
            f"inquiry {inquiry_id} has no follow-up ticket (outcome: {inquiry.outcome})"
        )
    ticket = await session.get(Ticket, inquiry.ticket_id)
    if ticket is None:  # pragma: no cover - foreign key
        raise TicketError(f"ticket {inquiry.ticket_id} is missing")
    return ticket


def take(ticket: Ticket, staff: str) -> None:
    """Gives ``ticket`` to ``staff`` and marks it in progress; resolved tickets stay closed."""
    if ticket.status == TicketStatus.RESOLVED.value:
        raise TicketError(f"ticket {ticket.id} is already resolved")
    ticket.assignee = staff
    ticket.status = TicketStatus.IN_PROGRESS.value


def close(
    ticket: Ticket, *, note: str | None, staff: str | None, now: datetime, by_staff: bool = True
) -> None:
    """Resolves ``ticket``. A specialist's resolution counts as a response if none came yet;
    a person ending the conversation does not."""
    if ticket.status == TicketStatus.RESOLVED.value:
        raise TicketError(f"ticket {ticket.id} is already resolved")
    ticket.status = TicketStatus.RESOLVED.value
    ticket.resolved_at = now
    ticket.resolution_note = note or None
    if by_staff:
        ticket.first_response_at = ticket.first_response_at or now
    if staff:
        ticket.assignee = ticket.assignee or staff


async def assign_ticket(session: AsyncSession, *, inquiry_id: int, staff: str) -> Ticket:
    """Gives the inquiry's ticket to ``staff`` and marks it in progress."""
    ticket = await _ticket_for(session, inquiry_id)
    take(ticket, staff)
    await session.flush()
    return ticket


async def add_staff_reply(
    session: AsyncSession, *, ticket_id: int, staff: str, text: str, now: datetime | None = None
) -> Ticket:
    """Records a specialist's reply; the first one sets the first-response time."""
    now = now or utcnow()
    ticket = await session.get(Ticket, ticket_id) if storable_id(ticket_id) else None
    if ticket is None:
        raise InquiryNotFound(f"ticket {ticket_id} not found")
    text = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    session.add(
        TicketMessage(
            ticket_id=ticket_id,
            author="staff",
            author_name=staff,
            recipient="person",
            text=text,
            created_at=now,
        )
    )
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    if ticket.status == TicketStatus.OPEN.value:
        ticket.status = TicketStatus.IN_PROGRESS.value
    ticket.assignee = ticket.assignee or staff
    await session.flush()
    return ticket


async def resolve_ticket(
    session: AsyncSession,
    *,
    inquiry_id: int,
    note: str,
    staff: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Resolves the inquiry's ticket with a note (which counts as a response if none came yet)."""
    ticket = await _ticket_for(session, inquiry_id)
    close(ticket, note=note, staff=staff, now=now or utcnow())
    await session.flush()
    return ticket


async def forget_person(session: AsyncSession, key: str) -> bool:
    """Deletes the person and everything stored about them; False if unknown."""
    person_id = await session.scalar(select(Person.id).where(Person.key == key))
    if person_id is None:
        return False
    inquiry_ids = select(Inquiry.id).where(Inquiry.person_id == person_id).scalar_subquery()
    ticket_ids = select(Ticket.id).where(Ticket.person_id == person_id).scalar_subquery()
    await session.execute(delete(Feedback).where(Feedback.inquiry_id.in_(inquiry_ids)))
    await session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(ticket_ids)))
    await session.execute(
        update(Inquiry).where(Inquiry.person_id == person_id).values(ticket_id=None)
    )
    await session.execute(delete(Demand).where(Demand.person_id == person_id))
    await session.execute(delete(Ticket).where(Ticket.person_id == person_id))
    await session.execute(delete(Inquiry).where(Inquiry.person_id == person_id))
    await session.execute(delete(Person).where(Person.id == person_id))
    await session.execute(delete(WebMessage).where(WebMessage.person_key == key))
    await session.flush()
    return True


@dataclass(frozen=True)
class PurgeResult:
    """How many records ``purge_resolved`` removed."""

    inquiries: int
    tickets: int


async def purge_resolved(
    session: AsyncSession, *, older_than_days: int, now: datetime | None = None
) -> PurgeResult:
    """Removes inquiries older than the cut-off unless their ticket is still open, and old resolved tickets."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    open_ticket_ids = select(Ticket.id).where(Ticket.status.in_(OPEN_STATUSES))
    old = select(Inquiry.id).where(
        Inquiry.created_at < cutoff,
        or_(Inquiry.ticket_id.is_(None), Inquiry.ticket_id.not_in(open_ticket_ids)),
    )
    old_ids = list((await session.scalars(old)).all())
    old_tickets = list(
        (
            await session.scalars(
                select(Ticket.id).where(
                    Ticket.status == TicketStatus.RESOLVED.value, Ticket.resolved_at < cutoff
                )
            )
        ).all()
    )
    if old_ids:
        await session.execute(delete(Feedback).where(Feedback.inquiry_id.in_(old_ids)))
        await session.execute(
            update(Ticket).where(Ticket.inquiry_id.in_(old_ids)).values(inquiry_id=None)
        )
        await session.execute(delete(Inquiry).where(Inquiry.id.in_(old_ids)))
    if old_tickets:
        await session.execute(
            update(Inquiry).where(Inquiry.ticket_id.in_(old_tickets)).values(ticket_id=None)
        )
        await session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(old_tickets)))
        await session.execute(delete(Ticket).where(Ticket.id.in_(old_tickets)))
    await session.flush()
    return PurgeResult(len(old_ids), len(old_tickets))


async def add_demand(
    session: AsyncSession,
    *,
    person_id: int,
    company: str,
    contact_name: str,
    contact_phone: str,
    positions: Sequence[dict[str, Any]],
    needed_by: str,
    summary: str,
    now: datetime | None = None,
) -> Demand:
    """Stores a recruitment need and opens a ticket for the service commissioners."""
    now = now or utcnow()
    ticket_id = await open_ticket(
        session,
        person_id=person_id,
        reason=TicketReason.DEMAND,
        text=summary,
        author_name=contact_name,
        now=now,
    )
    demand = Demand(
        person_id=person_id,
        company=company,
        contact_name=contact_name,
        contact_phone=contact_phone,
        positions=list(positions),
        needed_by=needed_by,
        ticket_id=ticket_id,
        created_at=now,
    )
    session.add(demand)
    await session.flush()
    return demand
