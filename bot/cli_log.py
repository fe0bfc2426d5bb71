"""Staff commands over the inquiry log: list, show, assign, resolve, export, stats, purge, forget."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from bot import inquiries
from bot.cli_common import err, get_settings, local_midnight, open_log
from bot.export import COLUMNS, DEMAND_COLUMNS, demand_rows, export_rows, table_rows
from bot.inquiries import InquiryNotFound, TicketError
from bot.inquiry_log import InquiryLog
from bot.models import Demand
from bot.settings import Settings
from bot.stats import Stats, compute_stats
from bot.texts import texts

__all__ = ["db_app", "demands_app", "forget", "inquiries_app", "stats"]

inquiries_app = typer.Typer(
    help="The inquiry log: list, show, assign, resolve, export.", no_args_is_help=True
)
demands_app = typer.Typer(
    help="Enterprises' recruitment needs (from /demand).", no_args_is_help=True
)
db_app = typer.Typer(
    help="Database upkeep: upgrade the schema, purge old records.", no_args_is_help=True
)

T = TypeVar("T")
DATE = typer.Option(
    "--since", formats=["%Y-%m-%d"], help="Only from this date (YYYY-MM-DD, office time zone)."
)
out = Console(highlight=False)


class Status(StrEnum):
    """Ticket statuses to filter by."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class OutcomeFilter(StrEnum):
    """Matcher outcomes to filter by."""

    ANSWERED = "answered"
    SUGGESTED = "suggested"
    UNMATCHED = "unmatched"
    SMALLTALK = "smalltalk"


class ExportFormat(StrEnum):
    """Formats of ``inquiries export``."""

    CSV = "csv"
    XLSX = "xlsx"


def _with_log(settings: Settings, work: Callable[[InquiryLog], Awaitable[T]]) -> T:
    async def run() -> T:
        log = await open_log(settings)
        try:
            return await work(log)
        finally:
            await log.close()

    return asyncio.run(run())


def _fail(exc: Exception) -> typer.Exit:
    err.print(str(exc), markup=False)
    return typer.Exit(1)


