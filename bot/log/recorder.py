"""Recording inquiries: group commit, and a durable spool while the database is away.

``Recorder.record`` returns once the inquiry (and any ticket it opens) is committed; records
asked for together share one transaction, which is what lets the log keep up with a busy bot.
When the database is away (PostgreSQL stopped, SQLite locked or read-only) an inquiry that
cannot be committed is kept in a durable local spool (``bot.log.spool``) instead, and the person
still gets their answer; the single writer replays the spool into the database, in order and
without duplicates, as soon as it is back (retrying with backoff, and at start-up). Only when
the spool cannot be written either does ``record`` fail, so nothing claims a record not made.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.assistant import STORE_CHARS, Person, Recorded, Reply
from bot.log import queries
from bot.log.db import database_unavailable
from bot.log.direct import DirectWriter
from bot.log.models import Base, Inquiry, TicketReason, utcnow
from bot.log.spool import Spool
from knowledge.verdict import Outcome

__all__ = ["Recorder", "person_fields", "redelivered", "redelivered_now"]

logger = logging.getLogger(__name__)

MAX_BATCH = 200
"""At most this many inquiries share one transaction."""
_INQUIRIES = Base.metadata.tables["inquiries"]
# The batch's statements are built once: SQLAlchemy memoises a statement's cache key on the
# statement object, so one built per batch was keyed afresh each time (a few % of the bot).
_KNOWN_UPDATES = select(Inquiry.update_id, Inquiry.id, Inquiry.replied_at).where(
    Inquiry.update_id.in_(bindparam("update_ids", expanding=True))
)
_INSERT_MANY = insert(_INQUIRIES).returning(_INQUIRIES.c.id, sort_by_parameter_order=True)
_UNSCORED = (Outcome.SMALLTALK, Outcome.UNCLEAR, Outcome.HANDOVER)
"""Outcomes decided before any scoring: their inquiries store no score."""


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


def redelivered_now(connection: Connection, inquiry_id: int) -> Recorded:
    """The inquiry a redelivered update already made, and whether its reply went out."""
    replied = connection.scalar(select(Inquiry.replied_at).where(Inquiry.id == inquiry_id))
    return Recorded(inquiry_id, None, already_replied=replied is not None)


async def redelivered(connection: AsyncConnection, inquiry_id: int) -> Recorded:
    """``redelivered_now`` on an async connection."""
    return await connection.run_sync(redelivered_now, inquiry_id)


def person_fields(person: Person) -> dict[str, Any]:
    """The person's columns as the log stores them."""
    return {
        "key": person.key,
        "channel": _channel_of(person),
        "display_name": person.display_name,
        "language": person.language,
        "audience": person.audience.value if person.audience else None,
        "telegram_user_id": _telegram_id(person),
    }


class Recorder:
    """Writes inquiries through one writer task; build it with the log's engine and spool.

    Args:
        engine: the database.
        spool: where inquiries go while the database is away.
        store_chars: longer texts are stored cut to this many characters.
        retry_max_seconds: the longest wait between two attempts to replay the spool.
        direct: writes batches in place when the database is a SQLite file (see
            ``bot.log.direct``); without it, or while its lock is taken, through ``engine``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        spool: Spool,
        *,
        store_chars: int = STORE_CHARS,
        retry_max_seconds: float = 30.0,
        direct: DirectWriter | None = None,
    ) -> None:
        self.engine = engine
        self.spool = spool
        self.direct = direct
        self.store_chars = store_chars
        self.retry_max_seconds = retry_max_seconds
        self._retry_delay = 0.0
        self._retry_at = 0.0
        self._spooled = len(self.spool)
        self._queue: asyncio.Queue[_Pending | None] | None = None
        self._writer: asyncio.Task[None] | None = None

    @property
    def spooled(self) -> int:
        """How many inquiries wait in the spool for the database."""
        return self._spooled

    def ensure_writer(self) -> asyncio.Queue[_Pending | None]:
        """The writer's queue, starting the writer if it is not running (a spool left at
        start-up starts it too, so replay keeps being retried in the background)."""
        if self._writer is None or self._writer.done() or self._queue is None:
            self._queue = asyncio.Queue()
            self._writer = asyncio.create_task(
                self._write_batches(self._queue), name="inquiry-log-writer"
            )
        return self._queue

    async def close(self) -> None:
        """Finishes the records in hand."""
        if self._writer is not None and not self._writer.done() and self._queue is not None:
            self._queue.put_nowait(None)
            await self._writer
        if self.direct is not None:
            await self.direct.close()

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
        self.ensure_writer().put_nowait(pending)
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
            "person": person_fields(pending.person),
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
            results = self.direct.write(self._write_batch, batch) if self.direct else None
            if results is None:  # no direct writer, or its lock is taken: the pool's way
                async with self.engine.begin() as connection:
                    results = await connection.run_sync(self._write_batch, batch)
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

    def _write_batch(self, connection: Connection, batch: list[_Pending]) -> list[Recorded]:
        """The batch's people, inquiries and tickets, in the caller's transaction."""
        people = {p.person.key: person_fields(p.person) for p in batch}
        if len(people) == 1:
            (fields,) = people.values()
            ids = {fields["key"]: queries.touch_person_now(connection, **fields)}
        else:
            ids = queries.touch_people_now(connection, list(people.values()))
        if len(batch) == 1:
            return [self._write(connection, batch[0], ids[batch[0].person.key])]
        # One look-up and one multi-row insert for the whole batch, not a round trip per row.
        return self._write_many(connection, batch, ids)

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
                c.as_dict()
                for c in match.candidates
                if reply.outcome in (Outcome.SUGGESTED, Outcome.MULTI)
            ]
            # Offered under an answer to a message asking several things.
            + [{**c.as_dict(), "also": True} for c in match.also],
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

    def _follow_up(
        self, connection: Connection, pending: _Pending, person_id: int, inquiry_id: int
    ) -> int | None:
        reason = self._follow_up_reason(pending)
        if reason is None:
            return None
        return queries.open_ticket_now(
            connection,
            person_id=person_id,
            reason=reason,
            text=pending.text,
            inquiry_id=inquiry_id,
            author_name=pending.person.display_name,
        )

    def _write(self, connection: Connection, pending: _Pending, person_id: int) -> Recorded:
        """One record: insert (or find the redelivered one), then open or join a ticket."""
        inquiry_id, created = queries.log_inquiry_now(
            connection, person_id=person_id, **self._inquiry_values(pending)
        )
        if not created:
            return redelivered_now(connection, inquiry_id)
        return Recorded(inquiry_id, self._follow_up(connection, pending, person_id, inquiry_id))

    def _write_many(
        self, connection: Connection, batch: list[_Pending], person_ids: dict[str, int]
    ) -> list[Recorded]:
        """A batch: one look-up of known update ids, one multi-row insert, then the tickets."""
        wanted = {p.update_id for p in batch if p.update_id is not None}
        known: dict[int, tuple[int, bool]] = {}
        if wanted:
            rows = connection.execute(_KNOWN_UPDATES, {"update_ids": sorted(wanted)})
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
            result = connection.execute(_INSERT_MANY, values)
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
                        inquiry_id, self._follow_up(connection, pending, person_id, inquiry_id)
                    )
                )
            elif pending.update_id in known:
                inquiry_id, replied = known[pending.update_id]
                results.append(Recorded(inquiry_id, None, already_replied=replied))
            else:  # the same update twice in one batch
                assert pending.update_id is not None
                results.append(Recorded(by_update[pending.update_id], None))
        return results
