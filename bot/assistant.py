"""The conversation core: (person, text) -> Reply, the same for every channel.

The console chat, the CLI and the Telegram handlers are adapters over this one class: they
turn their input into ``ask`` calls and render the ``Reply``. The core understands the message in
its conversation (a follow-up such as "那怎么申请" is read against the entry answered last, if that
was within ``follow_up_minutes``), records the inquiry through an ``InquiryRecorder`` *before*
the reply is returned (so nothing a person asked is lost if sending fails), and decides whether
a specialist must follow up: an unanswerable question or a request for a person opens a ticket,
an unclear message ("？？？") does not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Final, Protocol, runtime_checkable

from bot.ratelimit import RateLimiter, Verdict
from knowledge.schema import Audience, Entry
from knowledge.service import KnowledgeService
from knowledge.verdict import Match, Outcome

__all__ = [
    "UNREAD",
    "Assistant",
    "DialogueMemory",
    "InquiryRecorder",
    "LastEntry",
    "MemoryDialogue",
    "Person",
    "Recorded",
    "Reply",
]

LastEntry = tuple[str, datetime]
"""The entry answered last for a person, and when."""


class _Unread(Enum):
    UNREAD = "unread"


UNREAD: Final = _Unread.UNREAD
"""``Assistant.ask`` reads the entry answered last itself (the caller did not read it already)."""

FOLLOW_UP_MINUTES = 10.0
"""How long the entry answered last stays the subject of a follow-up, by default."""


@dataclass(frozen=True)
class Person:
    """Who is asking: a stable key per channel (``telegram:42``, ``console:ab12``)."""

    key: str
    display_name: str = ""
    audience: Audience | None = None
    language: str = "zh"


@dataclass(frozen=True)
class Reply:
    """What the core decided; adapters render it for their medium."""

    outcome: Outcome
    match: Match
    entry: Entry | None = None
    """The entry answered (the first one when several questions were answered)."""
    entries: tuple[Entry, ...] = ()
    """Every entry answered: one, or up to three for a message with several questions."""
    suggestions: tuple[Entry, ...] = ()
    also: tuple[Entry, ...] = ()
    """With an answer to a message asking several things: entries its other questions only
    suggest, offered under the answers."""
    smalltalk: str | None = None
    elapsed_ms: float = 0.0
    inquiry_id: int | None = None
    ticket_id: int | None = None
    already_replied: bool = False
    """True when this exact Telegram update was logged and answered before (a redelivery)."""
    quiet: bool = False
    """For ``limited``: the notice was given already; send nothing."""
    repeated: bool = False
    """The one entry answered is the one answered just before ("人才公寓" → "那怎么申请"):
    adapters point back at that answer instead of sending the whole of it again."""

    @property
    def needs_follow_up(self) -> bool:
        """True when a specialist should pick this up: unanswerable, or a person was asked for."""
        return self.outcome in (Outcome.UNMATCHED, Outcome.HANDOVER)


@dataclass(frozen=True)
class Recorded:
    """What the recorder stored for one message."""

    inquiry_id: int | None
    ticket_id: int | None = None
    already_replied: bool = False


class InquiryRecorder(Protocol):
    """Stores an inquiry before the reply goes out."""

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
        """Persists the inquiry; opens a ticket when ``reply.needs_follow_up``."""
        ...


@runtime_checkable
class DialogueMemory(Protocol):
    """Where the entry answered last for each person is kept between messages."""

    async def last_entry(self, person_key: str) -> tuple[str, datetime] | None:
        """The entry answered last for the person and when, or ``None``."""
        ...


class MemoryDialogue:
    """Dialogue memory in this process only (``talentbot ask --json`` conversations, tests)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[str, datetime]] = {}

    async def last_entry(self, person_key: str) -> tuple[str, datetime] | None:
        """The entry answered last for the person and when, or ``None``."""
        return self._last.get(person_key)

    def note(self, person_key: str, entry_id: str) -> None:
        """Remembers what was just answered."""
        self._last[person_key] = (entry_id, datetime.now(UTC))


MATCH_CHARS = 1000
"""Default of ``limits.match_chars``: a longer message is matched on its start."""
STORE_CHARS = 20_000
"""Default of ``limits.store_chars``: messages are stored up to this length."""
TRUNCATED = " …"
"""Appended to a stored text that was cut at ``store_chars``."""


def clean_text(text: str, store_chars: int) -> str:
    """``text`` safe to store: no NUL characters, at most ``store_chars`` characters."""
    text = text.replace("\x00", "\ufffd")
    if len(text) > store_chars:
        text = text[: store_chars - len(TRUNCATED)] + TRUNCATED
    return text


