"""What people ask most and where the knowledge base has gaps, from the inquiry log.

Aggregation is done in Python over the selected period: the same code on SQLite and
PostgreSQL, and a talent office's volume (thousands of inquiries a month) is small.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.log.models import Feedback, Inquiry, Ticket, TicketStatus
from knowledge.normalize import Normalizer

__all__ = ["Stats", "UnmatchedGroup", "compute_stats", "group_similar"]

MAX_UNMATCHED = 5000


@dataclass(frozen=True)
class UnmatchedGroup:
    """Unanswered questions that say the same thing: one gap in the knowledge base."""

    example: str
    count: int
    variants: tuple[str, ...]


@dataclass
class Stats:
    """Figures for one period."""

    since: datetime | None
    total: int = 0
    per_day: list[tuple[date, int]] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    top_entries: list[tuple[str, str, int]] = field(default_factory=list)
    unmatched: list[UnmatchedGroup] = field(default_factory=list)
    helpful: int = 0
    not_helpful: int = 0
    open_tickets: int = 0
    median_first_response: timedelta | None = None
    median_resolution: timedelta | None = None
    ratings: int = 0
    """Resolved tickets the person rated (1-5) in the window."""
    csat: float | None = None
    """Their mean rating."""

    @property
    def helpful_rate(self) -> float | None:
        """Share of feedback that said the answer helped, or None without feedback."""
        given = self.helpful + self.not_helpful
        return self.helpful / given if given else None

    @property
    def answer_rate(self) -> float | None:
        """Share of policy questions (not smalltalk or unclear) answered directly."""
        asked = self.total - self.outcomes.get("smalltalk", 0) - self.outcomes.get("unclear", 0)
        answered = self.outcomes.get("answered", 0) + self.outcomes.get("multi", 0)
        return answered / asked if asked else None


def group_similar(
    texts: list[str], *, threshold: float = 70.0, limit: int = 10
) -> list[UnmatchedGroup]:
    """Greedy grouping of near-identical questions, largest groups first."""
    normalize = Normalizer({}).normalize
    keys = [normalize(t) for t in texts]
    counts = Counter(k for k in keys if k)
    originals: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        originals.setdefault(key, text.strip())
    groups: list[tuple[str, int, list[str]]] = []
    for key, count in counts.most_common():
        for number, (head, total, members) in enumerate(groups):
            if fuzz.ratio(key, head) >= threshold or (
                min(len(key), len(head)) >= 4 and fuzz.partial_ratio(key, head) >= 90
            ):
                groups[number] = (head, total + count, [*members, originals[key]])
                break
        else:
            groups.append((key, count, [originals[key]]))
    groups.sort(key=lambda g: g[1], reverse=True)
    return [
        UnmatchedGroup(members[0], total, tuple(members[1:6]))
        for _, total, members in groups[:limit]
    ]


def _window(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


async def compute_stats(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    timezone: str = "Asia/Shanghai",
    top: int = 10,
) -> Stats:
    """Inquiries per day, outcome split, top entries and gaps, helpful rate, response times.

    The window is ``since`` (inclusive) to ``until`` (exclusive); either end may be open.
    """
    zone = ZoneInfo(timezone)
    stats = Stats(since=since)
    query = select(
        Inquiry.created_at, Inquiry.outcome, Inquiry.entry_id, Inquiry.entry_title, Inquiry.text
    )
    query = query.where(*_window(Inquiry.created_at, since, until))
    days: Counter[date] = Counter()
    entries: Counter[tuple[str, str]] = Counter()
    outcomes: Counter[str] = Counter()
    unmatched: list[str] = []
    for created_at, outcome, entry_id, entry_title, text in (await session.execute(query)).all():
        stats.total += 1
        days[created_at.astimezone(zone).date()] += 1
        outcomes[outcome] += 1
        if entry_id:
            entries[(entry_id, entry_title or entry_id)] += 1
        if outcome == "unmatched" and len(unmatched) < MAX_UNMATCHED:
            unmatched.append(text)
    stats.per_day = sorted(days.items())
    stats.outcomes = dict(outcomes.most_common())
    stats.top_entries = [(eid, title, n) for (eid, title), n in entries.most_common(top)]
    stats.unmatched = group_similar(unmatched, limit=top)

    feedback = select(Feedback.helpful, func.count()).group_by(Feedback.helpful)
    feedback = feedback.where(*_window(Feedback.created_at, since, until))
    for helpful, count in (await session.execute(feedback)).all():
        if helpful:
            stats.helpful = int(count)
        else:
            stats.not_helpful = int(count)

    stats.open_tickets = int(
        await session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status != TicketStatus.RESOLVED.value)
        )
        or 0
    )
    tickets = select(Ticket.opened_at, Ticket.first_response_at, Ticket.resolved_at, Ticket.rating)
    tickets = tickets.where(*_window(Ticket.opened_at, since, until))
    first: list[timedelta] = []
    resolution: list[timedelta] = []
    ratings: list[int] = []
    for opened_at, first_response_at, resolved_at, rating in (await session.execute(tickets)).all():
        if rating is not None:
            ratings.append(rating)
        if first_response_at is not None:
            first.append(first_response_at - opened_at)
        if resolved_at is not None:
            resolution.append(resolved_at - opened_at)
    stats.median_first_response = _median(first)
    stats.median_resolution = _median(resolution)
    stats.ratings = len(ratings)
    stats.csat = sum(ratings) / len(ratings) if ratings else None
    return stats
