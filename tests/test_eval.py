"""The matcher meets its accuracy floor on the labelled questions (goal 0.97, floor 0.90)."""

from __future__ import annotations

from pathlib import Path

from bot.evaluation import evaluate, load_eval_set
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher
from knowledge.normalize import clean

EVAL_SET = Path(__file__).resolve().parent / "eval" / "questions.yaml"


def test_the_eval_set_is_large_enough_and_names_real_entries(kb: KnowledgeBase) -> None:
    items = load_eval_set(EVAL_SET)
    in_scope = [i for i in items if i.expect is not None]
    assert len(in_scope) >= 150
    assert len(items) - len(in_scope) >= 40
    assert [i.expect for i in in_scope if kb.get(i.expect or "") is None] == []


def test_no_eval_question_is_verbatim_a_knowledge_base_question(kb: KnowledgeBase) -> None:
    known = {clean(q).replace(" ", "") for e in kb.entries for q in (*e.questions, e.title)}
    copied = [
        i.question for i in load_eval_set(EVAL_SET) if clean(i.question).replace(" ", "") in known
    ]
    assert copied == []


def test_top1_and_out_of_scope_refusal_are_at_least_090(matcher: Matcher) -> None:
    report = evaluate(matcher, load_eval_set(EVAL_SET))
    summary = report.summary()
    print("eval:", summary)
    assert report.top1_rate >= 0.90, "\n".join(report.misses)
    assert report.refusal_rate >= 0.90, "\n".join(report.misses)
    assert report.top3_rate >= report.top1_rate
