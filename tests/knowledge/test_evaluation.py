"""The evaluation judges as a person would, and names a malformed file in one line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.conversation import Understanding
from knowledge.evaluation import EvalSetError, evaluate, load_eval_set
from knowledge.loader import load_knowledge_base
from knowledge.matcher import MatchConfig, Matcher
from tests.kbfactory import APARTMENT, CHANNEL, write_kb


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("in_scope: [\n", ":2: not valid YAML"),
        ("- just a list\n", ": must be a mapping of sections"),
        ("questions: []\n", ": unknown section 'questions'"),
        ("in_scope:\n  - q: 人才公寓\n", ": in_scope[0]: needs expect (an entry id, or null)"),
        ("in_scope:\n  - expect: x\n", ": in_scope[0]: needs the question text"),
        (
            "follow_ups:\n  - turns: [人才公寓, 那怎么申请]\n    expect: [x]\n",
            ": follow_ups[0]: expect needs one entry id (or null) per turn",
        ),
        (
            "follow_ups:\n  - {turns: [人才公寓, 多少钱], expect: [x, x], gap_turn: 3}\n",
            ": follow_ups[0]: gap_turn must be a turn number from 1 to 2",
        ),
        ("in_scope: []\n", ": no questions found"),
    ],
)
def test_a_malformed_file_is_named_with_the_bad_item(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(EvalSetError) as caught:
        load_eval_set(path)
    assert str(caught.value) == f"{path}{message}" or str(caught.value).startswith(
        f"{path}{message}"
    )


def test_halves_select_their_items_and_shared_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "in_scope:\n  - {q: a, expect: x, half: tune}\n  - {q: b, expect: x, half: report}\n"
        "  - {q: c, expect: x}\nout_of_scope: [d]\n",
    )
    evalset = load_eval_set(path)
    assert [i.question for i in evalset.half("tune").items] == ["a", "c", "d"]
    assert [i.question for i in evalset.half("report").items] == ["b", "c", "d"]


def two_entry_understanding(tmp_path: Path, seeds_dir: Path) -> Understanding:
    """A window and an apartment, matched lexically: two entries are too few for the learned
    ranker's model."""
    kb = load_knowledge_base(write_kb(tmp_path, CHANNEL + APARTMENT), seeds_dir=seeds_dir)
    lexical = replace(MatchConfig(), ranker_weight=0.0, decision_weights=None)
    return Understanding(Matcher(kb, lexical))


def test_answered_right_counts_only_direct_answers_with_the_expected_entry(
    tmp_path: Path, seeds_dir: Path
) -> None:
    understanding = two_entry_understanding(tmp_path, seeds_dir)
    path = write(
        tmp_path,
        "in_scope:\n"
        "  - {q: 人才公寓怎么申请, expect: housing-apartment}\n"
        "  - {q: 人才公寓怎么申请, expect: ch-window}\n"
        "out_of_scope: [公积金怎么提取, 人才公寓怎么申请]\n"
        "near_miss:\n  - {q: 人才公寓租金多少, expect: housing-apartment}\n"
        "follow_ups:\n  - turns: [人才公寓怎么申请, 那要什么材料, 明天天气怎么样]\n"
        "    expect: [housing-apartment, housing-apartment, null]\n",
    )
    report = evaluate(understanding, load_eval_set(path))
    summary = report.summary()
    assert (report.in_scope.total, report.in_scope.right, report.in_scope.wrong) == (2, 1, 1)
    assert summary["answered_right"] == 0.5 and summary["answered_wrong"] == 0.5
    assert (report.out_of_scope.total, report.out_of_scope.right) == (2, 1)
    assert report.near_miss.right == 1
    assert (report.follow_ups.total, report.follow_ups.right) == (2, 2)
    assert next(iter(summary)) == "answered_right"


def test_a_gap_turn_is_right_with_its_topic_entry_and_wrong_with_another(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """A follow-up asking a fact the documents lack is judged as a near miss, not as a question."""
    understanding = two_entry_understanding(tmp_path, seeds_dir)
    path = write(
        tmp_path,
        "follow_ups:\n"
        "  - {turns: [人才公寓怎么申请, 那要什么材料], expect: [housing-apartment, housing-apartment],"
        " gap_turn: 2}\n"
        "  - {turns: [人才公寓怎么申请, 那要什么材料], expect: [housing-apartment, ch-window],"
        " gap_turn: 2}\n",
    )
    report = evaluate(understanding, load_eval_set(path))
    assert (report.follow_ups.total, report.follow_ups.right, report.follow_ups.wrong) == (2, 1, 1)


def test_several_questions_count_answered_offered_and_refused_parts(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """The issue serves a message with several questions by answering each part or by offering
    their entries as one list, never by a hand-over: each is counted."""
    understanding = two_entry_understanding(tmp_path, seeds_dir)
    path = write(
        tmp_path,
        "multi:\n"
        "  - {q: 人才公寓怎么申请，另外窗口在哪, expect: [housing-apartment, ch-window]}\n"
        "  - {q: 人才公寓窗口在哪, expect: [housing-apartment, ch-window]}\n"
        "  - {q: 公积金咋提取，医保咋报销, expect: [housing-apartment, ch-window]}\n",
    )
    summary = evaluate(understanding, load_eval_set(path)).summary()
    assert summary["multi"] == 3
    assert summary["multi_all_parts"] == round(1 / 3, 4)
    assert summary["multi_all_parts_or_offered"] == round(2 / 3, 4)
    assert summary["multi_refused"] == round(1 / 3, 4)


def test_an_entry_offered_under_the_answer_to_another_part_counts_as_served(
    matcher: Matcher, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "multi:\n  - {q: 人才公寓怎么申请，另外工匠有啥说法,"
        " expect: [housing-talent-apartment, subsidy-craftsman-award]}\n",
    )
    summary = evaluate(Understanding(matcher), load_eval_set(path)).summary()
    assert (summary["multi_all_parts"], summary["multi_all_parts_or_offered"]) == (0.0, 1.0)
