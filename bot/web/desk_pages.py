"""The dashboard, the inbox, a ticket's conversation and what specialists do on it.

Replies and resolutions go through ``bot/desk/delivery.py``, the functions the Telegram staff
group uses, so the person gets the same message whichever tool the specialist works in. Every
action is audited under the session's account and answered with a redirect (reloading a page
never repeats an action).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.desk.canned import CannedError
from bot.desk.delivery import reply_to_person, resolve_ticket
from bot.desk.staff_desk import DeskError
from bot.log.models import TicketStatus, utcnow
from bot.log.stats import compute_stats
from bot.texts import Texts
from bot.web.charts import daily_bars
from bot.web.console import Console, page_number, request_texts
from bot.web.security import Denied, check_csrf, form_of, signed_in

__all__ = [
    "canned_page",
    "canned_remove",
    "canned_save",
    "dashboard",
    "inbox",
    "ticket_action",
    "ticket_page",
]

logger = logging.getLogger(__name__)

VIEWS = ("open", "in_progress", "mine")
MAX_REPLY_CHARS = 4000


async def dashboard(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    zone = console.zone
    now = utcnow()
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = midnight - timedelta(days=29)
    timezone = console.services.settings.staff.timezone
    async with console.services.log.sessions() as session:
        today = await compute_stats(session, since=midnight, timezone=timezone, gaps=False)
        month = await compute_stats(session, since=month_start, timezone=timezone, gaps=False)
    t = request_texts(request)
    drawn = daily_bars(month.per_day, end=midnight.date(), label=t.t("web.dashboard.chart"))
    # Safe (bandit B704): daily_bars draws numbers and dates, and escapes its label.
    chart = Markup(drawn)  # nosec B704
    return console.page(
        request,
        "dashboard.html",
        staff,
        today=today,
        month=month,
        chart=chart,
    )


async def inbox(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    view = request.query_params.get("view", "open")
    view = view if view in VIEWS else "open"
    page = page_number(request)
    size = console.services.settings.web.page_size
    rows, total = await console.desk.queue(
        mine=staff.name if view == "mine" else None,
        status=None if view == "mine" else view,
        page=page,
        size=size,
    )
    sla = timedelta(hours=console.services.settings.staff.sla_hours)
    now = utcnow()
    template = "inbox_rows.html" if request.headers.get("x-fragment") == "1" else "inbox.html"
    return console.page(
        request,
        template,
        staff,
        rows=rows,
        total=total,
        view=view,
        views=VIEWS,
        page=page,
        pages=max(1, -(-total // size)),
        age=lambda opened: _age(now - opened, request_texts(request)),
        overdue=lambda opened: now - opened > sla,
    )


def _age(delta: timedelta, t: Texts) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return t.t("web.age.minutes", count=minutes)
    if minutes < 48 * 60:
        return t.t("web.age.hours", count=minutes // 60)
    return t.t("web.age.days", count=minutes // (24 * 60))


async def ticket_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    ticket_id = _ticket_id(request)
    try:
        card, items = await console.desk.history(ticket_id)
    except DeskError:
        return console.page(request, "not_found.html", staff, status_code=404)
    return console.page(
        request,
        "ticket.html",
        staff,
        card=card,
        items=items,
        canned=await console.canned.all(),
        resolved=card.status == TicketStatus.RESOLVED.value,
        flash=request.query_params.get("done", ""),
        reachable=card.person_key.startswith("web:")
        or (console.telegram and card.telegram_user_id is not None),
        colleagues=[a.name for a in await console.accounts.all() if not a.disabled],
    )


def _ticket_id(request: Request) -> int:
    raw = str(request.path_params.get("ticket_id", ""))
    if not raw.isdigit() or len(raw) > 9:
        raise Denied(404, "no_ticket")
    return int(raw)


async def ticket_action(console: Console, request: Request) -> Response:
    """``take``, ``assign``, ``reply``, ``note``, ``resolve`` on one ticket, as the specialist."""
    staff = await signed_in(request, console.accounts)
    form = await form_of(request)
    check_csrf(form, staff.session.csrf_token)
    ticket_id = _ticket_id(request)
    action = str(request.path_params.get("action", ""))
    text = str(form.get("text") or "").strip()[:MAX_REPLY_CHARS]
    done = action
    try:
        if action == "take":
            # Someone else took it since this page was drawn: say so rather than take it over
            # (reassigning is the explicit "assign" action).
            holder = (await console.desk.card(ticket_id)).assignee
            if holder and holder != staff.name:
                return RedirectResponse(f"/tickets/{ticket_id}?done=held", status_code=303)
            await console.desk.take(ticket_id, staff.name)
        elif action == "assign":
            # Only to an enabled account: the name comes from the form but is checked here.
            to = str(form.get("to") or "")
            names = {a.name for a in await console.accounts.all() if not a.disabled}
            if to not in names:
                raise Denied(400, "no_specialist")
            await console.desk.take(ticket_id, to)
        elif action == "reply" and text:
            delivered = await reply_to_person(
                console.desk, console.reach, ticket_id, staff.name, text
            )
            done = "reply" if delivered.delivered else "reply_stored"
        elif action == "note" and text:
            await console.desk.note(ticket_id, staff.name, text)
        elif action == "resolve":
            delivered = await resolve_ticket(
                console.desk, console.reach, ticket_id, staff.name, text
            )
            done = "resolve" if delivered.delivered else "resolve_stored"
        else:
            raise Denied(400, "bad_action")
    except DeskError:
        done = "refused"
    else:
        await console.audit.record(staff.name, f"ticket.{action}", f"#{ticket_id}")
        if console.staff is not None and action != "note":
            try:
                await console.staff.refresh(ticket_id)
            except Exception:  # the action is done; a stale card is only cosmetic
                logger.exception("could not redraw the staff-group card of ticket %s", ticket_id)
    return RedirectResponse(f"/tickets/{ticket_id}?done={done}", status_code=303)


async def canned_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    return console.page(request, "canned.html", staff, canned=await console.canned.all(), error="")


async def canned_save(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    form = await form_of(request)
    check_csrf(form, staff.session.csrf_token)
    try:
        await console.canned.save(
            str(form.get("title") or ""), str(form.get("text") or ""), actor=staff.name
        )
    except CannedError:
        return console.page(
            request,
            "canned.html",
            staff,
            canned=await console.canned.all(),
            error="web.canned.invalid",
            status_code=400,
        )
    return RedirectResponse("/canned", status_code=303)


async def canned_remove(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts)
    form = await form_of(request)
    check_csrf(form, staff.session.csrf_token)
    raw = str(form.get("id") or "")
    if raw.isdigit() and len(raw) < 10:
        await console.canned.remove(int(raw), actor=staff.name)
    return RedirectResponse("/canned", status_code=303)
