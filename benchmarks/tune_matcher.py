"""Choose the matcher's decision settings on the tune half, report them on the report half.

The blind set (``tests/eval/blind.yaml``) was written from the source documents by people who
never saw the knowledge base; it is split into two fixed halves. Settings are chosen on the
``tune`` half together with the project's own ``questions.yaml`` (its out-of-scope questions make
the refusal constraint sturdier), under constraints that protect people:

* at most 2 % of in-scope questions answered with a wrong entry,
* at least 95 % of out-of-scope questions refused,
* near-misses handed over or answered by their topic's entry,

maximising **answered right** on the tune half. The ``report`` half plays no part in choosing;
its figures are printed once, at the end. ``--lever`` names a row of the closing note's table:
the same search is run with one lever switched off, so each lever is measured the same way.

Run: ``.venv/bin/python -m benchmarks.tune_matcher [--quick] [--lever NAME]``.

It only prints. The decision weights in ``MatchConfig`` now come from ``knowledge.calibration``
(fitted on the knowledge base's own held-out questions; the tune half has too few wrong answers
to place the threshold): copy weights from here only to measure a lever, not into the matcher.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from knowledge.conversation import Understanding
from knowledge.evaluation import EvalReport, EvalSet, evaluate, load_eval_set
from knowledge.loader import KnowledgeBase, load_knowledge_base
from knowledge.matcher import MatchConfig, Matcher

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "tests" / "eval" / "blind.yaml"
OWN = ROOT / "tests" / "eval" / "questions.yaml"

BUILD_GRID: dict[str, list[Any]] = {"ranker_weight": [0.6, 1.0]}
"""Settings that change the index: the matcher is rebuilt for each combination."""

GRID: dict[str, list[Any]] = {
    "answer_threshold": [0.55, 0.65, 0.75, 0.85],
    "margin": [0.02, 0.08, 0.15],
    "suggest_threshold": [0.35, 0.45],
    "refuse_unknown_share": [0.45, 0.55, 0.65, 1.01],
    "english_answer_threshold": [0.45, 0.55, None],
}
"""The threshold rule's settings, for the lever row without the decision model."""
QUICK_GRID: dict[str, list[Any]] = {
    "answer_threshold": [0.65, 0.75],
    "margin": [0.02, 0.08],
    "suggest_threshold": [0.4],
    "refuse_unknown_share": [0.55, 1.01],
    "english_answer_threshold": [0.5, None],
}
BLIND_WRONG = 0.02
"""The blind tune half alone may answer at most this share wrongly (the office's target), not
only the pooled tuning data, where our own questions' low error rate would dilute it."""

ANSWER_CONFIDENCE = [round(0.40 + 0.05 * i, 2) for i in range(11)]
SUGGEST_CONFIDENCE = [0.5]
"""Fixed, a judgement call: from this confidence people get "您是不是想问" (one tap when right)
instead of a hand-over. The search would drop suggestions to protect the refusal figure, but
for an in-scope question a tap beats waiting for a specialist, and an out-of-scope person can
ignore them; on the tune half this band lifts right-incl.-first-suggestion from 0.86 to 0.93."""


@dataclass(frozen=True)
class Scores:
    """What one setting achieves on the tuning data."""

    right: float
    wrong: float
    refusal: float
    near_miss: float
    own_right: float
    blind_wrong: float
    first: float
    """Right including a right first "您是不是想问" (partial credit: the person taps once)."""

    def acceptable(self) -> bool:
        return (
            self.wrong <= 0.02
            and self.blind_wrong <= BLIND_WRONG
            and self.refusal >= 0.95
            and self.near_miss >= 0.9
        )

    def objective(self) -> tuple[float, ...]:
        """Answered right, minus the cost of missing a constraint.

        A wrong answer weighs ten right ones (a person acts on it), an out-of-scope question
        answered two (it is answered by an entry that says what it covers, and 没帮助 hands it
        over); so refusing is not bought at any price in answers.
        """
        penalty = (
            10 * max(0.0, self.wrong - 0.02)
            + 10 * max(0.0, self.blind_wrong - BLIND_WRONG)
            + 2 * max(0.0, 0.95 - self.refusal)
            + max(0.0, 0.9 - self.near_miss)
        )
        return (self.right + 0.25 * (self.first - self.right) - penalty, self.own_right)


def scores(understanding: Understanding, tune: EvalSet, own: EvalSet) -> Scores:
    blind = evaluate(understanding, tune)
    mine = evaluate(understanding, own)
    out = blind.out_of_scope.total + mine.out_of_scope.total
    refused = blind.out_of_scope.right + mine.out_of_scope.right
    in_scope = blind.in_scope.total + mine.in_scope.total
    wrong = blind.in_scope.wrong + mine.in_scope.wrong
    return Scores(
        blind.answered_right,
        wrong / in_scope,
        refused / out,
        blind.summary()["near_miss_ok"],
        mine.answered_right,
        blind.answered_wrong,
        blind.summary()["right_incl_first_suggestion"],
    )


