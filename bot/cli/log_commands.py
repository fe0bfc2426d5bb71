"""Staff commands over the inquiry log: list, show, reply, assign, resolve, export, stats, purge,
forget."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import err, get_settings, local_midnight, open_log
from bot.desk.cards import duration
from bot.desk.delivery import (
    Delivered,
    Reach,
    either,
    reply_to_person,
    resolve_ticket,
    web_reach,
)
from bot.desk.staff_desk import DeskError, StaffDesk
from bot.log import listing, queries
from bot.log.export import COLUMNS, DEMAND_COLUMNS, demand_rows, export_rows, table_rows
from bot.log.inquiry_log import InquiryLog
from bot.log.models import Base, Demand
from bot.log.queries import InquiryNotFound, TicketError
from bot.log.stats import Stats, compute_stats
from bot.settings import Settings
from bot.texts import texts

__all__ = ["db_app", "demands_app", "forget", "inquiries_app", "stats"]

inquiries_app = typer.Typer(
    help="The inquiry log: list, show, reply, assign, resolve, export.", no_args_is_help=True
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


def _fail(message: str) -> typer.Exit:
    err.print(message, markup=False)
    return typer.Exit(1)


async def _ticket_problem(session: AsyncSession, inquiry_id: int, exc: Exception) -> str:
    """The locale's words for why a ticket command could not act on ``inquiry_id``."""
    t = texts()
    if isinstance(exc, InquiryNotFound):
        return t.t("cli.inquiry_not_found", inquiry=inquiry_id)
    view = await listing.get_inquiry(session, inquiry_id)
    if view.ticket is None:
        return t.t("cli.no_ticket", inquiry=inquiry_id, outcome=view.row.outcome)
    return t.t("cli.already_resolved", ticket=view.ticket.id, inquiry=inquiry_id)


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

    async def work(log: InquiryLog) -> list[listing.InquiryRow]:
        async with log.sessions() as session:
            return await listing.list_inquiries(
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
    table = Table(title=t.t("cli.inquiries_title", count=len(rows)), show_lines=False)
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

    async def work(log: InquiryLog) -> listing.InquiryView:
        async with log.sessions() as session:
            return await listing.get_inquiry(session, inquiry_id)

    try:
        view = _with_log(settings, work)
    except InquiryNotFound as exc:
        raise _fail(texts().t("cli.inquiry_not_found", inquiry=inquiry_id)) from exc
    t = texts("zh")
    record = dict(zip(COLUMNS, table_rows([view.row], t, settings.staff.timezone)[0], strict=True))
    for column in COLUMNS:
        if record[column] not in (None, ""):
            out.print(f"[bold]{t.t(f'log.columns.{column}')}[/]: ", end="")
            out.print(str(record[column]), markup=False)
    for suggestion in view.suggestions:
        out.print(
            t.t(
                "cli.suggestion",
                title=suggestion.get("title"),
                entry_id=suggestion.get("entry_id"),
                score=suggestion.get("score"),
            ),
            markup=False,
        )
    for feedback in view.feedback:
        verdict = t.t("cli.helpful" if feedback.helpful else "cli.not_helpful")
        out.print(
            t.t("cli.feedback", verdict=verdict, comment=feedback.comment or ""), markup=False
        )
    if view.ticket is not None and view.ticket.resolution_note:
        out.print(t.t("cli.note", note=view.ticket.resolution_note), markup=False)
    zone = ZoneInfo(settings.staff.timezone)
    for message in view.messages:
        when = message.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        out.print(
            f"  [{when}] {message.author} {message.author_name}: {message.text}", markup=False
        )


async def _ticket_of(log: InquiryLog, inquiry_id: int) -> int | str:
    """The id of the ticket following up the inquiry, or the locale's words for why there is none."""
    async with log.sessions() as session:
        try:
            view = await listing.get_inquiry(session, inquiry_id)
        except InquiryNotFound as exc:
            return await _ticket_problem(session, inquiry_id, exc)
        if view.ticket is None:
            return texts().t("cli.no_ticket", inquiry=inquiry_id, outcome=view.row.outcome)
        return view.ticket.id


async def _to_person(
    settings: Settings,
    log: InquiryLog,
    inquiry_id: int,
    act: Callable[[StaffDesk, Reach | None, int], Awaitable[Delivered]],
) -> Delivered | str:
    """Finds the inquiry's ticket and acts on it, delivering to the person when a bot is set."""
    ticket_id = await _ticket_of(log, inquiry_id)
    if isinstance(ticket_id, str):
        return ticket_id
    # Imported here: only a command that reaches a person loads python-telegram-bot.
    from bot.app import telegram_reach_for

    async with telegram_reach_for(settings) as telegram:
        try:
            return await act(StaffDesk(log), either(web_reach(log), telegram), ticket_id)
        except DeskError:
            return texts().t("cli.already_resolved", ticket=ticket_id, inquiry=inquiry_id)


def _on_ticket(
    inquiry_id: int,
    act: Callable[[StaffDesk, Reach | None, int], Awaitable[Delivered]],
    said: str,
) -> None:
    """Acts on the inquiry's ticket (``_to_person``), then says what was done and delivered."""
    settings = get_settings()

    async def work(log: InquiryLog) -> Delivered | str:
        return await _to_person(settings, log, inquiry_id, act)

    done = _with_log(settings, work)
    if isinstance(done, str):
        raise _fail(done)
    out.print(texts().t(said, ticket=done.card.id, inquiry=inquiry_id), markup=False)
    _say_delivery(done)


def _say_delivery(done: Delivered) -> None:
    t = texts()
    if done.delivered:
        out.print(t.t("cli.delivered"), markup=False)
    else:
        err.print(t.t("cli.not_delivered"), markup=False)


@inquiries_app.command("reply")
def reply_command(
    inquiry_id: Annotated[int, typer.Argument(help="Inquiry id.")],
    text: Annotated[str, typer.Argument(help="The reply, as the person will read it.")],
    staff: Annotated[str | None, typer.Option(help="Who replies.")] = None,
) -> None:
    """Reply to the person on the inquiry's ticket (delivered when the bot's token is set)."""
    if not text.strip():
        err.print(texts().t("cli.blank_reply"), markup=False)
        raise typer.Exit(2)
    who = staff or texts().t("cli.staff_default")
    _on_ticket(
        inquiry_id,
        lambda desk, reach, ticket: reply_to_person(desk, reach, ticket, who, text.strip()),
        "cli.replied",
    )


@inquiries_app.command("resolve")
def resolve_command(
    inquiry_id: Annotated[int, typer.Argument(help="Inquiry id.")],
    note: Annotated[str, typer.Option("--note", help="What was done (kept with the ticket).")],
    staff: Annotated[str | None, typer.Option(help="Who resolved it.")] = None,
) -> None:
    """Resolve the inquiry's ticket; the person is told and asked for a rating."""
    who = staff or texts().t("cli.staff_default")
    _on_ticket(
        inquiry_id,
        lambda desk, reach, ticket: resolve_ticket(desk, reach, ticket, who, note),
        "cli.resolved",
    )


@inquiries_app.command("assign")
def assign_command(
    inquiry_id: Annotated[int, typer.Argument(help="Inquiry id.")],
    staff: Annotated[str, typer.Argument(help="The specialist taking it (not empty).")],
) -> None:
    """Assign the ticket following up an inquiry to a specialist."""
    staff = staff.strip()
    if not staff:
        # An empty name used to clear the assignee while saying "assigned".
        err.print(texts().t("cli.blank_assignee"), markup=False)
        raise typer.Exit(2)
    settings = get_settings()

    async def work(log: InquiryLog) -> int | str:
        async with log.sessions.begin() as session:
            try:
                ticket = await queries.assign_ticket(session, inquiry_id=inquiry_id, staff=staff)
            except (InquiryNotFound, TicketError) as exc:
                return await _ticket_problem(session, inquiry_id, exc)
            return ticket.id

    ticket_id = _with_log(settings, work)
    if isinstance(ticket_id, str):
        raise _fail(ticket_id)
    out.print(
        texts("zh").t("cli.assigned", ticket=ticket_id, staff=staff, inquiry=inquiry_id),
        markup=False,
    )


@inquiries_app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")] = ExportFormat.XLSX,
    since: Annotated[datetime | None, DATE] = None,
) -> None:
    """Export the inquiry log for Excel/WPS."""
    settings = get_settings()
    tz = settings.staff.timezone

    async def work(log: InquiryLog) -> tuple[list[listing.InquiryRow], list[Demand]]:
        async with log.sessions() as session:
            start = local_midnight(since, tz)
            rows = await listing.list_inquiries(session, since=start, limit=None)
            return rows, await listing.list_demands(session, since=start)

    rows, demands = _with_log(settings, work)
    try:
        export_rows(rows, output, fmt=fmt.value, t=texts("zh"), timezone=tz, demands=demands)
    except OSError as exc:
        raise _fail(str(exc)) from exc
    out.print(texts("zh").t("cli.exported", count=len(rows), path=output), markup=False)


