"""The talentbot command line, run as a real process."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import pty
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.assistant import Person
from bot.log.inquiry_log import InquiryLog
from bot.settings import PROJECT_ROOT
from bot.texts import texts
from knowledge.loader import KnowledgeBase
from tests.kbfactory import copy_real_kb

SCRATCH = Path(tempfile.mkdtemp(prefix="talentbot-cli-"))
"""The CLI tests' default database, so they never write into the project's data/ folder."""


def talentbot(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m bot ARGS`` from the project root."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    full_env["COLUMNS"] = "200"
    full_env["TALENTBOT_DATABASE__URL"] = f"sqlite+aiosqlite:///{SCRATCH / 'cli.sqlite3'}"
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
        "person",
        "question",
        "outcome",
        "entry_id",
        "title",
        "entries",
        "score",
        "confidence",
        "via_context",
        "answer",
        "suggestions",
        "also",
        "elapsed_ms",
    ]
    assert rows[0]["entry_id"] == "housing-talent-apartment"
    assert "人才公寓" in rows[0]["answer"]
    assert rows[1]["entry_id"] is None and rows[1]["answer"] is None


def test_ask_json_lines_of_one_person_are_one_conversation() -> None:
    lines = [
        {"person": "p1", "text": "人才公寓怎么申请"},
        {"person": "p1", "text": "那要什么材料"},
        {"person": "p2", "text": "那要什么材料"},
        {"person": "p1", "text": "那明天天气怎么样"},
    ]
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    rows = [json.loads(r) for r in talentbot("ask", "--json", stdin=stdin).stdout.splitlines()]
    assert [r["person"] for r in rows] == ["p1", "p1", "p2", "p1"]
    assert rows[1]["entry_id"] == "housing-talent-apartment" and rows[1]["via_context"] is True
    assert rows[2]["entry_id"] != "housing-talent-apartment"  # p2 never asked about housing
    assert rows[3]["outcome"] == "unmatched"  # an out-of-scope follow-up is still refused


def test_an_entry_offered_under_an_answer_is_listed_and_opened_by_its_number() -> None:
    asked = talentbot("ask", "--json", "人才公寓怎么申请，另外工匠有啥说法")
    row = json.loads(asked.stdout)
    assert row["entry_id"] == "housing-talent-apartment"
    assert [a["entry_id"] for a in row["also"]] == ["subsidy-craftsman-award"]
    chat = talentbot("chat", stdin="人才公寓怎么申请，另外工匠有啥说法\n1\n")
    assert chat.returncode == 0, chat.stderr
    first, second = chat.stdout.split("\n\n" + texts("zh").t("multi.also_header"))[1].split(
        "\n\n", 1
    )
    offered = first.strip().splitlines()[0]
    assert offered.startswith("1. ")
    assert second.startswith(f"【{offered.removeprefix('1. ')}】")  # "1" opened the offer


def test_ask_json_names_a_bad_line_in_one_message() -> None:
    result = talentbot("ask", "--json", stdin='{"person": "p1", "text": "你好"}\n{"person": "p1"\n')
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]  # after any start-up notice
    assert last_line.startswith(texts("zh").t("cli.bad_json_line", number=2, error="")[:6])


def test_a_start_that_must_fit_the_matching_model_says_so_once(tmp_path: Path) -> None:
    """The first start after a knowledge-base change is seconds longer: it says why."""
    env = {"TALENTBOT_KNOWLEDGE__CACHE_DIR": str(tmp_path / "cache")}
    notice = texts("zh").t("cli.fitting", entries=0).split("0")[0]
    first = talentbot("ask", "人才公寓怎么申请", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(notice) == 1
    again = talentbot("ask", "人才公寓怎么申请", env=env)
    assert again.returncode == 0 and notice not in again.stderr


def test_ask_json_takes_questions_as_arguments_too() -> None:
    result = talentbot("ask", "--json", "工匠奖金多少", "有房补吗")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["entry_id"] for r in rows] == ["subsidy-craftsman-award", "housing-allowance"]
    assert [r["person"] for r in rows] == ["line-1", "line-2"]


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


def test_chat_follows_the_conversation_hands_over_and_asks_to_rephrase(tmp_path: Path) -> None:
    database = {"TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}"}
    stdin = "人才公寓怎么申请\n那要什么材料\n？？？\n转人工\n"
    result = talentbot("chat", stdin=stdin, env=database)
    assert result.returncode == 0, result.stderr
    zh = texts("zh")
    assert result.stdout.count("【人才公寓】") == 2, "the follow-up is answered about the apartment"
    assert zh.t("answer.repeated") in result.stdout, "and points back at the answer above it"
    assert zh.t("unclear.text") in result.stdout
    assert zh.t("human.opened", ticket=1) in result.stdout


def test_a_new_chat_session_gives_the_answer_whole_though_the_log_remembers_it(
    tmp_path: Path,
) -> None:
    database = {"TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}"}
    first = talentbot("chat", stdin="人才公寓怎么申请\n", env=database)
    second = talentbot("chat", stdin="那要交哪些材料\n", env=database)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "【人才公寓】" in second.stdout, "the follow-up window outlives the session"
    assert texts("zh").t("answer.repeated") not in second.stdout, "but this screen is empty"


def test_chat_in_english_uses_the_english_interface() -> None:
    result = talentbot("chat", "--lang", "en", stdin="hello\nwhat is the weather tomorrow\n")
    assert texts("en").t("smalltalk.greeting") in result.stdout
    assert "I can't answer this one yet." in result.stdout


def test_kb_check_passes_on_the_project_knowledge_base() -> None:
    result = talentbot("kb", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: ")


def test_unfilled_office_settings_are_named_once_at_start_up(tmp_path: Path) -> None:
    zh = texts("zh")
    filled = {"TALENTBOT_OFFICE__PHONE": "0730-0000000"}
    check = talentbot("kb", "check", env=filled)
    warning = zh.t("settings.unfilled", keys="office.address、office.hours")
    assert check.stderr.count(warning) == 1
    chat = talentbot("chat", stdin="你好\n", env=filled)
    assert warning in chat.stderr
    everything = {
        **filled,
        "TALENTBOT_OFFICE__ADDRESS": "区政务大楼",
        "TALENTBOT_OFFICE__HOURS": "9-17",
    }
    assert "【待填写】" not in talentbot("kb", "check", env=everything).stderr


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
    assert "共 2 个问题" in result.stderr


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
    result = talentbot("eval", "tests/eval/questions.yaml", "--min-refusal", "0.9")
    assert result.returncode == 0, result.stdout
    lines = [line for line in result.stdout.splitlines() if "│" in line]
    assert "answered_right" in lines[0], "the headline comes first"
    for metric in ("answered_wrong", "right_incl_first_suggestion", "refusal", "p99_ms"):
        assert metric in result.stdout
    failing = talentbot("eval", "tests/eval/questions.yaml", "--min-right", "0.999")
    assert failing.returncode == 1


def test_eval_names_a_malformed_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("in_scope:\n  - q: 人才公寓\nquestions: []\n", encoding="utf-8")
    result = talentbot("eval", str(bad))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"{bad}: unknown section 'questions'; known: in_scope, near_miss, out_of_scope, follow_ups, multi"
    )


def test_run_without_a_token_explains_and_opens_the_console_chat() -> None:
    result = talentbot("run", stdin="谢谢\n")
    assert result.returncode == 0
    assert "TALENTBOT_TELEGRAM__TOKEN" in result.stderr
    assert texts("zh").t("smalltalk.thanks") in result.stdout


def test_staff_commands_list_show_assign_resolve_export_stats_purge_and_forget(
    tmp_path: Path,
) -> None:
    env = {"TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"}
    chat = talentbot("chat", stdin="人才公寓怎么申请\n公积金怎么提取\n", env=env)
    assert chat.returncode == 0, chat.stderr

    listed = talentbot("inquiries", "list", "--json", env=env)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["text"], r["outcome"], r["status"]) for r in rows] == [
        ("公积金怎么提取", "unmatched", "open"),
        ("人才公寓怎么申请", "answered", None),
    ]
    unmatched_id = rows[0]["id"]
    assert (
        talentbot("inquiries", "list", "--outcome", "answered", "--json", env=env).stdout.count(
            "\n"
        )
        == 1
    )
    table = talentbot("inquiries", "list", "--status", "open", env=env)
    assert "公积金怎么提取" in table.stdout and "人才公寓怎么申请" not in table.stdout

    shown = talentbot("inquiries", "show", str(unmatched_id), env=env)
    assert "问题: 公积金怎么提取" in shown.stdout and "工单状态: 待处理" in shown.stdout

    assert talentbot("inquiries", "assign", str(unmatched_id), "王专员", env=env).returncode == 0
    resolved = talentbot("inquiries", "resolve", str(unmatched_id), "--note", "已电话答复", env=env)
    assert resolved.returncode == 0 and "已解决" in resolved.stdout
    again = talentbot("inquiries", "resolve", str(unmatched_id), "--note", "x", env=env)
    assert again.returncode == 1 and "已经解决" in again.stderr
    missing = talentbot("inquiries", "show", "999", env=env)
    assert missing.returncode == 1 and "没有编号为 999 的咨询记录" in missing.stderr

    target = tmp_path / "log.xlsx"
    exported = talentbot("inquiries", "export", "--format", "xlsx", "-o", str(target), env=env)
    assert exported.returncode == 0 and target.stat().st_size > 0

    stats_out = json.loads(talentbot("stats", "--json", env=env).stdout)
    assert stats_out["total"] == 2 and stats_out["outcomes"] == {"answered": 1, "unmatched": 1}
    assert stats_out["open_tickets"] == 0 and stats_out["median_resolution_s"] is not None
    assert "知识库缺口" in talentbot("stats", env=env).stdout

    purged = talentbot("db", "purge", "--days", "1", env=env)
    assert purged.returncode == 0 and "没有需要删除的记录" in purged.stdout
    person = rows[0]["person_key"]
    assert talentbot("forget", person, env=env).returncode == 0
    assert talentbot("inquiries", "list", "--json", env=env).stdout == ""
    assert talentbot("forget", person, env=env).returncode == 1


def test_an_unreachable_database_is_one_clear_error() -> None:
    env = {"TALENTBOT_DATABASE__URL": "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"}
    result = talentbot("inquiries", "list", env=env)
    assert result.returncode == 1
    assert "无法打开数据库 postgresql+psycopg://nobody:***@127.0.0.1:1/none" in result.stderr
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_demands_list_shows_registered_recruitment_needs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"

    async def register() -> None:
        log = await InquiryLog.open(url)
        try:
            await log.add_demand(
                Person("telegram:9", "Boss"),
                company="某某科技公司",
                contact_name="王经理",
                contact_phone="13800000000",
                positions=[{"title": "焊工", "count": 3, "requirement": "焊工证", "pay": "面议"}],
                needed_by="尽快",
                summary="某某科技公司 焊工 3 人",
            )
        finally:
            await log.close()

    asyncio.run(register())
    env = {"TALENTBOT_DATABASE__URL": url}
    rows = [
        json.loads(line)
        for line in talentbot("demands", "list", "--json", env=env).stdout.splitlines()
    ]
    assert [(r["company"], r["positions"][0]["title"], r["needed_by"]) for r in rows] == [
        ("某某科技公司", "焊工", "尽快")
    ]
    table = talentbot("demands", "list", env=env)
    assert "1 条招聘需求" in table.stdout and "焊工 / 3 / 焊工证 / 面议" in table.stdout
    target = tmp_path / "log.xlsx"
    assert talentbot("inquiries", "export", "-o", str(target), env=env).returncode == 0
    from openpyxl import load_workbook

    sheet = load_workbook(target)["招聘需求"]
    assert [c.value for c in sheet[2]][2] == "某某科技公司"


def _logged_questions(tmp_path: Path) -> tuple[dict[str, str], list[dict[str, object]]]:
    tmp_path.mkdir(exist_ok=True)
    env = {"TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}"}
    chat = talentbot("chat", stdin="人才公寓怎么申请\n公积金怎么提取\n", env=env)
    assert chat.returncode == 0, chat.stderr
    listed = talentbot("inquiries", "list", "--json", env=env)
    return env, [json.loads(line) for line in listed.stdout.splitlines()]


def test_assigning_to_an_empty_name_is_refused_and_leaves_the_ticket_alone(
    tmp_path: Path,
) -> None:
    env, rows = _logged_questions(tmp_path)
    unmatched = str(rows[0]["id"])
    assert talentbot("inquiries", "assign", unmatched, "王专员", env=env).returncode == 0
    for blank in ("", "  "):
        refused = talentbot("inquiries", "assign", unmatched, blank, env=env)
        assert refused.returncode == 2
        assert refused.stderr.strip() == texts("zh").t("cli.blank_assignee")
    listed = talentbot("inquiries", "list", "--json", env=env).stdout.splitlines()
    assert json.loads(listed[0])["assignee"] == "王专员"
    answered = talentbot("inquiries", "assign", str(rows[1]["id"]), "王专员", env=env)
    assert answered.returncode == 1 and "没有跟进工单" in answered.stderr


def test_dry_runs_count_what_purge_and_forget_would_delete_and_delete_nothing(
    tmp_path: Path,
) -> None:
    env, rows = _logged_questions(tmp_path)
    person = str(rows[0]["person_key"])
    forget_dry = talentbot("forget", person, "--dry-run", env=env)
    assert forget_dry.returncode == 0, forget_dry.stderr
    assert "演练" in forget_dry.stdout and "咨询记录 2 条" in forget_dry.stdout
    assert "咨询人 1 条" in forget_dry.stdout and "工单 1 条" in forget_dry.stdout
    with sqlite3.connect(tmp_path / "log.sqlite3") as db:
        db.execute("UPDATE inquiries SET created_at = '2020-01-01 00:00:00.000000'")
    purge_dry = talentbot("db", "purge", "--days", "30", "--dry-run", env=env)
    assert purge_dry.returncode == 0, purge_dry.stderr
    assert "演练" in purge_dry.stdout and "咨询记录 1 条" in purge_dry.stdout, purge_dry.stdout
    assert len(talentbot("inquiries", "list", "--json", env=env).stdout.splitlines()) == 2
    purged = talentbot("db", "purge", "--days", "30", env=env)
    assert purged.returncode == 0 and "已删除 30 天前的 1 条咨询记录" in purged.stdout
    assert len(talentbot("inquiries", "list", "--json", env=env).stdout.splitlines()) == 1
    missing = talentbot("forget", "telegram:404", "--dry-run", env=env)
    assert missing.returncode == 1 and "记录中没有 telegram:404" in missing.stderr


def _on_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Runs talentbot with a pseudo-terminal as stdin, typing ``answer`` at the prompt."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    full_env.update(env)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=full_env,
        )
        os.write(controller, answer.encode())
        output, _ = process.communicate(timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    return process.returncode, output.decode()


def test_forget_on_a_terminal_asks_first_and_yes_skips_the_question(tmp_path: Path) -> None:
    env, rows = _logged_questions(tmp_path)
    person = str(rows[0]["person_key"])
    code, output = _on_a_terminal(["forget", person], env, "n\n")
    assert code == 1 and "确定删除吗" in output and "已取消" in output, output
    assert len(talentbot("inquiries", "list", "--json", env=env).stdout.splitlines()) == 2
    code, output = _on_a_terminal(["forget", person], env, "y\n")
    assert code == 0 and "已删除" in output, output
    assert talentbot("inquiries", "list", "--json", env=env).stdout == ""
    env, rows = _logged_questions(tmp_path / "again")
    code, output = _on_a_terminal(["forget", str(rows[0]["person_key"]), "--yes"], env, "")
    assert code == 0 and "确定删除吗" not in output and "已删除" in output, output


def test_cli_errors_speak_the_tables_language() -> None:
    result = talentbot("ask")
    assert result.returncode == 2
    assert result.stderr.strip() == texts("zh").t("cli.ask_needs_question")