LEVERS: dict[str, dict[str, Any]] = {
    "all": {},
    "no-ranker": {"build": {"ranker_weight": [0.0]}},
    "no-out-of-scope-class": {"build": {"out_of_scope_weight": [0.0]}},
    "no-follow-ups": {"understanding": {"follow_ups": False}},
    "no-splitting": {"understanding": {"several": False}},
    "thresholds-only": {"decision": False},
    "before": {
        "fixed": {
            "ranker_weight": 0.0,
            "decision_weights": None,
            "answer_threshold": 0.5,
            "suggest_threshold": 0.35,
            "margin": 0.02,
        },
        "understanding": {"follow_ups": False, "several": False},
    },
}
"""Each row of the lever table: the same search with one lever switched off."""


def labelled_signals(
    matcher: Matcher, data: Sequence[EvalSet]
) -> tuple[list[tuple[float, ...]], list[int]]:
    """Every single question's decision signals, labelled 1 when the best candidate is right."""
    kb = matcher.kb
    rows: list[tuple[float, ...]] = []
    labels: list[int] = []
    for evalset in data:
        for item in evalset.items:
            if item.section == "multi":
                continue
            match = matcher.match(item.question, audience=item.audience)
            if not match.signals or not match.candidates:
                continue
            accepted = {e.id for i in (item.expect, *item.also) if i and (e := kb.get(i))}
            if item.section == "out_of_scope":
                accepted = set()
            rows.append(match.signals)
            labels.append(int(match.candidates[0].entry.id in accepted))
    return rows, labels


def fit_decision(rows: list[tuple[float, ...]], labels: list[int]) -> tuple[float, ...]:
    """A logistic model of "the best candidate is right" over the signals."""
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(np.asarray(rows), np.asarray(labels))
    return (*(round(float(w), 4) for w in model.coef_[0]), round(float(model.intercept_[0]), 4))


def search(
    kb: KnowledgeBase,
    tune: EvalSet,
    own: EvalSet,
    lever: dict[str, Any],
    *,
    quick: bool = False,
) -> tuple[Scores, MatchConfig]:
    if "fixed" in lever:
        config = replace(MatchConfig(), **lever["fixed"])
        understanding = Understanding(Matcher(kb, config), **lever.get("understanding", {}))
        return scores(understanding, tune, own), config
    build = {**BUILD_GRID, **lever.get("build", {})}
    if quick:
        build = {k: v[:1] for k, v in build.items()}
    best: tuple[tuple[float, ...], Scores, MatchConfig] | None = None
    for build_values in itertools.product(*build.values()):
        built = dict(zip(build, build_values, strict=True))
        matcher = Matcher(kb, replace(MatchConfig(), **built))
        understanding = Understanding(matcher, **lever.get("understanding", {}))
        if lever.get("decision", True):
            weights = fit_decision(*labelled_signals(matcher, (tune, own)))
            grid = itertools.product(ANSWER_CONFIDENCE, SUGGEST_CONFIDENCE)
            configs = [
                replace(
                    MatchConfig(),
                    **built,
                    decision_weights=weights,
                    answer_confidence=a,
                    suggest_confidence=sc,
                )
                for a, sc in grid
                if sc <= a
            ]
        else:
            configs = [
                replace(
                    MatchConfig(),
                    **built,
                    decision_weights=None,
                    **dict(zip(GRID, values, strict=True)),
                )
                for values in itertools.product(*(QUICK_GRID if quick else GRID).values())
            ]
        for config in configs:
            matcher.config = config
            result = scores(understanding, tune, own)
            if best is None or result.objective() > best[0]:
                best = (result.objective(), result, config)
    assert best is not None
    return best[1], best[2]


def show(name: str, report: EvalReport) -> None:
    summary = report.summary()
    keys = (
        "answered_right", "answered_wrong", "right_incl_first_suggestion", "refusal",
        "english_right", "follow_ups_right", "near_miss_ok", "multi_all_parts",
    )  # fmt: skip
    print(f"  {name:7} " + "  ".join(f"{k}={summary[k]}" for k in keys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small grid (a few seconds)")
    parser.add_argument("--lever", choices=sorted(LEVERS), default="all")
    parser.add_argument("--kb", type=Path, default=None, help="another knowledge-base folder")
    args = parser.parse_args()
    kb = load_knowledge_base(args.kb) if args.kb else load_knowledge_base()
    blind = load_eval_set(BLIND)
    tune, report = blind.half("tune"), blind.half("report")
    own = load_eval_set(OWN)
    lever = LEVERS[args.lever]
    started = time.perf_counter()
    chosen, config = search(kb, tune, own, lever, quick=args.quick)
    print(f"lever {args.lever}: chosen in {time.perf_counter() - started:.0f}s:")
    changed = {
        k: getattr(config, k)
        for k in MatchConfig.__dataclass_fields__
        if getattr(config, k) != getattr(MatchConfig(), k)
    }
    print(f"  {changed}")
    print(f"  tuning data: {chosen}")
    understanding = Understanding(Matcher(kb, config), **lever.get("understanding", {}))
    show("tune", evaluate(understanding, tune))
    show("report", evaluate(understanding, report))
    show("own", evaluate(understanding, own))


if __name__ == "__main__":
    main()