def render_stats(result: Stats) -> None:
    """Prints the stats as rich tables."""
    t = texts("zh")
    out.print(f"[bold]{t.t('cli.total')}[/]: {result.total}")
    if result.answer_rate is not None:
        out.print(f"[bold]{t.t('cli.answer_rate')}[/]: {result.answer_rate:.1%}")
    if result.helpful_rate is not None:
        out.print(
            f"[bold]{t.t('cli.helpful_rate')}[/]: {result.helpful_rate:.1%}"
            + t.t("cli.helpful_detail", helpful=result.helpful, not_helpful=result.not_helpful)
        )
    out.print(f"[bold]{t.t('cli.open_tickets')}[/]: {result.open_tickets}")
    out.print(f"[bold]{t.t('cli.median_first')}[/]: {duration(result.median_first_response, t)}")
    out.print(f"[bold]{t.t('cli.median_resolution')}[/]: {duration(result.median_resolution, t)}")
    split = Table(title=t.t("cli.outcomes_title"))
    split.add_column(t.t("cli.outcome"))
    split.add_column(t.t("cli.count"), justify="right")
    for outcome, count in result.outcomes.items():
        split.add_row(t.t(f"log.outcome.{outcome}"), str(count))
    out.print(split)
    days = Table(title=t.t("cli.per_day_title"))
    days.add_column(t.t("cli.day"))
    days.add_column(t.t("cli.count"), justify="right")
    for day, count in result.per_day:
        days.add_row(day.isoformat(), str(count))
    out.print(days)
    entries = Table(title=t.t("cli.top_entries_title"))
    entries.add_column(t.t("cli.entry"))
    entries.add_column(t.t("cli.title"))
    entries.add_column(t.t("cli.times"), justify="right")
    for entry_id, title, count in result.top_entries:
        entries.add_row(entry_id, title, str(count))
    out.print(entries)
    gaps = Table(title=t.t("cli.gaps_title"))
    gaps.add_column(t.t("cli.question"))
    gaps.add_column(t.t("cli.times"), justify="right")
    gaps.add_column(t.t("cli.variants"), overflow="fold")
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
            return await listing.list_demands(session, since=local_midnight(since, tz))

    demands = _with_log(settings, work)
    if as_json:
        for demand in demands:
            record = {c: getattr(demand, c) for c in DEMAND_COLUMNS}
            record["created_at"] = demand.created_at.isoformat()
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    t = texts("zh")
    table = Table(title=t.t("cli.demands_title", count=len(demands)))
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
    out.print(texts("zh").t("cli.db_current"))


