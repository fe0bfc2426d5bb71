"""Measure understanding on a labelled question set, the way a person would judge it.

Two files use this format: ``tests/eval/questions.yaml`` (written with the knowledge base in
view) and ``tests/eval/blind.yaml`` (written blind, from the source documents only, and split
into a ``tune`` and a ``report`` half). Sections:

``in_scope``      ``{q, expect, also?, lang?, half?}``: ``expect`` is the entry that answers it
                  (``null`` when the documents hold it but no entry does: it should be handed over)
``near_miss``     the topic is in the knowledge base, the fact asked is not: handed over, or
                  answered by the topic's entry (``expect``) — never by another
``out_of_scope``  a question (or ``{q}``) the bot must not answer
``follow_ups``    ``{turns: [...], expect: [id or null per turn], gap_turn?}``: one conversation;
                  ``gap_turn`` (1-based) asks a fact the documents lack, judged as a near miss
``multi``         ``{q, expect: [ids]}``: several questions in one message

The headline is **answered right**: answered directly with the expected entry. A "您是不是想问"
or a hand-over of an answerable question is not right, even if the person gets there in the end.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.conversation import Understanding
from knowledge.loader import KnowledgeBase
from knowledge.schema import Entry
from knowledge.verdict import Match, Outcome

__all__ = [
    "Conversation",
    "EvalItem",
    "EvalReport",
    "EvalSet",
    "EvalSetError",
    "evaluate",
    "load_eval_set",
]

SECTIONS = ("in_scope", "near_miss", "out_of_scope", "follow_ups", "multi")
REFUSED = (Outcome.UNMATCHED, Outcome.UNCLEAR, Outcome.SMALLTALK, Outcome.HANDOVER)
"""Outcomes that do not answer: right for out-of-scope questions."""


class EvalSetError(ValueError):
    """The labelled file is malformed; the message names the file and the item."""


@dataclass(frozen=True)
class EvalItem:
    """One message with what should happen: ``expect`` is ``None`` when it must not be answered."""

    question: str
    expect: str | None
    section: str = "in_scope"
    also: tuple[str, ...] = ()
    audience: str | None = None
    lang: str = "zh"
    half: str | None = None
    multi: tuple[str, ...] = ()
    """For a several-questions message: every entry that should be answered."""


@dataclass(frozen=True)
class Conversation:
    """A short dialogue: each turn with the entry that should answer it (``None``: refuse)."""

    turns: tuple[str, ...]
    expect: tuple[str | None, ...]
    lang: str = "zh"
    half: str | None = None
    gaps: frozenset[int] = frozenset()
    """Turns (0-based) asking a detail the documents lack: the topic's entry or a hand-over."""


@dataclass(frozen=True)
class EvalSet:
    """Everything a labelled file holds."""

    items: tuple[EvalItem, ...]
    conversations: tuple[Conversation, ...] = ()

    def half(self, name: str | None) -> EvalSet:
        """Only the ``tune`` or ``report`` half (items without a half belong to both)."""
        if name is None:
            return self
        return EvalSet(
            tuple(i for i in self.items if i.half in (None, name)),
            tuple(c for c in self.conversations if c.half in (None, name)),
        )


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise EvalSetError(f"{where}: needs the question text")
    return raw