@inquiries_app.command("list")
def list_command(
    status: Annotated[Status | None, typer.Option(help="Ticket status.")] = None,
    outcome: Annotated[OutcomeFilter | None, typer.Option(help="Matcher outcome.")] = None,
    since: Annotated[datetime | None, DATE] = None,
    search: Annotated[
        str | None, typer.Option(help="Text in the question, entry title or name.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List inquiries, newest first."""
    settings = get_settings()
    tz = settings.staff.timezone

    async def work(log: InquiryLog) -> list[inquiries.InquiryRow]:
        async with log.sessions() as session:
            return await inquiries.list_inquiries(
                session,
                status=status.value if status else None,
                outcome=outcome.value if outcome else None,
                since=local_midnight(since, tz),
                search=search,
                limit=limit,
            )

    rows = _with_log(settings, work)
    if as_json:
        for row in rows:
            record = asdict(row)
            record["created_at"] = row.created_at.isoformat()
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    t = texts("zh")
    shown = ("id", "created_at", "person", "text", "outcome", "entry_title", "status", "assignee")
    table = Table(title=f"{len(rows)} 条咨询记录", show_lines=False)
    for column in shown:
        table.add_column(
            t.t(f"log.columns.{column}"),
            overflow="fold",
            max_width=40 if column == "text" else None,
        )
    for values in table_rows(rows, t, tz):
        record = dict(zip(COLUMNS, values, strict=True))
        table.add_row(*("" if record[c] is None else str(record[c]) for c in shown))
    out.print(table)


@inquiries_app.command("show")
def show_command(inquiry_id: Annotated[int, typer.Argument(help="Inquiry id.")]) -> None:
    """Show one inquiry with its feedback, ticket and messages."""
    settings = get_settings()

    async def work(log: InquiryLog) -> inquiries.InquiryView:
        async with log.sessions() as session:
            return await inquiries.get_inquiry(session, inquiry_id)

    try:
        view = _with_log(settings, work)
    except InquiryNotFound as exc:
        raise _fail(exc) from exc
    t = texts("zh")
    record = dict(zip(COLUMNS, table_rows([view.row], t, settings.staff.timezone)[0], strict=True))
    for column in COLUMNS:
        if record[column] not in (None, ""):
            out.print(f"[bold]{t.t(f'log.columns.{column}')}[/]: ", end="")
            out.print(str(record[column]), markup=False)
    for suggestion in view.suggestions:
        out.print(
            f"  推荐: {suggestion.get('title')} ({suggestion.get('entry_id')}, {suggestion.get('score')})",
            markup=False,
        )
    for feedback in view.feedback:
        verdict = "有帮助" if feedback.helpful else "没帮助"
        out.print(f"反馈: {verdict} {feedback.comment or ''}", markup=False)
    if view.ticket is not None and view.ticket.resolution_note:
        out.print(f"处理说明: {view.ticket.resolution_note}", markup=False)
    zone = ZoneInfo(settings.staff.timezone)
    for message in view.messages:
        when = message.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        out.print(
            f"  [{when}] {message.author} {message.author_name}: {message.text}", markup=False
        )


@inquiries_app.command("resolve")
def resolve_command(
    inquiry_id: Annotated[int, typer.Argument(help="Inquiry id.")],
    note: Annotated[str, typer.Option("--note", help="What was done (kept with the ticket).")],
    staff: Annotated[str | None, typer.Option(help="Who resolved it.")] = None,
) -> None:
    """Resolve the ticket following up an inquiry."""
    settings = get_settings()

    async def work(log: InquiryLog) -> int:
        async with log.sessions.begin() as session:
            ticket = await inquiries.resolve_ticket(
                session, inquiry_id=inquiry_id, note=note, staff=staff
            )
            return ticket.id

    try:
        ticket_id = _with_log(settings, work)
    except (InquiryNotFound, TicketError) as exc:
        raise _fail(exc) from exc
    out.print(f"工单 {ticket_id} 已解决（咨询 {inquiry_id}）")


@inquiries_app.command("assign")
def assign_command(
    inquiry_id: Annotated[int, typer.Argument(help="Inquiry id.")],
    staff: Annotated[str, typer.Argument(help="The specialist taking it.")],
) -> None:
    """Assign the ticket following up an inquiry to a specialist."""
    settings = get_settings()

    async def work(log: InquiryLog) -> int:
        async with log.sessions.begin() as session:
            ticket = await inquiries.assign_ticket(session, inquiry_id=inquiry_id, staff=staff)
            return ticket.id

    try:
        ticket_id = _with_log(settings, work)
    except (InquiryNotFound, TicketError) as exc:
        raise _fail(exc) from exc
    out.print(f"工单 {ticket_id} 已分配给 {staff}（咨询 {inquiry_id}）", markup=False)


@inquiries_app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")] = ExportFormat.XLSX,
    since: Annotated[datetime | None, DATE] = None,
) -> None:
    """Export the inquiry log for Excel/WPS."""
    settings = get_settings()
    tz = settings.staff.timezone

    async def work(log: InquiryLog) -> tuple[list[inquiries.InquiryRow], list[Demand]]:
        async with log.sessions() as session:
            start = local_midnight(since, tz)
            rows = await inquiries.list_inquiries(session, since=start, limit=None)
            return rows, await inquiries.list_demands(session, since=start)

    rows, demands = _with_log(settings, work)
    try:
        export_rows(rows, output, fmt=fmt.value, t=texts("zh"), timezone=tz, demands=demands)
    except OSError as exc:
        raise _fail(exc) from exc
    out.print(f"已导出 {len(rows)} 条记录到 {output}", markup=False)


def _duration(value: Any) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} 小时 {minutes % 60} 分" if minutes >= 60 else f"{minutes} 分钟"


def render_stats(result: Stats) -> None:
    """Prints the stats as rich tables."""
    t = texts("zh")
    out.print(f"[bold]咨询总数[/]: {result.total}")
    if result.answer_rate is not None:
        out.print(f"[bold]直接回答率[/]: {result.answer_rate:.1%}")
    if result.helpful_rate is not None:
        out.print(
            f"[bold]有帮助比例[/]: {result.helpful_rate:.1%}（{result.helpful} 有帮助 / {result.not_helpful} 没帮助）"
        )
    out.print(f"[bold]未结工单[/]: {result.open_tickets}")
    out.print(f"[bold]首次响应时间中位数[/]: {_duration(result.median_first_response)}")
    out.print(f"[bold]解决时间中位数[/]: {_duration(result.median_resolution)}")
    split = Table(title="结果分布")
    split.add_column("结果")
    split.add_column("数量", justify="right")
    for outcome, count in result.outcomes.items():
        split.add_row(t.t(f"log.outcome.{outcome}"), str(count))
    out.print(split)
    days = Table(title="每日咨询量")
    days.add_column("日期")
    days.add_column("数量", justify="right")
    for day, count in result.per_day:
        days.add_row(day.isoformat(), str(count))
    out.print(days)
    entries = Table(title="最常匹配的条目")
    entries.add_column("条目")
    entries.add_column("标题")
    entries.add_column("次数", justify="right")
    for entry_id, title, count in result.top_entries:
        entries.add_row(entry_id, title, str(count))
    out.print(entries)
    gaps = Table(title="未能回答的问题（知识库缺口）")
    gaps.add_column("问题")
    gaps.add_column("次数", justify="right")
    gaps.add_column("相似说法", overflow="fold")
    for group in result.unmatched:
        gaps.add_row(group.example, str(group.count), "；".join(group.variants))
    out.print(gaps)


def stats(
    since: Annotated[datetime | None, DATE] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object instead of tables.")
    ] = False,
) -> None:
    """Inquiries per day, outcomes, top entries, knowledge-base gaps, helpful rate, response times."""
    settings = get_settings()
    tz = settings.staff.timezone

    async def work(log: InquiryLog) -> Stats:
        async with log.sessions() as session:
            return await compute_stats(session, since=local_midnight(since, tz), timezone=tz)

    result = _with_log(settings, work)
    if as_json:
        payload = {
            "total": result.total,
            "per_day": [[d.isoformat(), n] for d, n in result.per_day],
            "outcomes": result.outcomes,
            "answer_rate": result.answer_rate,
            "top_entries": result.top_entries,
            "unmatched": [asdict(g) for g in result.unmatched],
            "helpful_rate": result.helpful_rate,
            "open_tickets": result.open_tickets,
            "median_first_response_s": result.median_first_response.total_seconds()
            if result.median_first_response
            else None,
            "median_resolution_s": result.median_resolution.total_seconds()
            if result.median_resolution
            else None,
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    render_stats(result)


@demands_app.command("list")
def demands_list(
    since: Annotated[datetime | None, DATE] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List enterprises' recruitment needs registered through /demand, newest first."""
    settings = get_settings()
    tz = settings.staff.timezone

    async def work(log: InquiryLog) -> list[Demand]:
        async with log.sessions() as session:
            return await inquiries.list_demands(session, since=local_midnight(since, tz))

    demands = _with_log(settings, work)
    if as_json:
        for demand in demands:
            record = {c: getattr(demand, c) for c in DEMAND_COLUMNS}
            record["created_at"] = demand.created_at.isoformat()
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    t = texts("zh")
    table = Table(title=f"{len(demands)} 条招聘需求")
    for column in DEMAND_COLUMNS:
        table.add_column(t.t(f"demand_columns.{column}"), overflow="fold")
    for values in demand_rows(demands, tz):
        table.add_row(*("" if v is None else str(v) for v in values))
    out.print(table)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Bring the database schema to the newest revision (also done on every start)."""
    settings = get_settings()

    async def work(log: InquiryLog) -> None:
        return None

    _with_log(settings, work)
    out.print("数据库已是最新版本")


@db_app.command("purge")
def purge_command(
    days: Annotated[
        int | None, typer.Option(min=1, help="Override database.retention_days.")
    ] = None,
) -> None:
    """Delete inquiries and resolved tickets older than the retention period (open ones stay)."""
    settings = get_settings()
    keep = days or settings.database.retention_days

    async def work(log: InquiryLog) -> inquiries.PurgeResult:
        async with log.sessions.begin() as session:
            return await inquiries.purge_resolved(session, older_than_days=keep)

    result = _with_log(settings, work)
    out.print(f"已删除 {keep} 天前的 {result.inquiries} 条咨询记录和 {result.tickets} 个已解决工单")


def forget(
    person_key: Annotated[str, typer.Argument(help="The person's key, e.g. telegram:12345.")],
) -> None:
    """Delete everything stored about one person."""
    settings = get_settings()
    removed = _with_log(settings, lambda log: log.forget(person_key))
    if not removed:
        raise _fail(LookupError(f"no person {person_key!r} in the log"))
    out.print(f"已删除 {person_key} 的全部记录", markup=False)