DRY_RUN = typer.Option("--dry-run", help="Only say what would be deleted (counts per table).")
YES = typer.Option("--yes", "-y", help="Do not ask for confirmation on a terminal.")


async def _row_counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return counts


async def _deletion(
    log: InquiryLog, delete: Callable[[AsyncSession], Awaitable[T]], *, keep: bool
) -> tuple[T, dict[str, int]]:
    """Runs ``delete`` in one transaction: rows removed per table; rolled back unless ``keep``.

    Rehearsing the real deletion and rolling it back counts exactly what it would remove,
    with no second copy of its rules to drift apart.
    """
    async with log.sessions() as session:
        before = await _row_counts(session)
        result = await delete(session)
        after = await _row_counts(session)
        if keep:
            await session.commit()
        else:
            await session.rollback()
    removed = {name: before[name] - after[name] for name in before if before[name] > after[name]}
    return result, removed


def _counts(removed: dict[str, int]) -> str:
    t = texts()
    return "、".join(
        t.t("cli.row_count", table=t.t(f"cli.tables.{name}"), count=count)
        for name, count in removed.items()
    )


def _delete_with_care(
    settings: Settings,
    delete: Callable[[AsyncSession], Awaitable[T]],
    *,
    dry_run: bool,
    yes: bool,
) -> tuple[T, dict[str, int]]:
    """``--dry-run`` only counts; on a terminal, the counts are shown and confirmed first."""
    t = texts()
    ask = not dry_run and not yes and sys.stdin.isatty()
    if dry_run or ask:
        result, removed = _with_log(settings, lambda log: _deletion(log, delete, keep=False))
        if not removed:
            return result, removed
        if dry_run:
            out.print(t.t("cli.would_remove", counts=_counts(removed)), markup=False)
            return result, removed
        if not typer.confirm(t.t("cli.confirm_remove", counts=_counts(removed)), default=False):
            err.print(t.t("cli.cancelled"), markup=False)
            raise typer.Exit(1)
    result, removed = _with_log(settings, lambda log: _deletion(log, delete, keep=True))
    if removed:
        out.print(t.t("cli.removed", counts=_counts(removed)), markup=False)
    return result, removed


