"""The inquiry log as the conversation core sees it: record, feedback, hand over, forget.

Wraps the storage functions of ``bot.log.queries`` in one transaction per call, and implements
the core's ``InquiryRecorder``: the inquiry (and any ticket it opens) is committed before the
reply is returned to the channel that will send it.

When the database is away (PostgreSQL stopped, SQLite locked or read-only) an inquiry that
cannot be committed is kept in a durable local spool (``bot.log.spool``) instead, and the person
still gets their answer; the writer replays the spool into the database, in order and without
duplicates, as soon as it is back (retrying with backoff, and at start-up). Only when the
spool cannot be written either does ``record`` fail, so nothing claims a record not made.

Texts are stored safely whatever they hold: NUL characters (which PostgreSQL text cannot
hold) become U+FFFD and texts longer than ``store_chars`` are cut to it. Ids from outside
(callback data, commands) beyond PostgreSQL's ``integer`` simply find nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.assistant import LastEntry, Person, Recorded, Reply
from bot.log import queries
from bot.log.db import create_engine, session_factory, upgrade
from bot.log.models import Base, Inquiry, Ticket, TicketLink, TicketReason, utcnow
from bot.log.models import Person as PersonRow
from bot.log.queries import NotYours
from bot.log.spool import Spool, default_spool_path
from knowledge.schema import Audience
from knowledge.verdict import Outcome

__all__ = ["InquiryLog", "NotYours", "PersonState", "Profile", "database_unavailable"]

logger = logging.getLogger(__name__)

STORE_CHARS = 20_000
"""Default of ``limits.store_chars``: longer texts are stored cut to this many characters."""


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database is away (not that this record is bad)."""
    if isinstance(error, DBAPIError):
        return not isinstance(error, IntegrityError | DataError | ProgrammingError)
    # PoolTimeout: every pooled connection stayed busy for pool_timeout seconds.
    return isinstance(error, OSError | TimeoutError | PoolTimeout)


@dataclass(frozen=True)
class Profile:
    """What the bot remembers about a person between messages."""

    audience: Audience | None
    phone: str | None
    blocked_bot: bool


@dataclass(frozen=True)
class PersonState:
    """What the log holds about a person as a message arrives, read in one query."""

    profile: Profile | None = None
    """``None`` for someone new (or while the database is away)."""
    relay_ticket: int | None = None
    """The ticket the person talks to a specialist on (``queries.relaying``), if any."""
    last_entry: LastEntry | None = None
    """The entry answered last and when: the dialogue state a follow-up is read against."""


_AUDIENCES = frozenset(a.value for a in Audience)


def _profile_of(audience: str | None, phone: str | None, blocked_bot: bool) -> Profile:
    role = Audience(audience) if audience in _AUDIENCES else None
    return Profile(role, phone, blocked_bot)


_UNSCORED = (Outcome.SMALLTALK, Outcome.UNCLEAR, Outcome.HANDOVER)
"""Outcomes decided before any scoring: their inquiries store no score."""

_ANSWERING = (Outcome.ANSWERED.value, Outcome.MULTI.value)

MAX_BATCH = 200
"""At most this many inquiries share one transaction."""
MAX_STATES = 200
"""At most this many people's states are read by one statement."""
MAX_MARKS = 500
"""At most this many replies are marked as sent by one statement."""
_INQUIRIES = Base.metadata.tables["inquiries"]


def _answered_last(person_id: Any) -> Select[Any]:
    """The newest inquiry of the person that an entry answered (the dialogue state)."""
    return (
        select(Inquiry.id)
        .where(
            Inquiry.person_id == person_id,
            Inquiry.entry_id.is_not(None),
            Inquiry.outcome.in_(_ANSWERING),
        )
        .order_by(Inquiry.id.desc())
        .limit(1)
        .correlate_except(Inquiry)  # inside the state query the outer Inquiry is the join's
    )


