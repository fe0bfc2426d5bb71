"""What specialists see in the staff group: ticket cards, the inbox, histories, stats.

Pure functions returning ``View``s (HTML-escaped text and buttons), like ``bot.chat.views`` for the
people's side, so handlers stay thin and every layout is tested without a bot.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.chat import callbacks
from bot.chat.views import Button, View
from bot.desk.staff_desk import HistoryItem, TicketCard
from bot.formatting import HTML, shorten
from bot.log.stats import Stats
from bot.texts import Texts, texts

__all__ = ["card", "duration", "history", "inbox", "stats_text"]


def _e(text: str) -> str:
    return HTML.escape(text)


def _answered(ticket: TicketCard, t: Texts) -> str:
    if ticket.bot_outcome is None:
        return t.t("staff.nobody")
    label = t.t(f"log.outcome.{ticket.bot_outcome}")
    return f"{label}：{ticket.bot_entry}" if ticket.bot_entry else label


CARD_QUESTION_CHARS = 1500
"""A card shows this much of the question (the whole is in /ticket N), so it fits one message."""


def card(ticket: TicketCard, t: Texts, *, reminder_hours: float | None = None) -> View:
    """A ticket card with 认领 / 已解决 / 查看记录 buttons."""
    icon = (
        t.t("staff.card_reminder", hours=f"{reminder_hours:g}")
        if reminder_hours
        else t.t("staff.card_new")
    )
    text = t.t(
        "staff.card",
        icon=icon,
        ticket=ticket.id,
        reason=t.t(f"staff.reason.{ticket.reason}"),
        name=ticket.person_name or ticket.person_key,
        audience=t.t(f"audience.{ticket.audience}") if ticket.audience else t.t("staff.nobody"),
        language=texts(ticket.language).t("language_name"),
        phone=t.t("staff.phone", phone=ticket.phone) if ticket.phone else "",
        question=shorten(ticket.question, CARD_QUESTION_CHARS),
        answered=_answered(ticket, t),
        status=t.t(f"log.status.{ticket.status}"),
        assignee=ticket.assignee or t.t("staff.nobody"),
    )
    buttons: tuple[tuple[Button, ...], ...] = (
        (
            Button(t.t("staff.take_button"), callbacks.encode("staff", "take", ticket.id)),
            Button(t.t("staff.resolve_button"), callbacks.encode("staff", "resolve", ticket.id)),
            Button(t.t("staff.history_button"), callbacks.encode("staff", "history", ticket.id)),
        ),
    )
    return View(_e(text), buttons if ticket.status != "resolved" else ((buttons[0][2],),))


def history(ticket: TicketCard, items: list[HistoryItem], t: Texts, timezone: str) -> View:
    """A ticket's whole history, oldest first."""
    zone = ZoneInfo(timezone)
    lines = [t.t("staff.history_header", ticket=ticket.id)]
    for item in items:
        if item.author == "person":
            who = t.t("staff.who_person")
        elif item.is_note:
            who = t.t("staff.who_note", name=item.author_name)
        else:
            who = t.t("staff.who_staff", name=item.author_name)
        when = item.created_at.astimezone(zone).strftime("%m-%d %H:%M")
        lines.append(t.t("staff.history_line", when=when, who=who, text=item.text))
    return View(_e("\n".join(lines)))


def inbox(cards: list[TicketCard], total: int, page: int, size: int, t: Texts) -> View:
    """One page of open tickets with a button per ticket and paging."""
    if total == 0:
        return View(_e(t.t("staff.inbox_empty")))
    pages = -(-total // size)
    lines = [t.t("staff.inbox_header", total=total, page=page + 1, pages=pages)]
    rows: list[tuple[Button, ...]] = []
    for item in cards:
        question = item.question if len(item.question) <= 40 else item.question[:39] + "…"
        lines.append(
            t.t(
                "staff.inbox_line",
                ticket=item.id,
                status=t.t(f"log.status.{item.status}"),
                name=item.person_name,
                question=question,
            )
        )
        rows.append((Button(f"#{item.id}", callbacks.encode("staff", "history", item.id)),))
    paging = []
    if page > 0:
        paging.append(Button(t.t("menu.previous"), callbacks.encode("inbox", page - 1)))
    if page + 1 < pages:
        paging.append(Button(t.t("menu.next"), callbacks.encode("inbox", page + 1)))
    if paging:
        rows.append(tuple(paging))
    return View(_e("\n".join(lines)), tuple(rows))


def duration(value: timedelta | None, t: Texts) -> str:
    """A duration as hours and minutes in the reader's language, or a dash."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes >= 60:
        return t.t("cli.hours_minutes", hours=minutes // 60, minutes=minutes % 60)
    return t.t("cli.minutes", minutes=minutes)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def stats_text(today: Stats, week: Stats, t: Texts) -> str:
    """/stats and the daily digest: today and the last 7 days (plain text, escape before sending)."""
    gaps = "\n".join(f"· {g.example}（{g.count}）" for g in week.unmatched[:5]) or t.t(
        "staff.nobody"
    )
    return t.t(
        "staff.stats",
        today_total=today.total,
        today_rate=_rate(today.answer_rate),
        week_total=week.total,
        answered=week.outcomes.get("answered", 0),
        suggested=week.outcomes.get("suggested", 0),
        unmatched=week.outcomes.get("unmatched", 0),
        smalltalk=week.outcomes.get("smalltalk", 0),
        week_rate=_rate(week.answer_rate),
        open=week.open_tickets,
        first=duration(week.median_first_response, t),
        resolution=duration(week.median_resolution, t),
        gaps=gaps,
    )
