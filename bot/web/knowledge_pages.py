"""The knowledge base as staff see it, a "try a question" box, and the knowledge gaps.

Gaps are the questions the bot could not serve — unmatched, rated 没帮助, or answered only with
choices — grouped by similarity, biggest first. A specialist can add a group's questions as new
ways of asking an entry: ``knowledge/editing.py`` writes the YAML (comments kept), validates it
as ``kb check`` does and only then replaces the file; the console's knowledge base is reloaded
and the change audited. (A running bot in another process picks it up with /reload.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.log.models import Feedback, Inquiry
from bot.log.models import utcnow as now_utc
from bot.log.stats import group_similar
from bot.web.console import Console
from bot.web.security import Staff, check_csrf, form_of, signed_in
from knowledge.editing import EditError, add_entry, add_questions
from knowledge.schema import Audience, Category, Kind, Problem, Status

__all__ = [
    "add_to_entry",
    "draft_form",
    "draft_submit",
    "entry_page",
    "gaps_page",
    "kb_page",
    "try_page",
]

GAP_DAYS = 30
MAX_GAP_QUESTIONS = 2000
CONTEXT_CHARS = 120


@dataclass(frozen=True)
class Usage:
    matched: int = 0
    helpful: int = 0
    not_helpful: int = 0


async def _usage(console: Console) -> dict[str, Usage]:
    async with console.services.log.sessions() as session:
        counted = await session.execute(
            select(Inquiry.entry_id, func.count())
            .where(Inquiry.entry_id.is_not(None))
            .group_by(Inquiry.entry_id)
        )
        matched = {str(entry_id): int(count) for entry_id, count in counted.all()}
        rated = (
            await session.execute(
                select(Inquiry.entry_id, Feedback.helpful, func.count())
                .join(Feedback, Feedback.inquiry_id == Inquiry.id)
                .where(Inquiry.entry_id.is_not(None))
                .group_by(Inquiry.entry_id, Feedback.helpful)
            )
        ).all()
    helpful: dict[str, list[int]] = {}
    for entry_id, is_helpful, count in rated:
        helpful.setdefault(str(entry_id), [0, 0])[0 if is_helpful else 1] += int(count)
    return {
        entry_id: Usage(int(matched.get(entry_id, 0)), *helpful.get(entry_id, [0, 0]))
        for entry_id in {*matched, *helpful}
    }


async def kb_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    kb = console.services.knowledge.kb
    return console.page(
        request, "kb.html", staff, entries=kb.entries, usage=await _usage(console), empty=Usage()
    )


def _in_document(console: Console, file: str, quote: str) -> tuple[str, str, str]:
    """The quote with some of the text around it in its source document (before, quote, after)."""
    seeds = console.services.settings.knowledge.seeds_dir
    path = Path(seeds) / file
    try:
        text = "".join(path.read_text(encoding="utf-8").split())
    except OSError:
        return "", quote, ""
    where = text.find("".join(quote.split()))
    if where < 0:
        return "", quote, ""
    end = where + len("".join(quote.split()))
    return (
        text[max(0, where - CONTEXT_CHARS) : where],
        text[where:end],
        text[end : end + CONTEXT_CHARS],
    )


async def entry_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    kb = console.services.knowledge.kb
    entry = kb.get(str(request.path_params.get("entry_id", "")))
    if entry is None:
        return console.page(request, "not_found.html", staff, status_code=404)
    sources = [
        (kb.title_of(source.file), *_in_document(console, source.file, source.quote))
        for source in entry.sources
    ]
    usage = (await _usage(console)).get(entry.id, Usage())
    return console.page(
        request, "entry.html", staff, entry=entry, sources=sources, usage=usage, kb=kb
    )


async def try_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    question = request.query_params.get("q", "").strip()[:1000]
    match = console.services.knowledge.matcher.match(question) if question else None
    return console.page(request, "try.html", staff, question=question, match=match)


@dataclass(frozen=True)
class Gap:
    example: str
    count: int
    variants: tuple[str, ...]
    kinds: tuple[str, ...]


async def _gap_questions(console: Console) -> dict[str, set[str]]:
    """Question text -> why it is a gap (unmatched, not_helpful, suggested), last 30 days."""
    since = now_utc() - timedelta(days=GAP_DAYS)
    found: dict[str, set[str]] = {}
    async with console.services.log.sessions() as session:
        rows = (
            await session.execute(
                select(Inquiry.text, Inquiry.outcome)
                .where(
                    Inquiry.created_at >= since,
                    Inquiry.outcome.in_(("unmatched", "suggested")),
                )
                .order_by(Inquiry.id.desc())
                .limit(MAX_GAP_QUESTIONS)
            )
        ).all()
        unhelpful = (
            await session.execute(
                select(Inquiry.text)
                .join(Feedback, Feedback.inquiry_id == Inquiry.id)
                .where(Feedback.helpful.is_(False), Inquiry.created_at >= since)
                .limit(MAX_GAP_QUESTIONS)
            )
        ).all()
    for text, outcome in rows:
        found.setdefault(text, set()).add(outcome)
    for (text,) in unhelpful:
        found.setdefault(text, set()).add("not_helpful")
    return found


async def _gaps_page(
    console: Console,
    request: Request,
    staff: Staff,
    *,
    problems: list[Problem] | tuple[()] = (),
    status_code: int = 200,
) -> Response:
    """The gaps, biggest group first, each with why its questions are gaps."""
    found = await _gap_questions(console)
    gaps = [
        Gap(
            g.example,
            g.count,
            g.variants,
            tuple(sorted({k for q in (g.example, *g.variants) for k in found.get(q, ())})),
        )
        for g in group_similar(list(found), limit=50)
    ]
    return console.page(
        request,
        "gaps.html",
        staff,
        gaps=gaps,
        entries=console.services.knowledge.kb.entries,
        flash="" if problems else request.query_params.get("done", ""),
        problems=list(problems),
        status_code=status_code,
    )


async def gaps_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    return await _gaps_page(console, request, staff)


async def add_to_entry(console: Console, request: Request) -> Response:
    """Adds the chosen questions to an entry, validated first; reloads the knowledge base."""
    staff = await signed_in(request, console.accounts)
    form = await form_of(request)
    check_csrf(form, staff.session.csrf_token)
    entry_id = str(form.get("entry") or "")
    questions = [str(q) for q in form.getlist("question")][:50]
    settings = console.services.settings.knowledge
    seeds = settings.seeds_dir if settings.seeds_dir.is_dir() else None
    try:
        # Writing and validating load the whole knowledge base (seconds): off the loop.
        edited = await asyncio.to_thread(
            add_questions, settings.dir, entry_id, questions, seeds_dir=seeds
        )
    except EditError as exc:
        return await _gaps_page(console, request, staff, problems=exc.problems, status_code=400)
    problems = await console.services.knowledge.reload_async()
    await console.audit.record(
        staff.name,
        "kb.add_questions",
        entry_id,
        f"{len(edited.added)} questions into {edited.file.name}"
        + (f"; reload problems: {len(problems)}" if problems else ""),
    )
    return RedirectResponse(f"/gaps?done={len(edited.added)}", status_code=303)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()][:100]


def _draft_page(
    console: Console,
    request: Request,
    staff: Staff,
    values: dict[str, str],
    problems: list[Problem],
    status_code: int = 200,
) -> Response:
    return console.page(
        request,
        "draft.html",
        staff,
        values=values,
        problems=problems,
        kinds=[k.value for k in Kind],
        audiences=[a.value for a in Audience],
        categories=[c.value for c in Category],
        statuses=[s.value for s in Status],
        documents=sorted(console.services.knowledge.kb.documents.items()),
        status_code=status_code,
    )


async def draft_form(console: Console, request: Request) -> Response:
    """A new entry drafted from a gap: its questions filled in, the rest for the specialist."""
    staff = await signed_in(request, console.accounts)
    questions = [q[:120] for q in request.query_params.getlist("question")][:50]
    return _draft_page(console, request, staff, {"questions": "\n".join(questions)}, [])


async def draft_submit(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    form = await form_of(request)
    check_csrf(form, staff.session.csrf_token)
    names = ("id", "kind", "audience", "category", "status", "title", "questions", "keywords")
    values = {n: str(form.get(n) or "")[:4000] for n in (*names, "answer", "file", "quote")}
    fields: dict[str, object] = {n: values[n].strip() for n in names}
    fields["questions"] = _lines(values["questions"])
    fields["keywords"] = [
        k.strip() for k in values["keywords"].replace("，", ",").split(",") if k.strip()
    ]
    fields["answer"] = values["answer"].strip()
    fields["sources"] = [{"file": values["file"].strip(), "quote": values["quote"].strip()}]
    settings = console.services.settings.knowledge
    seeds = settings.seeds_dir if settings.seeds_dir.is_dir() else None
    try:
        path = await asyncio.to_thread(add_entry, settings.dir, fields, seeds_dir=seeds)
    except EditError as exc:
        return _draft_page(console, request, staff, values, exc.problems, status_code=400)
    problems = await console.services.knowledge.reload_async()
    await console.audit.record(
        staff.name,
        "kb.add_entry",
        values["id"],
        f"into {path.name}" + (f"; reload problems: {len(problems)}" if problems else ""),
    )
    return RedirectResponse(f"/kb/{values['id']}", status_code=303)
