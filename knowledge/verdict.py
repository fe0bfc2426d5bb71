"""What a match says: the outcome, the candidates, and the signals the decision weighed.

The matcher produces these and everything else reads them: the conversation core, the inquiry
log, the chat views, the eval. Apart from the matcher so that a reader of verdicts (the web
console's log pages, the CLI) depends on a few plain types, not on the scoring code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from knowledge.schema import Entry

__all__ = ["SIGNALS", "Candidate", "Match", "Outcome"]


class Outcome(StrEnum):
    """What the matcher concluded."""

    ANSWERED = "answered"
    SUGGESTED = "suggested"
    UNMATCHED = "unmatched"
    SMALLTALK = "smalltalk"
    MULTI = "multi"
    """Several questions in one message, each answered (``Match.parts``)."""
    UNCLEAR = "unclear"
    """Nothing to understand ("？？？", an emoji): ask to rephrase, open no ticket."""
    HANDOVER = "handover"
    """The person asked for a human specialist ("转人工")."""
    LIMITED = "limited"
    """Set by the conversation core, never by the matcher: over the per-person rate limit."""


SIGNALS = (
    "score",
    "lead",
    "probability",
    "probability_lead",
    "unknown_share",
    "english",
    "out_of_scope",
    "agreement",
)
"""What the decision looks at: the best blended score and its lead over the runner-up, the
ranker's probability for the best entry and its lead, the share of the question in words the KB
never saw, whether the question is English, the ranker's "not ours" probability, and whether
the lexical scores and the ranker agree on the best entry (disagreement flags a guess)."""


@dataclass(frozen=True)
class Candidate:
    """An entry and its score in [0, 1]."""

    entry: Entry
    score: float

    def as_dict(self) -> dict[str, str | float]:
        """The candidate as the inquiry log and ``ask --json`` store it."""
        return {"entry_id": self.entry.id, "title": self.entry.title, "score": self.score}


@dataclass(frozen=True)
class Match:
    """The matcher's verdict for one question; ``unmatched`` is a normal result."""

    outcome: Outcome
    query: str
    normalized: str
    candidates: tuple[Candidate, ...] = ()
    smalltalk: str | None = None
    unknown_share: float = 0.0
    """Share of the question's meaning in words the knowledge base has never seen (公积金)."""
    parts: tuple[Match, ...] = ()
    """For ``multi``: one answered match per question in the message, in order."""
    via_context: bool = False
    """True when a follow-up ("那怎么申请") was resolved against the entry answered before."""
    several: bool = False
    """For ``suggested``: the choices are the entries the message's several questions touch
    ("您的问题涉及"), not readings of one question ("您是不是想问")."""
    also: tuple[Candidate, ...] = ()
    """For an answer to a message asking several things: entries its other questions only
    suggest, offered under the answers ("您的问题还可能涉及") rather than dropped."""
    signals: tuple[float, ...] = ()
    """The decision's inputs, named by ``SIGNALS`` (for tuning and the staff console)."""
    confidence: float | None = None
    """The decision model's estimate that the best candidate is right, when it decided."""

    @property
    def entry(self) -> Entry | None:
        """The answered entry (the first one for ``multi``), or ``None``."""
        if self.outcome is Outcome.MULTI and self.parts:
            return self.parts[0].entry
        return (
            self.candidates[0].entry
            if self.outcome is Outcome.ANSWERED and self.candidates
            else None
        )

    @property
    def answered(self) -> tuple[Entry, ...]:
        """Every entry this verdict answers with: one, several (``multi``) or none."""
        if self.outcome is Outcome.MULTI:
            return tuple(p.entry for p in self.parts if p.entry is not None)
        return (self.entry,) if self.entry is not None else ()

    @property
    def score(self) -> float:
        """The best candidate's score, or 0."""
        return self.candidates[0].score if self.candidates else 0.0
