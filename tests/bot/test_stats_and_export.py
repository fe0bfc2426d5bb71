"""Stats find what people ask and where the KB has gaps; exports open cleanly in Excel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.assistant import Assistant, Person
from bot.log import listing, queries
from bot.log.export import COLUMNS, export_rows
from bot.log.inquiry_log import InquiryLog
from bot.log.models import Ticket, utcnow
from bot.log.stats import compute_stats, group_similar
from bot.texts import texts
from knowledge.service import KnowledgeService


def test_similar_unanswered_questions_are_grouped_as_one_gap() -> None:
    groups = group_similar(
        [
            "公积金怎么提取",
            "请问公积金如何提取？",
            "公积金提取",
            "护照怎么办",
            "护照怎么办理",
            "天气",
        ]
    )
    assert [(g.example, g.count) for g in groups] == [
        ("公积金怎么提取", 3),
        ("护照怎么办", 2),
        ("天气", 1),
    ]
    assert groups[0].variants == ("请问公积金如何提取？", "公积金提取")


async def test_stats_count_outcomes_entries_gaps_feedback_and_response_times(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    person = Person("console:s", "S")
    answered = await assistant.ask(person, "人才公寓怎么申请", channel="console")
    await assistant.ask(person, "人才公寓归谁管理", channel="console")
    gap = await assistant.ask(person, "公积金怎么提取", channel="console")
    await assistant.ask(Person("console:t", "T"), "请问公积金如何提取", channel="console")
    await assistant.ask(person, "你好", channel="console")
    assert answered.inquiry_id and gap.inquiry_id and gap.ticket_id
    await inquiry_log.feedback(answered.inquiry_id, helpful=True)
    async with inquiry_log.sessions.begin() as session:
        opened = utcnow() - timedelta(hours=3)
        ticket = await session.get(Ticket, gap.ticket_id)
        assert ticket is not None
        ticket.opened_at = opened
        await queries.add_staff_reply(
            session,
            ticket_id=gap.ticket_id,
            staff="王",
            text="请咨询公积金中心",
            now=opened + timedelta(hours=1),
        )
        await queries.resolve_ticket(
            session, inquiry_id=gap.inquiry_id, note="ok", now=opened + timedelta(hours=2)
        )
    async with inquiry_log.sessions() as session:
        stats = await compute_stats(session, since=utcnow() - timedelta(days=1))
    assert stats.total == 5
    assert stats.outcomes["unmatched"] == 2 and stats.outcomes["smalltalk"] == 1
    assert stats.top_entries[0][0] == "housing-talent-apartment"
    assert stats.unmatched[0].count == 2
    assert stats.helpful_rate == 1.0
    assert stats.open_tickets == 1
    assert stats.median_first_response == timedelta(hours=1)
    assert stats.median_resolution == timedelta(hours=2)
    assert sum(n for _, n in stats.per_day) == 5


async def test_xlsx_export_has_chinese_headers_widths_and_a_frozen_header(
    knowledge: KnowledgeService, inquiry_log: InquiryLog, tmp_path: Path
) -> None:
    assistant = Assistant(knowledge, inquiry_log)
    await assistant.ask(Person("console:x", "张三"), "人才公寓怎么申请", channel="console")
    await assistant.ask(Person("console:x", "张三"), "公积金怎么提取", channel="console")
    async with inquiry_log.sessions() as session:
        rows = await listing.list_inquiries(session, limit=None)
    target = tmp_path / "log.xlsx"
    export_rows(rows, target, fmt="xlsx", t=texts("zh"), timezone="Asia/Shanghai")
    sheet = load_workbook(target).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header == [texts("zh").t(f"log.columns.{c}") for c in COLUMNS]
    assert header[:3] == ["编号", "提问时间", "提问人"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["G"].width == 48
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [v[6] for v in values] == ["公积金怎么提取", "人才公寓怎么申请"]
    assert [v[7] for v in values] == ["未匹配", "已回答"]
    assert [v[13] for v in values] == ["待处理", "无需跟进"]
    assert [v[COLUMNS.index("reply")] for v in values] == ["未匹配", "人才公寓"], "the bot's reply"


async def test_csv_export_is_utf8_with_bom_for_excel(
    knowledge: KnowledgeService, inquiry_log: InquiryLog, tmp_path: Path
) -> None:
    await Assistant(knowledge, inquiry_log).ask(
        Person("console:x", "张三"), "人才公寓怎么申请", channel="console"
    )
    async with inquiry_log.sessions() as session:
        rows = await listing.list_inquiries(session)
    target = tmp_path / "log.csv"
    export_rows(rows, target, fmt="csv", t=texts("zh"), timezone="Asia/Shanghai")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("编号,提问时间,提问人")
    assert "人才公寓怎么申请" in lines[1]


async def test_a_closed_window_leaves_out_what_came_after_it(
    knowledge: KnowledgeService, inquiry_log: InquiryLog
) -> None:
    await Assistant(knowledge, inquiry_log).ask(
        Person("console:w", "W"), "公积金怎么提取", channel="console"
    )
    now = utcnow()
    async with inquiry_log.sessions() as session:
        yesterday = await compute_stats(
            session, since=now - timedelta(days=1), until=now - timedelta(hours=1)
        )
        today = await compute_stats(
            session, since=now - timedelta(hours=1), until=now + timedelta(hours=1)
        )
    assert (yesterday.total, yesterday.median_first_response) == (0, None)
    assert today.total == 1 and today.outcomes == {"unmatched": 1}
