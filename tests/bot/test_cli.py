"""The talentbot command line, run as a real process."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.texts import texts
from knowledge.loader import KnowledgeBase
from tests.kbfactory import copy_real_kb


def talentbot(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m bot ARGS`` from the project root."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=full_env,
        timeout=120,
        check=False,
    )


def test_ask_json_reads_stdin_and_prints_one_object_per_line_in_order() -> None:
    result = talentbot("ask", "--json", stdin="人才公寓怎么申请\n\n公积金怎么提取\n你好\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["人才公寓怎么申请", "公积金怎么提取", "你好"]
    assert [r["outcome"] for r in rows] == ["answered", "unmatched", "smalltalk"]
    assert list(rows[0]) == [
        "question",
        "outcome",
        "entry_id",
        "title",
        "score",
        "answer",
        "suggestions",
        "elapsed_ms",
    ]
    assert rows[0]["entry_id"] == "housing-talent-apartment"
    assert "人才公寓" in rows[0]["answer"]
    assert rows[1]["entry_id"] is None and rows[1]["answer"] is None


def test_ask_json_takes_questions_as_arguments_too() -> None:
    result = talentbot("ask", "--json", "工匠奖金多少", "有房补吗")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["entry_id"] for r in rows] == ["subsidy-craftsman-award", "housing-allowance"]


def test_ask_prints_a_readable_answer_with_its_source() -> None:
    result = talentbot("ask", "人才公寓怎么申请")
    assert result.returncode == 0, result.stderr
    assert "人才公寓" in result.stdout
    assert "来源" in result.stdout


def test_chat_on_a_pipe_answers_line_by_line_and_offers_numbered_choices(kb: KnowledgeBase) -> None:
    result = talentbot("chat", stdin="你好\n人才公寓怎么申请\n公积金怎么提取\n/quit\n不会被读到\n")
    assert result.returncode == 0, result.stderr
    replies = result.stdout.strip().split("\n\n")
    zh = texts("zh")
    assert replies[0] == zh.t("smalltalk.greeting")
    assert "人才公寓" in replies[1]
    assert replies[-1].startswith("这个问题我暂时回答不了")
    assert "不会被读到" not in result.stdout


def test_chat_in_english_uses_the_english_interface() -> None:
    result = talentbot("chat", "--lang", "en", stdin="hello\nwhat is the weather tomorrow\n")
    assert texts("en").t("smalltalk.greeting") in result.stdout
    assert "I can't answer this one yet." in result.stdout


def test_kb_check_passes_on_the_project_knowledge_base() -> None:
    result = talentbot("kb", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: ")


def test_kb_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    kb_dir = copy_real_kb(tmp_path)
    housing = kb_dir / "entries" / "housing.yaml"
    text = housing.read_text(encoding="utf-8")
    housing.write_text(text.replace("kind: policy", "kind: polcy", 1), encoding="utf-8")
    (kb_dir / "entries" / "zz.yaml").write_text("- id: x\n  kind: [\n", encoding="utf-8")
    result = talentbot("kb", "check", env={"TALENTBOT_KNOWLEDGE__DIR": str(kb_dir)})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("kb/entries/housing.yaml:") and ": kind: Input should be" in line
        for line in lines
    )
    assert any(line.startswith("kb/entries/zz.yaml:3: yaml:") for line in lines)
    assert "2 problem(s)" in result.stderr


def test_bad_settings_exit_2_with_the_key_named(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("matching:\n  margins: 1\n", encoding="utf-8")
    result = talentbot("--settings", str(bad), "kb", "check")
    assert result.returncode == 2
    assert f"{bad}:2: matching.margins: unknown key" in result.stderr


def test_kb_export_jsonl_and_csv_list_every_entry(kb: KnowledgeBase) -> None:
    jsonl = talentbot("kb", "export", "--format", "jsonl")
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["id"] for r in rows] == [e.id for e in kb.entries]
    assert set(rows[0]) == {"id", "title", "category", "audience", "questions", "answer"}
    exported = talentbot("kb", "export", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(table) == len(kb.entries)
    assert table[0]["questions"].split("\n") == list(kb.entries[0].questions)


def test_eval_prints_the_figures_and_gates_on_them() -> None:
    result = talentbot(
        "eval", "tests/eval/questions.yaml", "--min-top1", "0.9", "--min-refusal", "0.9"
    )
    assert result.returncode == 0, result.stdout
    for metric in ("top1", "top3", "refusal", "p99_ms"):
        assert metric in result.stdout


def test_run_without_a_token_explains_and_opens_the_console_chat() -> None:
    result = talentbot("run", stdin="谢谢\n")
    assert result.returncode == 0
    assert "TALENTBOT_TELEGRAM__TOKEN" in result.stderr
    assert texts("zh").t("smalltalk.thanks") in result.stdout