@db_app.command("purge")
def purge_command(
    days: Annotated[
        int | None, typer.Option(min=1, help="Override database.retention_days.")
    ] = None,
    dry_run: Annotated[bool, DRY_RUN] = False,
    yes: Annotated[bool, YES] = False,
) -> None:
    """Delete inquiries and resolved tickets older than the retention period (open ones stay)."""
    settings = get_settings()
    keep = days or settings.database.retention_days

    async def purge(session: AsyncSession) -> queries.PurgeResult:
        return await queries.purge_resolved(session, older_than_days=keep)

    result, removed = _delete_with_care(settings, purge, dry_run=dry_run, yes=yes)
    if not removed:
        out.print(texts().t("cli.nothing_to_remove"), markup=False)
    elif not dry_run:
        out.print(
            texts().t("cli.purged", days=keep, inquiries=result.inquiries, tickets=result.tickets),
            markup=False,
        )


def forget(
    person_key: Annotated[str, typer.Argument(help="The person's key, e.g. telegram:12345.")],
    dry_run: Annotated[bool, DRY_RUN] = False,
    yes: Annotated[bool, YES] = False,
) -> None:
    """Delete everything stored about one person."""
    settings = get_settings()

    async def forget_person(session: AsyncSession) -> bool:
        return await queries.forget_person(session, person_key)

    found, _ = _delete_with_care(settings, forget_person, dry_run=dry_run, yes=yes)
    if not found:
        raise _fail(texts().t("cli.no_person", person=person_key))
    if not dry_run:
        out.print(texts().t("cli.forgotten", person=person_key), markup=False)
