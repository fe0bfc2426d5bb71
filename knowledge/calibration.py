"""Calibrate the matcher's decision on the knowledge base's own questions, held out in turn.

The decision model (``MatchConfig.decision_weights``) says how likely the best candidate is the
right answer. Fitted on the blind set's tune half alone it has too little to learn from: that
half holds a few hundred questions and only a handful of wrong answers, all of them confident,
so it cannot tell where the answer threshold belongs. The knowledge base's example questions are
thousands of labelled questions already. Cross-validation makes them fair: the example questions
and out-of-scope examples are split into folds, and each fold is matched by a matcher built
without it, so every question is matched as a question the matcher has never seen. Their
signals and "the best candidate is right" labels train the decision model; the out-of-scope
examples are its negatives.

Run ``python -m knowledge.calibration`` (about two minutes: three different splits into five
folds, pooled) to print the weights, the held-out shares answered right and wrong per answer
confidence, and the lowest confidence whose wrong share meets the office's 2 %; copy the two
into ``MatchConfig``. Pure apart from ``main``: reads only the knowledge base and the matcher.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from sklearn.linear_model import LogisticRegression

from knowledge.loader import KnowledgeBase, load_knowledge_base
from knowledge.matcher import MatchConfig, Matcher

__all__ = ["HeldOut", "fit_decision", "held_out_signals", "rates"]


@dataclass(frozen=True)
class HeldOut:
    """Decision signals of questions matched by a matcher that never saw them."""

    rows: tuple[tuple[float, ...], ...]
    right: tuple[bool, ...]
    """The best candidate is the question's own entry (always ``False`` out of scope)."""
    in_scope: tuple[bool, ...]


def held_out_signals(
    kb: KnowledgeBase,
    config: MatchConfig | None = None,
    *,
    folds: int = 5,
    seeds: Sequence[int] = (7,),
) -> HeldOut:
    """Every example and out-of-scope question's signals, each from a matcher built without it;
    once per seed (a different split into folds), pooled."""
    base = replace(config or MatchConfig(), decision_weights=None)
    decisions: list[tuple[tuple[float, ...], bool, bool]] = []
    for seed in seeds:
        # Reproducible folds, nothing secret (bandit B311 flags every use of random).
        rng = random.Random(seed)  # nosec B311
        fold_of = {(e.id, q): rng.randrange(folds) for e in kb.entries for q in e.questions}
        fold_of.update({("", q): rng.randrange(folds) for q in kb.out_of_scope})
        for fold in range(folds):
            decisions += _held_out_fold(kb, base, fold_of, fold)
    rows, right, in_scope = zip(*decisions, strict=True) if decisions else ((), (), ())
    return HeldOut(tuple(rows), tuple(right), tuple(in_scope))


def _held_out_fold(
    kb: KnowledgeBase, config: MatchConfig, fold_of: dict[tuple[str, str], int], fold: int
) -> list[tuple[tuple[float, ...], bool, bool]]:
    """(signals, right, in scope) of one fold's questions, matched without them."""
    entries = tuple(
        e.model_copy(update={"questions": [q for q in e.questions if fold_of[e.id, q] != fold]})
        for e in kb.entries
    )
    others = tuple(q for q in kb.out_of_scope if fold_of["", q] != fold)
    matcher = Matcher(replace(kb, entries=entries, out_of_scope=others), config)
    asked: list[tuple[str, str | None]] = [
        (q, e.id) for e in kb.entries for q in e.questions if fold_of[e.id, q] == fold
    ]
    asked += [(q, None) for q in kb.out_of_scope if fold_of["", q] == fold]
    out = []
    for question, entry_id in asked:
        match = matcher.match(question)
        if match.signals and match.candidates:
            right = match.candidates[0].entry.id == entry_id
            out.append((match.signals, right, entry_id is not None))
    return out


def fit_decision(held_out: HeldOut) -> tuple[float, ...]:
    """A logistic model of "the best candidate is right": one weight per signal, then the
    intercept (the layout of ``MatchConfig.decision_weights``)."""
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(np.asarray(held_out.rows), np.asarray(held_out.right, dtype=int))
    return (*(round(float(w), 4) for w in model.coef_[0]), round(float(model.intercept_[0]), 4))


def rates(
    held_out: HeldOut, weights: Sequence[float], confidence: float
) -> tuple[float, float, float]:
    """Shares answered right and wrong (of in-scope questions) and of out-of-scope questions
    answered, when answering from ``confidence`` up (before the conversation layer)."""
    rows = np.asarray(held_out.rows)
    logit = rows @ np.asarray(weights[:-1]) + weights[-1]
    answered = 1.0 / (1.0 + np.exp(-logit)) >= confidence
    right = np.asarray(held_out.right)
    inside = np.asarray(held_out.in_scope)
    scope = max(int(inside.sum()), 1)
    outside = max(int((~inside).sum()), 1)
    return (
        float((answered & inside & right).sum() / scope),
        float((answered & inside & ~right).sum() / scope),
        float((answered & ~inside).sum() / outside),
    )


MAX_WRONG = 0.02
"""The office's ceiling on wrong answers; the answer confidence is the lowest that keeps the
held-out questions under it."""


def main() -> None:
    """Prints the cross-validated decision weights, their held-out rates and the confidence."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    args = parser.parse_args()
    held_out = held_out_signals(load_knowledge_base(), folds=args.folds, seeds=args.seeds)
    weights = fit_decision(held_out)
    print(f"decision_weights = {weights}")
    chosen = None
    for step in range(60, 96, 2):
        confidence = step / 100
        right, wrong, outside = rates(held_out, weights, confidence)
        print(
            f"  answer from {confidence:.2f}: right {right:.3f}  wrong {wrong:.4f}  "
            f"out of scope answered {outside:.3f}"
        )
        if chosen is None and wrong <= MAX_WRONG:
            chosen = confidence
    print(f"answer_confidence = {chosen}")


if __name__ == "__main__":
    main()
