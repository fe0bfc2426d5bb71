"""The inquiry log with filters and paging, its export (xlsx or csv), and the audit log."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from bot.log import listing
from bot.log.export import export_rows
from bot.log.listing import InquiryFilter
from bot.web.console import Console, page_number, request_texts
from bot.web.security import signed_in
from knowledge.verdict import Outcome

__all__ = ["audit_page", "export_inquiries", "inquiries_page"]

FILTERS = ("since", "until", "outcome", "audience", "status", "entry", "q")
OUTCOMES = tuple(outcome.value for outcome in Outcome)
AUDIENCES = ("talent", "enterprise")
STATUSES = ("open", "in_progress", "resolved", "none")
EXPORT_LIMIT = 100_000


def _filter(console: Console, request: Request) -> tuple[InquiryFilter, dict[str, str]]:
    """The filter form's values, each checked; anything unknown is ignored, never trusted."""
    params = request.query_params
    raw = {name: params.get(name, "").strip()[:200] for name in FILTERS}

    def day(value: str, *, next_day: bool = False) -> datetime | None:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            return None
        start = datetime.combine(parsed, time(), tzinfo=console.zone)
        return start + timedelta(days=1) if next_day else start

    where = InquiryFilter(
        status=raw["status"] if raw["status"] in STATUSES else None,
        outcome=raw["outcome"] if raw["outcome"] in OUTCOMES else None,
        since=day(raw["since"]),
        until=day(raw["until"], next_day=True),
        audience=raw["audience"] if raw["audience"] in AUDIENCES else None,
        entry_id=raw["entry"] or None,
        search=raw["q"] or None,
    )
    return where, {k: v for k, v in raw.items() if v}


async def inquiries_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    where, kept = _filter(console, request)
    page = page_number(request)
    size = console.services.settings.web.page_size
    async with console.services.log.sessions() as session:
        total = await listing.count_inquiries(session, where)
        rows = await listing.list_inquiries(session, where=where, limit=size, offset=page * size)
    return console.page(
        request,
        "inquiries.html",
        staff,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // size)),
        form=kept,
        query=urlencode(kept),
        outcomes=OUTCOMES,
        audiences=AUDIENCES,
        statuses=STATUSES,
    )


async def export_inquiries(console: Console, request: Request) -> Response:
    """The filtered rows (all of them, up to ``EXPORT_LIMIT``) as a download."""
    staff = await signed_in(request, console.accounts)
    where, kept = _filter(console, request)
    fmt = "csv" if request.query_params.get("format") == "csv" else "xlsx"
    async with console.services.log.sessions() as session:
        rows = await listing.list_inquiries(session, where=where, limit=EXPORT_LIMIT)
        demands = await listing.list_demands(session) if fmt == "xlsx" else []
    handle, name = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)  # export_rows opens the file by its path
    path = Path(name)
    export_rows(
        rows,
        path,
        fmt=fmt,
        t=request_texts(request),
        timezone=console.services.settings.staff.timezone,
        demands=demands,
    )
    await console.audit.record(staff.name, "inquiries.export", fmt, urlencode(kept)[:500])
    stamp = datetime.now(console.zone).strftime("%Y%m%d-%H%M")
    return FileResponse(
        path,
        filename=f"inquiries-{stamp}.{fmt}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


async def audit_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts, admin=True)
    page = page_number(request)
    size = console.services.settings.web.page_size
    entries, total = await console.audit.page(page=page, size=size)
    return console.page(
        request,
        "audit.html",
        staff,
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // size)),
    )
