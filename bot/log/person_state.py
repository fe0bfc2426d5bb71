"""What the log holds about a person as their message arrives, read in shared statements.

Before a message is understood the bot needs three things about its sender: their profile
(role, phone), the ticket they may be talking to a specialist on, and the entry answered last
(the dialogue state a follow-up is read against). ``StateReader`` reads all three in one
statement, and messages arriving together share it. While the database is away the reads
come back empty, so the person is still answered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.assistant import LastEntry
from bot.log import queries
from bot.log.db import database_unavailable
from bot.log.models import Inquiry, Ticket
from bot.log.models import Person as PersonRow
from knowledge.schema import Audience
from knowledge.verdict import Outcome

__all__ = ["PersonState", "Profile", "StateReader"]

logger = logging.getLogger(__name__)

MAX_STATES = 200
"""At most this many people's states are read by one statement."""


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
_ANSWERING = (Outcome.ANSWERED.value, Outcome.MULTI.value)


def _profile_of(audience: str | None, phone: str | None, blocked_bot: bool) -> Profile:
    role = Audience(audience) if audience in _AUDIENCES else None
    return Profile(role, phone, blocked_bot)


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
    is most of what the database costs a busy bot per message.
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


class StateReader:
    """Reads people's states; reads asked for while one is under way share the next one.

    Args:
        autocommit: the engine for single statements (no BEGIN/COMMIT round trips).
    """

    def __init__(self, autocommit: AsyncEngine) -> None:
        self._autocommit = autocommit
        self._wanted: list[tuple[str, asyncio.Future[PersonState]]] = []
        self._reader: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Finishes the reads in hand."""
        if self._reader is not None:
            await self._reader

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