class Assistant:
    """Answers questions from the knowledge base and records every inquiry.

    Args:
        knowledge: the knowledge base in service.
        recorder: the inquiry log; ``None`` records nothing.
        memory: where the entry answered last is read from; by default the recorder when it
            keeps one (the inquiry log does), else nothing (every message stands alone).
        follow_up_minutes: how long that entry stays the subject of a follow-up.
    """

    def __init__(
        self,
        knowledge: KnowledgeService,
        recorder: InquiryRecorder | None = None,
        *,
        memory: DialogueMemory | None = None,
        follow_up_minutes: float = FOLLOW_UP_MINUTES,
        limiter: RateLimiter | None = None,
        match_chars: int = MATCH_CHARS,
        store_chars: int = STORE_CHARS,
    ) -> None:
        self.knowledge = knowledge
        self.recorder = recorder
        self.limiter = limiter
        self.match_chars = match_chars
        self.store_chars = store_chars
        if memory is None and isinstance(recorder, DialogueMemory):
            memory = recorder
        self.memory = memory
        self.follow_up = timedelta(minutes=follow_up_minutes)

    async def context(self, person: Person) -> Entry | None:
        """The entry a follow-up from ``person`` would be about, if still fresh."""
        if self.memory is None:
            return None
        return self.fresh(await self.memory.last_entry(person.key))

    def fresh(self, last: LastEntry | None) -> Entry | None:
        """The entry answered last, while it is still the subject of a follow-up."""
        if last is None or datetime.now(UTC) - last[1] > self.follow_up:
            return None
        return self.knowledge.kb.get(last[0])

    def decide(self, person: Person, text: str, context: Entry | None = None) -> Reply:
        """Understands ``text`` for ``person``; pure apart from reading the knowledge base."""
        started = time.perf_counter()
        match = self.knowledge.understanding.understand(
            text, audience=person.audience, context=context
        )
        elapsed = (time.perf_counter() - started) * 1000
        if match.outcome in (Outcome.ANSWERED, Outcome.MULTI):
            return Reply(
                match.outcome,
                match,
                entry=match.entry,
                entries=match.answered,
                also=tuple(c.entry for c in match.also),
                elapsed_ms=elapsed,
                repeated=context is not None and match.answered == (context,),
            )
        if match.outcome is Outcome.SUGGESTED:
            entries = tuple(c.entry for c in match.candidates)
            return Reply(match.outcome, match, suggestions=entries, elapsed_ms=elapsed)
        if match.outcome is Outcome.SMALLTALK:
            return Reply(match.outcome, match, smalltalk=match.smalltalk, elapsed_ms=elapsed)
        return Reply(match.outcome, match, elapsed_ms=elapsed)

    async def ask(
        self,
        person: Person,
        text: str,
        *,
        channel: str,
        chat_id: str | None = None,
        update_id: int | None = None,
        last: LastEntry | _Unread | None = UNREAD,
    ) -> Reply:
        """Decides the reply and records the inquiry before returning it.

        ``last`` is the entry answered last when the caller has read it already (with the rest
        of the person's state, in one query); by default the dialogue memory is asked.

        Whatever the text holds, it is matched on its first ``match_chars`` characters and
        stored up to ``store_chars``; NUL characters (which PostgreSQL text cannot hold) become
        U+FFFD. A person over the rate limit is logged but not matched.
        """
        text = clean_text(text, self.store_chars)
        verdict = self.limiter.check(person.key) if self.limiter is not None else Verdict.ALLOW
        if verdict is Verdict.ALLOW:
            context = await self.context(person) if last is UNREAD else self.fresh(last)
            reply = self.decide(person, text[: self.match_chars], context)
        else:
            match = Match(Outcome.LIMITED, text[: self.match_chars], "")
            reply = Reply(Outcome.LIMITED, match, quiet=verdict is Verdict.QUIET)
        if isinstance(self.memory, MemoryDialogue) and reply.entry is not None:
            self.memory.note(person.key, reply.entry.id)
        if self.recorder is None:
            return reply
        recorded = await self.recorder.record(
            person, text, reply, channel=channel, chat_id=chat_id, update_id=update_id
        )
        return replace(
            reply,
            inquiry_id=recorded.inquiry_id,
            ticket_id=recorded.ticket_id,
            already_replied=recorded.already_replied,
        )

    def entry(self, entry_id: str) -> Entry | None:
        """Looks up an entry by id (for a tapped suggestion or menu item)."""
        return self.knowledge.kb.get(entry_id)
