"""``talentbot``: the command line over the same core as the bot.

Each command loads settings, builds what it needs and owns its event loop. Settings or
knowledge-base problems are printed as ``file:line: field: message`` and exit with status 1 (2
for bad settings), never as a traceback.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from bot.assistant import Assistant, MemoryDialogue, Person
from bot.cli.common import (
    database_error,
    err,
    get_settings,
    knowledge_service,
    open_log,
    state,
    warn_unfilled_office,
)
from bot.cli.console import ConsoleChat, console_person
from bot.cli.log_commands import db_app, demands_app, forget, inquiries_app, stats
from bot.cli.staff_commands import staff_app
from bot.formatting import fill_placeholders
from bot.settings import Settings
from bot.texts import texts
from knowledge.evaluation import EvalSetError, evaluate, load_eval_set
from knowledge.loader import KnowledgeBaseError, load_knowledge_base
from knowledge.schema import Audience
from knowledge.service import KnowledgeService
from knowledge.verdict import Match, Outcome

__all__ = ["app", "main"]

app = typer.Typer(
    help="人才政策咨询助手 talentbot: the talent office's policy assistant.", no_args_is_help=True
)
kb_app = typer.Typer(help="Check and export the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(inquiries_app, name="inquiries")
app.add_typer(db_app, name="db")
app.add_typer(demands_app, name="demands")
app.add_typer(staff_app, name="staff")
app.command("stats")(stats)
app.command("forget")(forget)


class ExportFormat(StrEnum):
    """Formats of ``kb export``."""

    JSONL = "jsonl"
    CSV = "csv"


class Language(StrEnum):
    """Interface languages."""

    ZH = "zh"
    EN = "en"


@app.callback()
def _options(
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings", help="Settings file (default: $TALENTBOT_SETTINGS or ./settings.yaml)."
        ),
    ] = None,
) -> None:
    """人才政策咨询助手 talentbot."""
    state.settings_path = settings


def _match_json(match: Match, elapsed_ms: float, office: dict[str, str]) -> dict[str, object]:
    entry = match.entry
    kb_answer = fill_placeholders(entry.answer, office) if entry is not None else None
    shown = match.candidates if match.outcome is Outcome.SUGGESTED else ()
    scored = match.outcome not in (Outcome.SMALLTALK, Outcome.UNCLEAR, Outcome.HANDOVER)
    return {
        "question": match.query,
        "outcome": match.outcome.value,
        "entry_id": entry.id if entry else None,
        "title": entry.title if entry else None,
        "entries": [e.id for e in match.answered],
        "score": round(match.score, 4) if scored else None,
        "confidence": round(match.confidence, 4) if match.confidence is not None else None,
        "via_context": match.via_context,
        "answer": kb_answer,
        "suggestions": [c.as_dict() for c in shown],
        "also": [c.as_dict() for c in match.also],
        "elapsed_ms": round(elapsed_ms, 3),
    }


def _message(line: str, number: int) -> tuple[str, str]:
    """A line of ``ask --json`` input as (person, text).

    ``{"person": "p1", "text": "…"}`` lines with the same person are one conversation, in order;
    a plain line is a conversation of its own.
    """
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(texts().t("cli.bad_json_line", number=number, error=exc.msg)) from exc
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise ValueError(texts().t("cli.json_line_needs_text", number=number))
        return str(data.get("person") or f"line-{number}"), text
    return f"line-{number}", line


@app.command()
def ask(
    question: Annotated[
        list[str] | None, typer.Argument(help="Questions; none with --json reads stdin.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per question, per line.")
    ] = False,
    audience: Annotated[
        Audience | None, typer.Option(help="Break ties towards talent or enterprise.")
    ] = None,
    lang: Annotated[Language, typer.Option(help="Interface language.")] = Language.ZH,
) -> None:
    """Answer questions from the knowledge base (without logging them)."""
    settings = get_settings()
    t = texts(lang.value)
    if not question and not as_json:  # before loading: a usage error should not take seconds
        err.print(t.t("cli.ask_needs_question"), markup=False)
        raise typer.Exit(2)
    service = knowledge_service(settings)
    office = settings.office.placeholders()
    lines: Iterable[str] = iter(question) if question else (line.rstrip("\n") for line in sys.stdin)
    out = Console(highlight=False)
    memory = MemoryDialogue()
    assistant = Assistant(service, memory=memory)
    conversation = ConsoleChat(assistant, console_person(lang.value), t, office)

    async def answer_all() -> None:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                key, text = _message(line, number) if as_json else (f"line-{number}", line)
            except ValueError as exc:
                err.print(str(exc), markup=False)
                raise typer.Exit(2) from exc
            person = Person(f"cli:{key}", audience=audience)
            reply = await assistant.ask(person, text, channel="cli")
            if as_json:
                record = {"person": key, **_match_json(reply.match, reply.elapsed_ms, office)}
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                sys.stdout.flush()
                continue
            subtitle = (
                f"{reply.outcome.value} · {reply.match.score:.2f} · {reply.elapsed_ms:.1f} ms"
            )
            out.print(
                Panel(conversation.render(reply), title=line, subtitle=subtitle, expand=False),
                markup=False,
            )

    asyncio.run(answer_all())


@app.command()
def chat(
    lang: Annotated[Language, typer.Option(help="Interface language.")] = Language.ZH,
) -> None:
    """Talk to the assistant in the console (interactive on a terminal, scripted on a pipe)."""
    settings = get_settings()
    warn_unfilled_office(settings)
    _run_console(settings, lang.value)


def _run_console(settings: Settings, language: str) -> None:
    service = knowledge_service(settings)
    asyncio.run(_console(settings, service, language))


async def _console(settings: Settings, service: KnowledgeService, language: str) -> None:
    log = await open_log(settings)
    try:
        t = texts(language)
        conversation = ConsoleChat(
            Assistant(service, log), console_person(language), t, settings.office.placeholders()
        )
        if sys.stdin.isatty():
            console = Console(highlight=False)
            await conversation.run_interactive(
                lambda label: Prompt.ask(f"[bold cyan]{label}[/]", console=console),
                lambda text: console.print(Panel(text, expand=False), markup=False),
            )
        else:
            await conversation.run_lines(sys.stdin, sys.stdout)
    finally:
        await log.close()


@app.command()
def run(
    lang: Annotated[
        Language, typer.Option(help="Console language when no token is set.")
    ] = Language.ZH,
    webhook: Annotated[
        bool, typer.Option("--webhook", help="Serve Telegram's webhook instead of long polling.")
    ] = False,
) -> None:
    """Run the main job: the Telegram bot when a token is set, otherwise the console chat."""
    settings = get_settings()
    warn_unfilled_office(settings)
    if settings.telegram.token is None:
        err.print(texts(lang.value).t("console.no_token"), markup=False)
        _run_console(settings, lang.value)
        return
    hook = settings.telegram
    if (webhook or hook.webhook_url) and (not hook.webhook_url or hook.webhook_secret is None):
        err.print(texts(lang.value).t("cli.webhook_needs"), markup=False)
        raise typer.Exit(2)
    # Imported here so that the console chat and the CLI never load python-telegram-bot.
    from bot.app import StartupError
    from bot.app import run as run_bot
    from bot.logging_config import configure_logging
    from bot.services import Services

    configure_logging(settings)
    try:
        run_bot(settings, Services(settings, knowledge_service(settings)), webhook=webhook)
    except StartupError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(exc.exit_code) from None
    except SQLAlchemyError as exc:
        # The inquiry log is opened as the bot starts: one line, not two chained tracebacks.
        database_error(settings, exc)
        raise typer.Exit(1) from None


@app.command()
def web(
    host: Annotated[str | None, typer.Option(help="Address to listen on (web.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (web.port).")] = None,
) -> None:
    """Serve the staff web console (accounts: talentbot staff add)."""
    settings = get_settings()
    # Imported here so that the other commands never load the web stack or python-telegram-bot.
    from bot.app import serve_console
    from bot.logging_config import configure_logging
    from bot.services import Services

    configure_logging(settings)
    web_settings = settings.web
    err.print(
        texts().t(
            "cli.console_at", url=f"http://{host or web_settings.host}:{port or web_settings.port}"
        ),
        markup=False,
    )
    try:
        serve_console(
            settings, Services(settings, knowledge_service(settings)), host=host, port=port
        )
    except SQLAlchemyError as exc:
        database_error(settings, exc)
        raise typer.Exit(1) from None


@kb_app.command("check")
def kb_check() -> None:
    """Validate the whole knowledge base; print every problem as file:line: field: message."""
    settings = get_settings()
    warn_unfilled_office(settings)
    seeds = settings.knowledge.seeds_dir
    if not seeds.is_dir():
        err.print(texts().t("cli.seeds_missing", path=seeds), markup=False)
        raise typer.Exit(1)
    try:
        kb = load_knowledge_base(settings.knowledge.dir, seeds_dir=seeds)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        err.print(texts().t("cli.problems", count=len(exc.problems)), markup=False)
        raise typer.Exit(1) from exc
    kinds = Counter(entry.kind.value for entry in kb.entries)
    statuses = Counter(entry.status.value for entry in kb.entries)
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    by_status = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    typer.echo(
        f"OK: {len(kb)} entries ({summary}; {by_status}), {len(kb.synonyms)} synonym groups, "
        "all quotes verbatim"
    )


@kb_app.command("export")
def kb_export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="jsonl or csv.")
    ] = ExportFormat.JSONL,
) -> None:
    """Print every entry (id, title, category, audience, questions, answer) for review."""
    settings = get_settings()
    kb = knowledge_service(settings).kb
    rows = [
        {
            "id": e.id,
            "title": e.title,
            "category": e.category.value,
            "audience": e.audience.value,
            "questions": list(e.questions),
            "answer": e.answer,
        }
        for e in kb.entries
    ]
    if fmt is ExportFormat.JSONL:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["id"])
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "questions": "\n".join(row["questions"])})


class Half(StrEnum):
    """The fixed halves of a blind set: tune on one, report the other."""

    TUNE = "tune"
    REPORT = "report"


@app.command("eval")
def eval_command(
    path: Annotated[
        Path, typer.Argument(help="Labelled questions (tests/eval/blind.yaml or questions.yaml).")
    ],
    half: Annotated[
        Half | None, typer.Option(help="Only this half of a blind set (default: all of it).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every miss.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The figures as one JSON object.")
    ] = False,
    min_right: Annotated[
        float, typer.Option(help="Exit 1 when answered right is below this.")
    ] = 0.0,
    max_wrong: Annotated[
        float, typer.Option(help="Exit 1 when answered wrong is above this.")
    ] = 1.0,
    min_refusal: Annotated[
        float, typer.Option(help="Exit 1 when out-of-scope refusal is below this.")
    ] = 0.0,
) -> None:
    """Measure understanding: answered right first, then wrong, first suggestion, refusal…"""
    settings = get_settings()
    service = knowledge_service(settings)
    try:
        evalset = load_eval_set(path)
    except EvalSetError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    report = evaluate(service.understanding, evalset, half=half.value if half else None)
    summary = report.summary()
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        label = f" · {half.value} half" if half else ""
        table = Table(title=f"{path}{label} · {len(service.kb)} entries")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key, value in summary.items():
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
        Console(highlight=False).print(table)
    if verbose:
        for miss in report.misses:
            typer.echo(miss)
    if (
        report.answered_right < min_right
        or report.answered_wrong > max_wrong
        or report.refusal < min_refusal
    ):
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app()