def _ids(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return tuple(raw)
    raise EvalSetError(f"{where}: entry ids must be text or a list of text")


def _item(raw: Any, section: str, where: str) -> EvalItem:
    if section == "out_of_scope" and isinstance(raw, str):
        return EvalItem(_text(raw, where), None, section)
    if not isinstance(raw, dict):
        raise EvalSetError(f"{where}: must be a mapping with q")
    question = _text(raw.get("q"), where)
    expect = raw.get("expect")
    if section == "in_scope" and "expect" not in raw:
        raise EvalSetError(f"{where}: needs expect (an entry id, or null)")
    if section == "out_of_scope":
        expect = None
    if expect is not None and not isinstance(expect, (str, list)):
        raise EvalSetError(f"{where}: expect must be an entry id")
    multi = _ids(expect, where) if section == "multi" else ()
    return EvalItem(
        question,
        multi[0] if multi else (expect if isinstance(expect, str) else None),
        section,
        _ids(raw.get("also"), where),
        raw.get("audience"),
        str(raw.get("lang") or "zh"),
        raw.get("half"),
        multi,
    )


def _conversation(raw: Any, where: str) -> Conversation:
    if not isinstance(raw, dict) or not isinstance(raw.get("turns"), list):
        raise EvalSetError(f"{where}: a follow-up needs turns: [...]")
    turns = tuple(_text(t, f"{where}.turns") for t in raw["turns"])
    expect = raw.get("expect")
    if not isinstance(expect, list) or len(expect) != len(turns):
        raise EvalSetError(f"{where}: expect needs one entry id (or null) per turn")
    gap = raw.get("gap_turn")
    if gap is not None and (type(gap) is not int or not 1 <= gap <= len(turns)):
        raise EvalSetError(f"{where}: gap_turn must be a turn number from 1 to {len(turns)}")
    return Conversation(
        turns,
        tuple(e if isinstance(e, str) else None for e in expect),
        str(raw.get("lang") or "zh"),
        raw.get("half"),
        frozenset({gap - 1}) if gap is not None else frozenset(),
    )


def load_eval_set(path: Path) -> EvalSet:
    """Reads a labelled file; raises ``EvalSetError`` naming the file and the bad item."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: cannot read ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise EvalSetError(f"{path}{line}: not valid YAML") from exc
    if not isinstance(data, dict):
        raise EvalSetError(f"{path}: must be a mapping of sections ({', '.join(SECTIONS)})")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise EvalSetError(f"{path}: unknown section {unknown[0]!r}; known: {', '.join(SECTIONS)}")
    items: list[EvalItem] = []
    conversations: list[Conversation] = []
    for section in SECTIONS:
        raw_items = data.get(section) or []
        if not isinstance(raw_items, list):
            raise EvalSetError(f"{path}: {section} must be a list")
        for number, raw in enumerate(raw_items):
            where = f"{path}: {section}[{number}]"
            if section == "follow_ups":
                conversations.append(_conversation(raw, where))
            else:
                items.append(_item(raw, section, where))
    if not items and not conversations:
        raise EvalSetError(f"{path}: no questions found")
    return EvalSet(tuple(items), tuple(conversations))


@dataclass
class _Tally:
    total: int = 0
    right: int = 0
    wrong: int = 0
    first_suggestion: int = 0
    served: int = 0
    """Several questions in one message: every part answered or its entry offered."""
    refused: int = 0

    def rate(self, count: int) -> float:
        return round(count / self.total, 4) if self.total else 0.0


def _near_miss(match: Match, topic: set[str]) -> tuple[bool, bool]:
    """(right, wrong) for a question whose fact the documents lack: handed over, answered by its
    topic's entry or offered it first is right; answered by another entry is wrong."""
    answered = {e.id for e in match.answered}
    first = match.candidates[0].entry.id if match.candidates else None
    right = match.outcome in REFUSED or (bool(answered) and answered <= topic)
    right = right or (match.outcome is Outcome.SUGGESTED and first in topic)
    return right, bool(answered - topic)


@dataclass
class EvalReport:
    """The figures, plus every miss (for tuning on the tune half only)."""

    in_scope: _Tally = field(default_factory=_Tally)
    english: _Tally = field(default_factory=_Tally)
    uncovered: _Tally = field(default_factory=_Tally)
    near_miss: _Tally = field(default_factory=_Tally)
    out_of_scope: _Tally = field(default_factory=_Tally)
    follow_ups: _Tally = field(default_factory=_Tally)
    multi: _Tally = field(default_factory=_Tally)
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def answered_right(self) -> float:
        """The headline: answered directly with the expected entry."""
        return self.in_scope.rate(self.in_scope.right)

    @property
    def answered_wrong(self) -> float:
        """Answered with an entry that is not the expected one."""
        return self.in_scope.rate(self.in_scope.wrong)

    @property
    def refusal(self) -> float:
        """Out-of-scope questions not answered (handed over, or smalltalk)."""
        return self.out_of_scope.rate(self.out_of_scope.right)

    def summary(self) -> dict[str, float | int]:
        """The figures as a flat mapping, headline first (for printing or JSON)."""
        latencies = sorted(self.latencies_ms) or [0.0]
        s = self.in_scope
        return {
            "answered_right": self.answered_right,
            "answered_wrong": self.answered_wrong,
            "right_incl_first_suggestion": s.rate(s.right + s.first_suggestion),
            "refusal": self.refusal,
            "english_right": self.english.rate(self.english.right),
            "follow_ups_right": self.follow_ups.rate(self.follow_ups.right),
            "follow_ups_wrong": self.follow_ups.rate(self.follow_ups.wrong),
            "near_miss_ok": self.near_miss.rate(self.near_miss.right),
            "multi_all_parts": self.multi.rate(self.multi.right),
            "multi_wrong": self.multi.rate(self.multi.wrong),
            "multi_all_parts_or_offered": self.multi.rate(self.multi.served),
            "multi_refused": self.multi.rate(self.multi.refused),
            "uncovered_handed_over": self.uncovered.rate(self.uncovered.right),
            "in_scope": s.total,
            "english": self.english.total,
            "out_of_scope": self.out_of_scope.total,
            "near_miss": self.near_miss.total,
            "follow_up_turns": self.follow_ups.total,
            "multi": self.multi.total,
            "uncovered": self.uncovered.total,
            "p50_ms": round(statistics.median(latencies), 3),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3),
        }


def _describe(match: Match) -> str:
    if match.outcome is Outcome.MULTI:
        return f"multi {[e.id for e in match.answered]}"
    return f"{match.outcome.value} {[(c.entry.id, c.score) for c in match.candidates]}"


