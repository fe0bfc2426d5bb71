"""The conversation core: (person, text) -> Reply, the same for every channel.

The console chat, the CLI and the Telegram handlers are adapters over this one class: they
turn their input into ``ask`` calls and render the ``Reply``. The core matches the question,
records the inquiry through an ``InquiryRecorder`` *before* the reply is returned (so nothing a
person asked is lost if sending fails), and decides whether a specialist must follow up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Protocol

from knowledge.matcher import Match, Outcome
from knowledge.schema import Audience, Entry
from knowledge.service import KnowledgeService

__all__ = ["Assistant", "InquiryRecorder", "Person", "Recorded", "Reply"]


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
    suggestions: tuple[Entry, ...] = ()
    smalltalk: str | None = None
    elapsed_ms: float = 0.0
    inquiry_id: int | None = None
    ticket_id: int | None = None
    already_replied: bool = False
    """True when this exact Telegram update was logged and answered before (a redelivery)."""

    @property
    def needs_follow_up(self) -> bool:
        """True when a specialist should pick this up (the bot could not answer)."""
        return self.outcome is Outcome.UNMATCHED


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


class Assistant:
    """Answers questions from the knowledge base and records every inquiry."""

    def __init__(
        self, knowledge: KnowledgeService, recorder: InquiryRecorder | None = None
    ) -> None:
        self.knowledge = knowledge
        self.recorder = recorder

    def decide(self, person: Person, text: str) -> Reply:
        """Matches ``text`` for ``person``; pure apart from reading the knowledge base."""
        started = time.perf_counter()
        match = self.knowledge.matcher.match(text, audience=person.audience)
        elapsed = (time.perf_counter() - started) * 1000
        if match.outcome is Outcome.ANSWERED:
            return Reply(match.outcome, match, entry=match.entry, elapsed_ms=elapsed)
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
    ) -> Reply:
        """Decides the reply and records the inquiry before returning it."""
        reply = self.decide(person, text)
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
