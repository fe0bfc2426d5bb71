"""The loader accepts a good knowledge base and names file, line and field of every problem."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from knowledge.loader import KnowledgeBaseError, load_knowledge_base
from knowledge.service import KnowledgeService
from tests.kbfactory import APARTMENT, CHANNEL, write_kb


def problems_of(kb_dir: Path, seeds_dir: Path | None) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(kb_dir, seeds_dir=seeds_dir)
    return [str(p) for p in caught.value.problems]


def test_a_valid_small_knowledge_base_loads(tmp_path: Path, seeds_dir: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path, CHANNEL + APARTMENT), seeds_dir=seeds_dir)
    assert [e.id for e in kb.entries] == ["ch-window", "housing-apartment"]
    assert kb.get("housing-apartment") is not None
    assert kb.origin["housing-apartment"] == ("kb/entries/main.yaml", 13)


def test_broken_yaml_names_file_and_line(tmp_path: Path, seeds_dir: Path) -> None:
    broken = CHANNEL + APARTMENT + "- id: [unclosed\n"
    problems = problems_of(write_kb(tmp_path, broken), seeds_dir)
    assert len(problems) == 1
    assert problems[0].startswith("kb/entries/main.yaml:")
    assert ": yaml: " in problems[0]


def test_an_unknown_field_and_a_missing_field_are_reported_with_their_lines(
    tmp_path: Path, seeds_dir: Path
) -> None:
    bad = APARTMENT.replace("  keywords: [人才公寓, 公寓]\n", "  keywrods: [人才公寓]\n")
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert "kb/entries/main.yaml:20: keywrods: unknown field" in problems
    assert any(p.startswith("kb/entries/main.yaml:13: keywords: Field required") for p in problems)


def test_too_few_questions_and_a_long_answer_are_rejected(tmp_path: Path, seeds_dir: Path) -> None:
    bad = APARTMENT.replace(
        "[人才公寓怎么申请, 有没有人才公寓, 人才公寓谁管, 公寓能住多久, 来了没地方住]",
        "[人才公寓怎么申请]",
    ).replace("区里提出建设由区人才服务中心管理的人才公寓。", "很长" * 260)
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert any(p.startswith("kb/entries/main.yaml:19: questions:") for p in problems)
    assert any(
        p.startswith("kb/entries/main.yaml:21: answer: String should have at most 500")
        for p in problems
    )


def test_duplicate_ids_point_to_the_first_one(tmp_path: Path, seeds_dir: Path) -> None:
    twin = APARTMENT.replace("有没有人才公寓", "人才公寓有吗").replace("人才公寓谁管", "公寓谁负责")
    twin = (
        twin.replace("公寓能住多久", "住多久")
        .replace("来了没地方住", "没房住")
        .replace("人才公寓怎么申请", "申请公寓")
    )
    problems = problems_of(write_kb(tmp_path, CHANNEL + APARTMENT + twin), seeds_dir)
    assert problems == [
        "kb/entries/main.yaml:26: id: duplicate id 'housing-apartment' (first at kb/entries/main.yaml:13)"
    ]


def test_unknown_channels_and_non_channel_targets_are_reported(
    tmp_path: Path, seeds_dir: Path
) -> None:
    bad = APARTMENT.replace("channels: [ch-window]", "channels: [ch-nowhere, housing-apartment]")
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert "kb/entries/main.yaml:22: channels.0: unknown channel id 'ch-nowhere'" in problems
    assert (
        "kb/entries/main.yaml:22: channels.1: 'housing-apartment' is not a kind: channel entry"
        in problems
    )


def test_a_quote_that_is_not_verbatim_in_its_source_is_reported(
    tmp_path: Path, seeds_dir: Path
) -> None:
    bad = APARTMENT.replace(
        "quote: 由区人才服务中心管理的人才公寓", "quote: 由区人才服务中心管理的人才宿舍"
    )
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert problems == [
        "kb/entries/main.yaml:25: sources.0.quote: not verbatim in 001_2094e51072598db3.txt: '由区人才服务中心管理的人才宿舍'"
    ]


def test_an_unknown_placeholder_is_reported(tmp_path: Path, seeds_dir: Path) -> None:
    bad = APARTMENT.replace("人才公寓。", "人才公寓，电话 {hotline}。")
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert len(problems) == 1
    assert problems[0].startswith(
        "kb/entries/main.yaml:21: answer: Value error, unknown placeholder {hotline}"
    )


def test_an_unknown_source_document_is_reported(tmp_path: Path, seeds_dir: Path) -> None:
    bad = APARTMENT.replace("file: 001_2094e51072598db3.txt", "file: 009_0000000000000000.txt")
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert problems == [
        "kb/entries/main.yaml:24: sources.0.file: unknown source document '009_0000000000000000.txt'"
    ]


def test_a_question_used_by_two_entries_is_reported(tmp_path: Path, seeds_dir: Path) -> None:
    bad = APARTMENT.replace("来了没地方住", "窗口在哪")
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert problems == [
        "kb/entries/main.yaml:19: questions.4: '窗口在哪' is also a question of 'ch-window'"
    ]


def test_bad_synonyms_are_reported(tmp_path: Path, seeds_dir: Path) -> None:
    kb_dir = write_kb(
        tmp_path,
        CHANNEL + APARTMENT,
        extra_files={"synonyms.yaml": "人才公寓: [人才房]\n配偶: 老婆\n住房: [人才房]\n"},
    )
    problems = problems_of(kb_dir, seeds_dir)
    assert "kb/synonyms.yaml:2: 配偶: variants must be a list of text" in problems
    assert "kb/synonyms.yaml:3: 住房: variant '人才房' already maps to '人才公寓'" in problems


def test_a_failed_reload_keeps_the_last_good_knowledge_base(
    tmp_path: Path, seeds_dir: Path
) -> None:
    kb_dir = write_kb(tmp_path, CHANNEL + APARTMENT)
    service = KnowledgeService(kb_dir, seeds_dir=seeds_dir)
    service.load()
    (kb_dir / "entries" / "main.yaml").write_text(
        "- id: broken\n  kind: nonsense\n", encoding="utf-8"
    )
    problems = service.reload()
    assert problems, "a broken file must be reported"
    assert any("kind" in str(p) for p in problems)
    assert len(service.kb) == 2
    assert service.matcher.match("人才公寓怎么申请").entry is not None


def test_a_missing_status_is_reported_with_its_line(tmp_path: Path, seeds_dir: Path) -> None:
    bad = APARTMENT.replace("  status: planned\n", "")
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert problems == ["kb/entries/main.yaml:13: status: Field required"]


def test_an_entry_may_not_send_people_to_a_channel_that_is_only_planned(
    tmp_path: Path, seeds_dir: Path
) -> None:
    planned_channel = (
        CHANNEL.replace("status: in_place", "status: planned")
        .replace("file: 003_68e7bb52513ef553.txt", "file: 001_2094e51072598db3.txt")
        .replace("quote: 设立人才服务窗口", "quote: 成立区高层次人才服务中心")
        .replace("提供一站式服务", "区里提出设立，提供一站式服务")
    )
    problems = problems_of(write_kb(tmp_path, planned_channel + APARTMENT), seeds_dir)
    assert problems == [
        "kb/entries/main.yaml:22: channels.0: 'ch-window' is planned, not in place: "
        "send people only where the documents show a service exists"
    ]


def test_a_former_id_resolves_to_the_entry_it_was_merged_into(
    tmp_path: Path, seeds_dir: Path
) -> None:
    merged = APARTMENT.replace(
        "  channels: [ch-window]\n", "  channels: [ch-window]\n  aliases: [housing-old-flat]\n"
    )
    kb = load_knowledge_base(write_kb(tmp_path, CHANNEL + merged), seeds_dir=seeds_dir)
    entry = kb.get("housing-old-flat")
    assert entry is not None and entry.id == "housing-apartment"


def test_an_alias_that_is_another_entrys_id_is_reported(tmp_path: Path, seeds_dir: Path) -> None:
    bad = APARTMENT.replace(
        "  channels: [ch-window]\n", "  channels: [ch-window]\n  aliases: [ch-window]\n"
    )
    problems = problems_of(write_kb(tmp_path, CHANNEL + bad), seeds_dir)
    assert problems == ["kb/entries/main.yaml:23: aliases.0: 'ch-window' is an entry's id"]


def test_two_entries_quoting_one_passage_on_one_topic_must_be_merged_or_related(
    tmp_path: Path, seeds_dir: Path
) -> None:
    twin = (
        APARTMENT.replace("housing-apartment", "housing-flat")
        .replace(
            "人才公寓怎么申请, 有没有人才公寓, 人才公寓谁管, 公寓能住多久, 来了没地方住",
            "a1, a2, a3, a4, a5",
        )
        .replace("title: 人才公寓", "title: 人才住房")
    )
    problems = problems_of(write_kb(tmp_path, CHANNEL + APARTMENT + twin), seeds_dir)
    assert problems == [
        "kb/entries/main.yaml:36: related: quotes the passage 'housing-apartment' quotes and "
        "shares keyword '人才公寓': merge the two, or list 'housing-apartment' under related"
    ]
    related = twin.replace(
        "  channels: [ch-window]\n", "  channels: [ch-window]\n  related: [housing-apartment]\n"
    )
    load_knowledge_base(write_kb(tmp_path, CHANNEL + APARTMENT + related), seeds_dir=seeds_dir)


async def test_reloading_runs_off_the_event_loop_and_keeps_serving_meanwhile(
    tmp_path: Path, seeds_dir: Path
) -> None:
    kb_dir = write_kb(tmp_path, CHANNEL + APARTMENT)
    service = KnowledgeService(kb_dir, seeds_dir=seeds_dir)
    service.load()
    before = service.matcher
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(ticking())
    problems = await service.reload_async()
    ticker.cancel()
    assert problems == []
    assert ticks > 1, "the loop ran other work while the knowledge base was rebuilt"
    assert service.matcher is not before
