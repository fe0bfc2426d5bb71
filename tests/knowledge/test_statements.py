"""A plan is not a promise: statements are held against the passages they cite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.loader import DEFAULT_KB_DIR
from knowledge.schema import Document, Entry
from knowledge.statements import SeedText, check_entry, unwrap

OPINION = "001_2094e51072598db3.txt"
WORK_REPORT = "000_8cec6da6d1054155.txt"
REPORT_2023 = "002_966f425f4240af66.txt"
WINDOW_REPORT = "003_68e7bb52513ef553.txt"


@pytest.fixture(scope="module")
def seeds(seeds_dir: Path) -> dict[str, SeedText]:
    raw = yaml.safe_load((DEFAULT_KB_DIR / "documents.yaml").read_text(encoding="utf-8"))
    return {
        name: SeedText.of(
            name, Document.model_validate(spec), (seeds_dir / name).read_text(encoding="utf-8")
        )
        for name, spec in raw.items()
    }


def entry(status: str, answer: str, *sources: tuple[str, str]) -> Entry:
    return Entry.model_validate(
        {
            "id": "test-entry",
            "kind": "policy",
            "audience": "talent",
            "category": "housing",
            "status": status,
            "title": "测试条目",
            "questions": ["一", "二", "三", "四", "五"],
            "keywords": ["测试"],
            "answer": answer,
            "sources": [{"file": file, "quote": quote} for file, quote in sources],
        }
    )


def test_unwrap_joins_a_line_broken_inside_a_number_but_keeps_paragraphs() -> None:
    assert unwrap("实用人才3\n1名。\n\n下一段") == "实用人才31名。\n\n下一段"
    assert unwrap("一句话。\n另一句") == "一句话。\n另一句"


def test_a_figure_broken_across_lines_in_the_seed_can_be_quoted_whole(
    seeds: dict[str, SeedText],
) -> None:
    assert seeds[WORK_REPORT].contains("中高级实用人才31名")


def test_everything_an_opinion_says_is_forward_looking(seeds: dict[str, SeedText]) -> None:
    reason = seeds[OPINION].forward_looking("逐步建立人才购房补贴制度")
    assert reason is not None and "opinion" in reason


def test_a_reports_recommendations_are_forward_looking_and_its_results_are_not(
    seeds: dict[str, SeedText],
) -> None:
    report = seeds[WORK_REPORT]
    recommendation = report.forward_looking("支持企业建立专家工作站")
    assert recommendation is not None and "几点工作建议" in recommendation
    assert report.forward_looking("为56家（次）企业在智联网发布信息、招聘人才提供免费服务") is None


def test_next_steps_at_the_end_of_a_report_are_forward_looking(seeds: dict[str, SeedText]) -> None:
    reason = seeds[REPORT_2023].forward_looking("推进党委联系服务专家工作常态化")
    assert reason is not None and "下步打算" in reason


def test_a_planning_word_in_the_quote_marks_it_but_a_programme_name_does_not(
    seeds: dict[str, SeedText],
) -> None:
    report = seeds[WORK_REPORT]
    assert report.forward_looking(
        "计划探索引进工程、投融资、电子商务、名校校长等管理型专业技术人才30名"
    )
    assert seeds[REPORT_2023].forward_looking("扎实推进**英才计划") is None


def test_an_opinion_cannot_back_a_measure_said_to_be_in_place(seeds: dict[str, SeedText]) -> None:
    problems = check_entry(
        entry(
            "in_place", "区里提出逐步建立人才购房补贴制度。", (OPINION, "逐步建立人才购房补贴制度")
        ),
        seeds,
    )
    assert [p.field for p in problems] == ["status"]
    assert "every quoted passage is forward-looking" in problems[0].message


def test_a_planned_measure_needs_a_passage_that_plans_it(seeds: dict[str, SeedText]) -> None:
    problems = check_entry(
        entry("planned", "2023年设立了人才工作联络站。", (REPORT_2023, "设立人才工作联络站")),
        seeds,
    )
    assert [p.field for p in problems] == ["status"]


def test_a_plan_must_be_called_a_plan_and_not_opened_with_yes(seeds: dict[str, SeedText]) -> None:
    problems = check_entry(
        entry(
            "planned",
            "有这项政策。对有较大贡献的创新创业人才，在购房方面给予适当经济补贴。",
            (OPINION, "逐步建立人才购房补贴制度"),
        ),
        seeds,
    )
    messages = [(p.field, p.message) for p in problems]
    assert messages[0][0] == "answer" and "never says so" in messages[0][1]
    assert messages[1][0] == "answer" and "'有这项政策。'" in messages[1][1]


def test_an_in_place_measure_with_a_planned_part_passes_when_the_plan_is_named(
    seeds: dict[str, SeedText],
) -> None:
    fitting = entry(
        "in_place",
        "区里设立了人才服务窗口，提供一站式服务；区里还提出探索建立人才绿卡制度。",
        (WINDOW_REPORT, "设立人才服务窗口"),
        (OPINION, "探索建立人才绿卡制度"),
    )
    assert check_entry(fitting, seeds) == []
