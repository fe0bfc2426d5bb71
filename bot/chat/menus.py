"""The category menu and paged entry lists, derived from the knowledge base.

Pure functions: the Telegram handlers turn these into inline keyboards, tests check them
directly. A person's own audience comes first, so an enterprise sees recruitment support before
housing, and talent see housing before job fairs.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.loader import KnowledgeBase
from knowledge.schema import Audience, Category, Entry

__all__ = ["PAGE_SIZE", "Page", "categories_for", "entries_page", "public_entries"]

PAGE_SIZE = 8

_ORDER: dict[Audience | None, tuple[Category, ...]] = {
    Audience.TALENT: (
        Category.HOUSING,
        Category.SUBSIDIES,
        Category.GREEN_CARD,
        Category.DEVELOPMENT,
        Category.INNOVATION,
        Category.RECRUITMENT,
        Category.CHANNELS,
    ),
    Audience.ENTERPRISE: (
        Category.RECRUITMENT,
        Category.INNOVATION,
        Category.SUBSIDIES,
        Category.DEVELOPMENT,
        Category.HOUSING,
        Category.GREEN_CARD,
        Category.CHANNELS,
    ),
}


def _serves(entry: Entry, audience: Audience | None) -> bool:
    return audience is None or entry.audience in (audience, Audience.BOTH)


def public_entries(kb: KnowledgeBase) -> list[Entry]:
    """Entries the public menus list: everything but the office's internal (staff) matters."""
    return [e for e in kb.entries if e.audience is not Audience.STAFF]


def categories_for(kb: KnowledgeBase, audience: Audience | None) -> list[Category]:
    """Categories that have entries, the person's most relevant first."""
    order = _ORDER.get(audience, tuple(Category))
    listed = public_entries(kb)
    present = {e.category for e in listed}
    mine = [c for c in order if any(e.category is c and _serves(e, audience) for e in listed)]
    return mine + [c for c in order if c in present and c not in mine]


@dataclass(frozen=True)
class Page:
    """One page of a category's entries."""

    category: Category
    entries: tuple[Entry, ...]
    number: int
    pages: int

    @property
    def has_previous(self) -> bool:
        """True unless this is the first page."""
        return self.number > 0

    @property
    def has_next(self) -> bool:
        """True unless this is the last page."""
        return self.number + 1 < self.pages


def entries_page(
    kb: KnowledgeBase, category: Category, audience: Audience | None, number: int
) -> Page:
    """Page ``number`` (clamped to the valid range) of ``category``, own audience first."""
    entries = [e for e in public_entries(kb) if e.category is category]
    entries.sort(key=lambda e: 0 if _serves(e, audience) else 1)
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    number = min(max(0, number), pages - 1)
    start = number * PAGE_SIZE
    return Page(category, tuple(entries[start : start + PAGE_SIZE]), number, pages)
