"""What people ask most and where the knowledge base has gaps, from the inquiry log.

Aggregation is done in Python over the selected period: the same code on SQLite and
PostgreSQL, and a talent office's volume (thousands of inquiries a month) is small.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.log.models import Feedback, Inquiry, Ticket, TicketStatus, utcnow
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


MAX_BUCKET_DAYS = 62
"""Up to this many days are counted by the database, one sum per local day."""


async def _per_day(
    session: AsyncSession,
    window: list[Any],
    since: datetime | None,
    until: datetime | None,
    zone: ZoneInfo,
) -> Counter[date]:
    """Inquiries per local day. For a window of up to ``MAX_BUCKET_DAYS`` the database sums
    each day between its local midnights (exact in any time zone, and no row comes back);
    longer or open windows bucket the timestamps here."""
    days: Counter[date] = Counter()
    end = (until or utcnow()).astimezone(zone).date()
    if since is not None and (end - since.astimezone(zone).date()).days < MAX_BUCKET_DAYS:
        first = since.astimezone(zone).date()
        span = [first + timedelta(days=n) for n in range((end - first).days + 2)]
        edges = [datetime.combine(day, time(), tzinfo=zone) for day in span]
        sums = [
            func.sum(case(((Inquiry.created_at >= lo) & (Inquiry.created_at < hi), 1), else_=0))
            for lo, hi in itertools.pairwise(edges)
        ]
        row = (await session.execute(select(*sums).where(*window))).one()
        for day, count in zip(span, row, strict=False):
            if count:
                days[day] = int(count)
        return days
    for (created_at,) in (await session.execute(select(Inquiry.created_at).where(*window))).all():
        days[created_at.astimezone(zone).date()] += 1
    return days


async def compute_stats(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    timezone: str = "Asia/Shanghai",
    top: int = 10,
    gaps: bool = True,
) -> Stats:
    """Inquiries per day, outcome split, top entries and gaps, helpful rate, response times.

    The window is ``since`` (inclusive) to ``until`` (exclusive); either end may be open.
    ``gaps=False`` skips grouping the unanswered questions (the console's dashboard).
    """
    zone = ZoneInfo(timezone)
    stats = Stats(since=since)
    window = _window(Inquiry.created_at, since, until)
    # Counting is done by the database; only the timestamps come back, to be bucketed by the
    # office's local day (portable across SQLite and PostgreSQL, unlike date functions).
    days = await _per_day(session, window, since, until, zone)
    stats.total = sum(days.values())
    stats.per_day = sorted(days.items())
    outcomes = await session.execute(
        select(Inquiry.outcome, func.count()).where(*window).group_by(Inquiry.outcome)
    )
    stats.outcomes = dict(sorted(((o, int(n)) for o, n in outcomes.all()), key=lambda x: -x[1]))
    times = func.count().label("times")
    entries = await session.execute(
        select(Inquiry.entry_id, func.max(Inquiry.entry_title), times)
        .where(*window, Inquiry.entry_id.is_not(None))
        .group_by(Inquiry.entry_id)
        .order_by(times.desc(), Inquiry.entry_id)
        .limit(top)
    )
    stats.top_entries = [(str(eid), str(title or eid), int(n)) for eid, title, n in entries.all()]
    if gaps:  # grouping thousands of questions by similarity is the costly part
        unmatched = await session.scalars(
            select(Inquiry.text)
            .where(*window, Inquiry.outcome == "unmatched")
            .order_by(Inquiry.id)
            .limit(MAX_UNMATCHED)
        )
        stats.unmatched = group_similar(list(unmatched), limit=top)

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