def _state_query() -> Select[Any]:
    """Profile, relayed ticket and dialogue state of the people ``:keys``, in one statement.

    Three look-ups a message needs before it is understood; one round trip instead of three
    is most of what the database costs a busy bot per message. Messages arriving together
    share one (``InquiryLog.state``).
    """
    relay = (
        select(Ticket.id)
        .where(Ticket.person_id == PersonRow.id, queries.relaying())
        .order_by(Ticket.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    last = _answered_last(PersonRow.id).scalar_subquery()
    return (
        select(
            PersonRow.key,
            PersonRow.audience,
            PersonRow.phone,
            PersonRow.blocked_bot,
            relay.label("relay_ticket"),
            Inquiry.entry_id,
            Inquiry.created_at,
        )
        .select_from(PersonRow)
        .outerjoin(Inquiry, Inquiry.id == last)
        .where(PersonRow.key.in_(bindparam("keys", expanding=True)))
    )


_STATE = _state_query()


@dataclass(frozen=True)
class _Pending:
    """An inquiry waiting for the writer, and the future its caller awaits."""

    person: Person
    text: str
    reply: Reply
    channel: str
    chat_id: str | None
    update_id: int | None
    done: asyncio.Future[Recorded]


def _channel_of(person: Person) -> str:
    return person.key.partition(":")[0] or "console"


def _telegram_id(person: Person) -> int | None:
    prefix, _, rest = person.key.partition(":")
    return int(rest) if prefix == "telegram" and rest.lstrip("-").isdigit() else None


async def _redelivered(connection: AsyncConnection, inquiry_id: int) -> Recorded:
    """The inquiry a redelivered update already made, and whether its reply went out."""
    replied = await connection.scalar(select(Inquiry.replied_at).where(Inquiry.id == inquiry_id))
    return Recorded(inquiry_id, None, already_replied=replied is not None)


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
        self._autocommit = (
            engine
            if engine.dialect.name == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        """For single statements (the reads of each message, the replied marks). On PostgreSQL
        each went out wrapped in BEGIN and ROLLBACK or COMMIT, three round trips instead of one;
        dropping them saved about a seventh of the bot's CPU per reply under load. The pool
        resets the connection to transactions when it comes back. SQLite's driver does not
        begin a transaction for a read, and switching modes there costs a thread hop each way."""
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self.spool = spool if spool is not None else Spool(default_spool_path(str(engine.url)))
        self.store_chars = store_chars
        self.retry_max_seconds = retry_max_seconds
        self._retry_delay = 0.0
        self._retry_at = 0.0
        self._spooled = len(self.spool)
        self._queue: asyncio.Queue[_Pending | None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._marks: list[tuple[int, asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None
        self._wanted: list[tuple[str, asyncio.Future[PersonState]]] = []
        self._reader: asyncio.Task[None] | None = None

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
                log._ensure_writer()  # keeps retrying in the background
        return log

    @property
    def spooled(self) -> int:
        """How many inquiries wait in the spool for the database."""
        return self._spooled

    def _ensure_writer(self) -> asyncio.Queue[_Pending | None]:
        if self._writer is None or self._writer.done() or self._queue is None:
            self._queue = asyncio.Queue()
            self._writer = asyncio.create_task(
                self._write_batches(self._queue), name="inquiry-log-writer"
            )
        return self._queue

    async def close(self) -> None:
        """Finishes the records in hand, then releases the connection pool."""
        if self._writer is not None and not self._writer.done() and self._queue is not None:
            self._queue.put_nowait(None)
            await self._writer
        if self._marker is not None:
            await self._marker
        if self._reader is not None:
            await self._reader
        await self.engine.dispose()

    @staticmethod
    def _person_fields(person: Person) -> dict[str, Any]:
        return {
            "key": person.key,
            "channel": _channel_of(person),
            "display_name": person.display_name,
            "language": person.language,
            "audience": person.audience.value if person.audience else None,
            "telegram_user_id": _telegram_id(person),
        }

    async def _person_id(self, session: queries.Executor, person: Person) -> int:
        return await queries.touch_person(session, **self._person_fields(person))

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
        """Stores the inquiry; an unmatched one opens a ticket.

        Returns only after the inquiry is committed. Concurrent calls are committed together
        (group commit), which is what lets the log keep up with a busy bot.
        """
        pending = _Pending(
            person,
            self.storable(text),
            reply,
            channel,
            chat_id,
            update_id,
            asyncio.get_running_loop().create_future(),
        )
        self._ensure_writer().put_nowait(pending)
        return await pending.done

    def storable(self, text: str) -> str:
        """``text`` as it can be stored: NUL characters as U+FFFD, at most ``store_chars`` long."""
        text = text.replace("\x00", "\ufffd")
        return text[: self.store_chars]

    async def _write_batches(self, queue: asyncio.Queue[_Pending | None]) -> None:
        """The single writer: takes everything waiting, commits it in one transaction.

        While the spool holds inquiries it also replays them, with backoff between attempts;
        a new batch waits behind the spool (it is spooled too) so the order is kept.
        """
        while True:
            if self._spooled and queue.empty():
                wait = self._retry_at - time.monotonic()
                if wait <= 0:
                    await self.replay()
                    continue
                try:
                    first = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    continue
            else:
                first = await queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while not queue.empty() and len(batch) < MAX_BATCH:
                item = queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            if self._spooled and time.monotonic() >= self._retry_at:
                await self.replay()
            if self._spooled:
                self._spool_batch(batch, None)  # behind what waits already, to keep the order
            else:
                await self._commit(batch)
            if stop:
                return

    def _spool_record(self, pending: _Pending) -> dict[str, Any]:
        reason = self._follow_up_reason(pending)
        return {
            "person": self._person_fields(pending.person),
            "inquiry": self._inquiry_values(pending),
            "created_at": utcnow().isoformat(),
            "follow_up": reason.value if reason is not None else None,
            "author_name": pending.person.display_name,
        }

    def _spool_batch(self, batch: list[_Pending], error: BaseException | None) -> None:
        """Keeps the batch in the spool; if even that fails, its callers get the error."""
        try:
            self.spool.append([self._spool_record(p) for p in batch])
        except OSError as spool_error:
            logger.error(
                "database unavailable and spool %s not writable (%s); %d inquiries not stored",
                self.spool.path,
                type(spool_error).__name__,
                len(batch),
            )
            for pending in batch:
                self._settle(pending, error=error or spool_error)
            return
        if not self._spooled or error is not None:
            logger.warning(
                "database unavailable (%s); inquiries kept in %s until it is back",
                type(error).__name__ if error is not None else "still retrying",
                self.spool.path,
            )
        if error is not None:
            self._failed()
        self._spooled += len(batch)
        for pending in batch:
            self._settle(pending, result=Recorded(None))

    def _failed(self) -> None:
        """Backs off: the next replay waits twice as long as the last, up to the maximum."""
        self._retry_delay = min(max(0.5, self._retry_delay * 2), self.retry_max_seconds)
        self._retry_at = time.monotonic() + self._retry_delay

    async def replay(self) -> int:
        """Writes what the spool holds into the database, oldest first; returns how many.

        Stops (and backs off) at the first sign that the database is still away. A record the
        database refuses for itself is moved to ``<spool>.rejected`` and logged, so it cannot
        hold back the rest.
        """
        done = 0
        while True:
            chunk = self.spool.take(MAX_BATCH)
            if not chunk:
                break
            try:
                await self._replay_chunk(chunk)
            except Exception as error:  # noqa: BLE001 - classified: away, or one bad record
                if database_unavailable(error):
                    self._failed()
                    return done
                if len(chunk) > 1:
                    for record in chunk:
                        try:
                            await self._replay_chunk([record])
                        except Exception as single:  # noqa: BLE001 - see above
                            if database_unavailable(single):
                                self._failed()
                                return done
                            self._reject(record, single)
                        done += 1
                    self._spooled = len(self.spool)
                    continue
                self._reject(chunk[0], error)
                done += 1
                self._spooled = len(self.spool)
                continue
            self.spool.drop({record["spool_id"] for record in chunk})
            done += len(chunk)
            self._spooled = len(self.spool)
        self._spooled = 0
        if done:
            logger.info("replayed %d spooled inquiries into the database", done)
        self._retry_delay = 0.0
        self._retry_at = 0.0
        return done

    def _reject(self, record: dict[str, Any], error: BaseException) -> None:
        logger.error(
            "spooled inquiry %s refused by the database (%s); moved to %s.rejected",
            record.get("spool_id"),
            type(error).__name__,
            self.spool.path,
        )
        Spool(self.spool.path.with_name(self.spool.path.name + ".rejected")).append([record])
        self.spool.drop({record["spool_id"]})

    async def _replay_chunk(self, chunk: list[dict[str, Any]]) -> None:
        """One transaction for the chunk; an inquiry already stored is not stored again."""
        async with self.engine.begin() as connection:
            for record in chunk:
                created = datetime.fromisoformat(record["created_at"])
                values = dict(record["inquiry"])
                person_id = await queries.touch_person(connection, **record["person"], now=created)
                if values.get("update_id") is None:
                    existing = await connection.scalar(
                        select(Inquiry.id)
                        .where(
                            Inquiry.person_id == person_id,
                            Inquiry.created_at == created,
                            Inquiry.text == values["text"],
                        )
                        .limit(1)
                    )
                    if existing is not None:
                        continue
                inquiry_id, new = await queries.log_inquiry(
                    connection, person_id=person_id, now=created, **values
                )
                if new and record.get("follow_up"):
                    await queries.open_ticket(
                        connection,
                        person_id=person_id,
                        reason=TicketReason(record["follow_up"]),
                        text=values["text"],
                        inquiry_id=inquiry_id,
                        author_name=record.get("author_name", ""),
                        now=created,
                    )

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            async with self.engine.begin() as connection:
                people = {p.person.key: self._person_fields(p.person) for p in batch}
                if len(people) == 1:
                    (fields,) = people.values()
                    ids = {fields["key"]: await queries.touch_person(connection, **fields)}
                else:
                    ids = await queries.touch_people(connection, list(people.values()))
                if len(batch) == 1:
                    results = [await self._write(connection, batch[0], ids[batch[0].person.key])]
                else:
                    # One look-up and one multi-row insert for the whole batch, not a round trip per row.
                    results = await self._write_many(connection, batch, ids)
        except Exception as error:  # noqa: BLE001 - retried one by one, so one bad record fails alone
            if database_unavailable(error):
                self._spool_batch(batch, error)
                return
            if len(batch) == 1:
                self._settle(batch[0], error=sys.exc_info()[1])
                return
            for pending in batch:
                await self._commit([pending])
            return
        for pending, result in zip(batch, results, strict=True):
            self._settle(pending, result=result)

    @staticmethod
    def _settle(
        pending: _Pending,
        *,
        result: Recorded | None = None,
        error: BaseException | None = None,
    ) -> None:
        if pending.done.done():
            return
        if error is not None:
            pending.done.set_exception(error)
        else:
            pending.done.set_result(result or Recorded(None))

    @staticmethod
    def _inquiry_values(pending: _Pending) -> dict[str, Any]:
        """The inquiry's columns (all but the person) for one pending record."""
        reply = pending.reply
        match = reply.match
        entry = reply.entry
        return {
            "channel": pending.channel,
            "chat_id": pending.chat_id,
            "text": pending.text,
            "outcome": reply.outcome.value,
            "entry_id": entry.id if entry else None,
            "entry_title": entry.title if entry else None,
            "score": match.score if reply.outcome not in _UNSCORED else None,
            # For "您是不是想问" the choices offered; for several questions the entries answered.
            "suggestions": [
                {"entry_id": c.entry.id, "title": c.entry.title, "score": c.score}
                for c in match.candidates
                if reply.outcome in (Outcome.SUGGESTED, Outcome.MULTI)
            ],
            "update_id": pending.update_id,
            "audience": pending.person.audience.value if pending.person.audience else None,
        }

    @staticmethod
    def _follow_up_reason(pending: _Pending) -> TicketReason | None:
        if not pending.reply.needs_follow_up:
            return None
        if pending.reply.outcome is Outcome.HANDOVER:
            return TicketReason.HUMAN_REQUEST
        return TicketReason.UNMATCHED

    async def _follow_up(
        self, connection: AsyncConnection, pending: _Pending, person_id: int, inquiry_id: int
    ) -> int | None:
        reason = self._follow_up_reason(pending)
        if reason is None:
            return None
        return await queries.open_ticket(
            connection,
            person_id=person_id,
            reason=reason,
            text=pending.text,
            inquiry_id=inquiry_id,
            author_name=pending.person.display_name,
        )

    async def _write(
        self, connection: AsyncConnection, pending: _Pending, person_id: int
    ) -> Recorded:
        """One record: insert (or find the redelivered one), then open or join a ticket."""
        inquiry_id, created = await queries.log_inquiry(
            connection, person_id=person_id, **self._inquiry_values(pending)
        )
        if not created:
            return await _redelivered(connection, inquiry_id)
        return Recorded(
            inquiry_id, await self._follow_up(connection, pending, person_id, inquiry_id)
        )

    async def _write_many(
        self, connection: AsyncConnection, batch: list[_Pending], person_ids: dict[str, int]
    ) -> list[Recorded]:
        """A batch: one look-up of known update ids, one multi-row insert, then the tickets."""
        wanted = {p.update_id for p in batch if p.update_id is not None}
        known: dict[int, tuple[int, bool]] = {}
        if wanted:
            rows = await connection.execute(
                select(Inquiry.update_id, Inquiry.id, Inquiry.replied_at).where(
                    Inquiry.update_id.in_(wanted)
                )
            )
            known = {int(u): (int(i), r is not None) for u, i, r in rows if u is not None}
        fresh: list[_Pending] = []
        taken: set[int] = set()
        for pending in batch:
            if pending.update_id is None or (
                pending.update_id not in known and pending.update_id not in taken
            ):
                fresh.append(pending)
                if pending.update_id is not None:
                    taken.add(pending.update_id)
        now = utcnow()
        values = [
            {**self._inquiry_values(p), "person_id": person_ids[p.person.key], "created_at": now}
            for p in fresh
        ]
        new_ids: list[int] = []
        if values:
            result = await connection.execute(
                insert(_INQUIRIES).returning(_INQUIRIES.c.id, sort_by_parameter_order=True), values
            )
            new_ids = list(result.scalars())
        created = dict(zip((id(p) for p in fresh), new_ids, strict=True))
        by_update = {p.update_id: created[id(p)] for p in fresh if p.update_id is not None}
        results = []
        for pending in batch:
            if id(pending) in created:
                inquiry_id = created[id(pending)]
                person_id = person_ids[pending.person.key]
                results.append(
                    Recorded(
                        inquiry_id,
                        await self._follow_up(connection, pending, person_id, inquiry_id),
                    )
                )
            elif pending.update_id in known:
                inquiry_id, replied = known[pending.update_id]
                results.append(Recorded(inquiry_id, None, already_replied=replied))
            else:  # the same update twice in one batch
                assert pending.update_id is not None
                results.append(Recorded(by_update[pending.update_id], None))
        return results

    async def mark_replied(self, inquiry_id: int) -> None:
        """Notes that the reply to this inquiry went out (so a redelivery is not answered again).

        Returns once that is committed. Marks made meanwhile share one ``UPDATE``: under load
        a statement per reply would cost the bot as much as the rest of the turn.
        """
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
                        update(Inquiry)
                        .where(Inquiry.id.in_([inquiry_id for inquiry_id, _ in batch]))
                        .values(replied_at=utcnow())
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
                return await _redelivered(connection, inquiry_id)
        return Recorded(inquiry_id, None)

    async def last_entry(self, person_key: str) -> tuple[str, datetime] | None:
        """The entry answered last for the person (from the log itself) and when.

        The dialogue state is the newest answered inquiry, so it is in the database, is gone
        after ``forget`` and needs no table of its own; the conversation core expires it.
        While the database is away there is none (the question is answered on its own).
        """
        try:
            return await self._last_entry(person_key)
        except Exception as error:
            if not database_unavailable(error):
                raise
            logger.warning("database unavailable (%s); no dialogue state", type(error).__name__)
            return None

    async def _last_entry(self, person_key: str) -> tuple[str, datetime] | None:
        person = select(PersonRow.id).where(PersonRow.key == person_key).scalar_subquery()
        last = _answered_last(person).scalar_subquery()
        async with self._autocommit.connect() as connection:
            row = (
                await connection.execute(
                    select(Inquiry.entry_id, Inquiry.created_at).where(Inquiry.id == last)
                )
            ).one_or_none()
        if row is None or row.entry_id is None:
            return None
        return row.entry_id, row.created_at

    async def state(self, person_key: str) -> PersonState:
        """Profile, relayed ticket and dialogue state together, as a message arrives.

        Reads asked for while one is under way share the next statement, as records share a
        commit: on SQLite a lone read costs some 0.7 ms of the bot's CPU in the driver's thread
        hops for 5 µs of SQLite's work, so under load one read per message was a tenth of the
        bot's time. A person's next message is read only after their last one was recorded,
        so a shared read never misses what that person did.

        While the database is away: an empty state, so the person is still answered.
        """
        wanted: asyncio.Future[PersonState] = asyncio.get_running_loop().create_future()
        self._wanted.append((person_key, wanted))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_states(), name="inquiry-log-states")
        return await wanted

    async def _read_states(self) -> None:
        while self._wanted:
            batch, self._wanted = self._wanted[:MAX_STATES], self._wanted[MAX_STATES:]
            try:
                states = await self._states({key for key, _ in batch})
            except Exception as error:  # noqa: BLE001 - handed to every caller of the batch
                for _, wanted in batch:
                    if not wanted.done():
                        wanted.set_exception(error)
                continue
            for key, wanted in batch:
                if not wanted.done():
                    wanted.set_result(states.get(key, PersonState()))

    async def _states(self, keys: set[str]) -> dict[str, PersonState]:
        try:
            async with self._autocommit.connect() as connection:
                rows = (await connection.execute(_STATE, {"keys": sorted(keys)})).all()
        except Exception as error:
            if not database_unavailable(error):
                raise
            logger.warning("database unavailable (%s); no person state", type(error).__name__)
            return {}
        return {
            row.key: PersonState(
                _profile_of(row.audience, row.phone, row.blocked_bot),
                row.relay_ticket,
                (row.entry_id, row.created_at) if row.entry_id is not None else None,
            )
            for row in rows
        }

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
