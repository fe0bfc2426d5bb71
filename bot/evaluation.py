"""Measure the matcher on a labelled question set (``tests/eval/questions.yaml``).

The file has two lists: ``in_scope`` items ``{q: question, expect: entry id}`` and
``out_of_scope`` questions that must come out ``unmatched``. The report's figures are what the
test suite gates on and what the closing notes quote.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.matcher import Matcher, Outcome

__all__ = ["EvalItem", "EvalReport", "evaluate", "load_eval_set"]


@dataclass(frozen=True)
class EvalItem:
    """One labelled question; ``expect`` is ``None`` for out-of-scope ones."""

    question: str
    expect: str | None
    audience: str | None = None


@dataclass
class EvalReport:
    """Accuracy figures plus the misses, for tuning."""

    in_scope: int = 0
    out_of_scope: int = 0
    top1: int = 0
    top3: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    refused: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def top1_rate(self) -> float:
        """Share of in-scope questions whose best candidate is the expected entry."""
        return self.top1 / self.in_scope if self.in_scope else 0.0

    @property
    def top3_rate(self) -> float:
        """Share of in-scope questions with the expected entry among those shown."""
        return self.top3 / self.in_scope if self.in_scope else 0.0

    @property
    def refusal_rate(self) -> float:
        """Share of out-of-scope questions that came out ``unmatched``."""
        return self.refused / self.out_of_scope if self.out_of_scope else 0.0

    def summary(self) -> dict[str, float | int]:
        """The figures as a flat mapping (for printing or JSON)."""
        lat = sorted(self.latencies_ms) or [0.0]
        return {
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "top1": round(self.top1_rate, 4),
            "top3": round(self.top3_rate, 4),
            "answered_right": round(self.answered_right / self.in_scope, 4)
            if self.in_scope
            else 0.0,
            "answered_wrong": round(self.answered_wrong / self.in_scope, 4)
            if self.in_scope
            else 0.0,
            "refusal": round(self.refusal_rate, 4),
            "p50_ms": round(statistics.median(lat), 3),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 3),
        }


def load_eval_set(path: Path) -> list[EvalItem]:
    """Reads the labelled questions; raises ``ValueError`` naming a malformed item."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = []
    for number, raw in enumerate(data.get("in_scope") or []):
        if not isinstance(raw, dict) or not raw.get("q") or not raw.get("expect"):
            raise ValueError(f"{path}: in_scope[{number}] needs q and expect")
        items.append(EvalItem(str(raw["q"]), str(raw["expect"]), raw.get("audience")))
    for number, raw in enumerate(data.get("out_of_scope") or []):
        text = raw.get("q") if isinstance(raw, dict) else raw
        if not text:
            raise ValueError(f"{path}: out_of_scope[{number}] is empty")
        items.append(EvalItem(str(text), None))
    return items


def evaluate(matcher: Matcher, items: list[EvalItem]) -> EvalReport:
    """Runs every item through ``matcher`` and counts hits and misses."""
    report = EvalReport()
    kb = matcher.kb
    for item in items:
        if item.expect is not None:
            merged = kb.get(item.expect)  # an id merged into another entry counts as that entry
            item = EvalItem(item.question, merged.id if merged else item.expect, item.audience)
        started = time.perf_counter()
        match = matcher.match(item.question, audience=item.audience)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        shown = (
            [c.entry.id for c in match.candidates] if match.outcome is not Outcome.UNMATCHED else []
        )
        best = shown[0] if shown else None
        if item.expect is None:
            report.out_of_scope += 1
            if match.outcome in (Outcome.UNMATCHED, Outcome.SMALLTALK):
                report.refused += 1
            else:
                report.misses.append(
                    f"OUT  {item.question!r} -> {match.outcome.value} {best} {match.score:.3f}"
                )
            continue
        report.in_scope += 1
        if best == item.expect:
            report.top1 += 1
        if item.expect in shown[:3]:
            report.top3 += 1
        if match.outcome is Outcome.ANSWERED:
            if best == item.expect:
                report.answered_right += 1
            else:
                report.answered_wrong += 1
        if best != item.expect:
            report.misses.append(
                f"IN   {item.question!r} expected {item.expect} -> {match.outcome.value} "
                f"{[(c.entry.id, c.score) for c in match.candidates]}"
            )
    return report
