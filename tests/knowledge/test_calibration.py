"""The decision is calibrated on the knowledge base's own questions, each held out in turn."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.calibration import HeldOut, fit_decision, held_out_signals, rates
from knowledge.loader import KnowledgeBase
from knowledge.matcher import MatchConfig, Matcher
from knowledge.verdict import SIGNALS, Outcome


@pytest.fixture(scope="module")
def small_kb(kb: KnowledgeBase) -> KnowledgeBase:
    housing = tuple(e for e in kb.entries if e.category == "housing")
    return replace(kb, entries=housing, out_of_scope=kb.out_of_scope[:60])


@pytest.fixture(scope="module")
def held_out(small_kb: KnowledgeBase) -> HeldOut:
    return held_out_signals(small_kb, folds=3)


def test_every_example_and_out_of_scope_question_is_matched_once_as_unseen(
    small_kb: KnowledgeBase, held_out: HeldOut
) -> None:
    examples = sum(len(e.questions) for e in small_kb.entries)
    assert sum(held_out.in_scope) <= examples
    assert sum(held_out.in_scope) >= 0.95 * examples
    assert len(held_out.rows) - sum(held_out.in_scope) >= 0.5 * len(small_kb.out_of_scope)
    assert all(len(row) == len(SIGNALS) for row in held_out.rows)
    assert not any(
        r for r, inside in zip(held_out.right, held_out.in_scope, strict=True) if not inside
    )
    in_scope_right = [
        r for r, inside in zip(held_out.right, held_out.in_scope, strict=True) if inside
    ]
    assert sum(in_scope_right) / len(in_scope_right) > 0.7


def test_held_out_signals_are_reproducible(small_kb: KnowledgeBase, held_out: HeldOut) -> None:
    assert held_out_signals(small_kb, folds=3) == held_out


def test_a_higher_answer_confidence_answers_less_and_less_wrongly(held_out: HeldOut) -> None:
    weights = fit_decision(held_out)
    assert len(weights) == len(SIGNALS) + 1
    low = rates(held_out, weights, 0.5)
    high = rates(held_out, weights, 0.9)
    assert high[0] <= low[0] and high[1] <= low[1] and high[2] <= low[2]
    assert low[0] > 0.5


def test_the_fitted_decision_answers_a_plain_question(
    small_kb: KnowledgeBase, held_out: HeldOut
) -> None:
    config = replace(MatchConfig(), decision_weights=fit_decision(held_out), answer_confidence=0.8)
    match = Matcher(small_kb, config).match("人才公寓怎么申请")
    assert match.outcome is Outcome.ANSWERED
    assert match.entry is not None and match.entry.id == "housing-talent-apartment"


def test_several_splits_are_pooled(small_kb: KnowledgeBase, held_out: HeldOut) -> None:
    pooled = held_out_signals(small_kb, folds=3, seeds=(7, 8))
    assert len(pooled.rows) == 2 * len(held_out.rows)
    assert pooled.rows[: len(held_out.rows)] == held_out.rows