class _Judge:
    """Applies one labelled file's expectations to the understanding's verdicts."""

    def __init__(self, understanding: Understanding, kb: KnowledgeBase) -> None:
        self.understanding = understanding
        self.kb = kb
        self.report = EvalReport()

    def canonical(self, entry_id: str) -> str:
        """An id merged into another entry counts as that entry."""
        entry = self.kb.get(entry_id)
        return entry.id if entry is not None else entry_id

    def ask(self, text: str, audience: str | None, context: Entry | None) -> Match:
        started = time.perf_counter()
        match = self.understanding.understand(text, audience=audience, context=context)
        self.report.latencies_ms.append((time.perf_counter() - started) * 1000)
        return match

    def single(self, item: EvalItem) -> None:
        match = self.ask(item.question, item.audience, None)
        answered = {e.id for e in match.answered}
        accepted = {self.canonical(i) for i in (item.expect, *item.also) if i}
        first = match.candidates[0].entry.id if match.candidates else None
        report = self.report
        if item.section == "multi":
            expected = {self.canonical(i) for i in item.multi}
            tally = report.multi
            tally.total += 1
            tally.right += expected <= answered
            tally.wrong += bool(answered - expected)
            # The other way to serve such a message: its entries offered, as one list
            # or under the answers to the other parts.
            offered = match.candidates if match.outcome is Outcome.SUGGESTED else match.also
            tally.served += expected <= answered | {c.entry.id for c in offered}
            tally.refused += match.outcome in REFUSED
            if not expected <= answered:
                report.misses.append(
                    f"MULTI {item.question!r} expected {sorted(expected)} -> {_describe(match)}"
                )
            return
        if item.section == "out_of_scope" or (item.section == "in_scope" and not accepted):
            tally = report.out_of_scope if item.section == "out_of_scope" else report.uncovered
            tally.total += 1
            refused = match.outcome in REFUSED
            tally.right += refused
            tally.wrong += bool(answered)
            if not refused:
                report.misses.append(f"OUT   {item.question!r} -> {_describe(match)}")
            return
        if item.section == "near_miss":
            tally = report.near_miss
            tally.total += 1
            ok, wrong = _near_miss(match, accepted)
            tally.right += ok
            tally.wrong += wrong
            if not ok:
                report.misses.append(
                    f"NEAR  {item.question!r} topic {sorted(accepted)} -> {_describe(match)}"
                )
            return
        tallies = [report.in_scope, *([report.english] if item.lang == "en" else [])]
        right = bool(answered & accepted) and match.outcome in (Outcome.ANSWERED, Outcome.MULTI)
        wrong = bool(answered) and not answered & accepted
        suggested = match.outcome is Outcome.SUGGESTED and first in accepted
        for tally in tallies:
            tally.total += 1
            tally.right += right
            tally.wrong += wrong
            tally.first_suggestion += suggested
        if not right:
            report.misses.append(
                f"IN    {item.question!r} expected {item.expect} -> {_describe(match)}"
            )

    def conversation(self, dialogue: Conversation) -> None:
        context: Entry | None = None
        tally = self.report.follow_ups
        for number, (turn, expected) in enumerate(
            zip(dialogue.turns, dialogue.expect, strict=True)
        ):
            match = self.ask(turn, None, context)
            answered = {e.id for e in match.answered}
            want = self.canonical(expected) if expected is not None else None
            right = (match.outcome in REFUSED) if want is None else (want in answered)
            wrong = bool(answered) and want not in answered
            if number in dialogue.gaps and want is not None:
                right, wrong = _near_miss(match, {want})
            if number > 0:
                tally.total += 1
                tally.right += right
                tally.wrong += wrong
                if not right:
                    self.report.misses.append(
                        f"TURN  {' → '.join(dialogue.turns[: number + 1])!r} (after "
                        f"{context.id if context else None}) expected {want} -> {_describe(match)}"
                    )
            if match.entry is not None:
                context = match.entry
            elif match.outcome is Outcome.SUGGESTED and want in {
                c.entry.id for c in match.candidates
            }:
                # Offered "您是不是想问" with the right entry, a person taps it and goes on from
                # there (the bot remembers a tapped entry too); the turn itself is still a miss.
                context = self.kb.get(want) if want is not None else None


def evaluate(
    understanding: Understanding,
    data: EvalSet | Sequence[EvalItem],
    *,
    half: str | None = None,
) -> EvalReport:
    """Runs every item (and conversation) of ``data`` and tallies the figures."""
    evalset = data if isinstance(data, EvalSet) else EvalSet(tuple(data))
    evalset = evalset.half(half)
    judge = _Judge(understanding, understanding.matcher.kb)
    for item in evalset.items:
        judge.single(item)
    for dialogue in evalset.conversations:
        judge.conversation(dialogue)
    return judge.report
