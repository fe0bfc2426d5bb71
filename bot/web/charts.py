"""Charts drawn on the server as SVG: no chart library, no script, nothing fetched."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

__all__ = ["daily_bars"]


def daily_bars(
    per_day: list[tuple[date, int]], *, end: date, days: int = 30, label: str = ""
) -> str:
    """Inquiries per day for the ``days`` up to ``end``, as an accessible SVG bar chart."""
    counts = dict(per_day)
    series = [(end - timedelta(days=days - 1 - n), 0) for n in range(days)]
    series = [(day, counts.get(day, 0)) for day, _ in series]
    top = max((n for _, n in series), default=0) or 1
    width, height, gap = 600, 160, 2
    bar = (width - gap * (days - 1)) / days
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 20}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for number, (day, count) in enumerate(series):
        h = round(count / top * height, 1)
        x = round(number * (bar + gap), 1)
        parts.append(
            f'<rect x="{x}" y="{height - h}" width="{bar:.1f}" height="{h}" class="bar">'
            f"<title>{day.isoformat()}: {count}</title></rect>"
        )
        if (days - 1 - number) % 7 == 0:  # every week, ending today
            last = number == days - 1
            anchor, at = ("end", width) if last else ("start", x)
            parts.append(
                f'<text x="{at}" y="{height + 15}" text-anchor="{anchor}" class="axis">'
                f"{day.strftime('%m-%d')}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
