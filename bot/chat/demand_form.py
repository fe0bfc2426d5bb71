"""The /demand form: validate each answer and summarise the draft, without Telegram.

An enterprise registers a recruitment need step by step; every step's validation lives here as
a pure function returning the cleaned value or ``None`` (the handler then re-asks), so the rules
are tested directly and the Telegram conversation stays a thin state machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.texts import Texts

__all__ = ["DemandDraft", "Position", "clean_count", "clean_phone", "clean_text"]

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def clean_text(text: str | None, *, low: int = 1, high: int = 100) -> str | None:
    """Trimmed single-spaced text of ``low``..``high`` characters, else ``None``."""
    if text is None:
        return None
    value = " ".join(text.split())
    return value if low <= len(value) <= high and not value.startswith("/") else None


def clean_phone(text: str | None) -> str | None:
    """A mainland mobile or landline number (spaces and dashes tolerated), else ``None``."""
    if text is None:
        return None
    value = re.sub(r"[\s()（）]", "", text).replace("+86", "")
    if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
        return value
    return None


def clean_count(text: str | None) -> int | None:
    """A head count from 1 to 9999 (full-width digits accepted), else ``None``."""
    if text is None:
        return None
    value = (
        text.strip()
        .translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        .removesuffix("人")
        .removesuffix("名")
    )
    return int(value) if value.isdigit() and 1 <= int(value) <= 9999 else None


@dataclass
class Position:
    """One job in a recruitment need."""

    title: str = ""
    count: int = 0
    requirement: str = ""
    pay: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For storage as JSON."""
        return {
            "title": self.title,
            "count": self.count,
            "requirement": self.requirement,
            "pay": self.pay,
        }


@dataclass
class DemandDraft:
    """What the enterprise has told us so far."""

    company: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    positions: list[Position] = field(default_factory=list)
    needed_by: str = ""

    @property
    def current(self) -> Position:
        """The position being filled in."""
        if not self.positions:
            self.positions.append(Position())
        return self.positions[-1]

    def summary(self, t: Texts) -> str:
        """The draft as the person will confirm it (plain text)."""
        lines = [
            f"{n}. {p.title} × {p.count}｜{p.requirement}｜{p.pay}"
            for n, p in enumerate(self.positions, start=1)
        ]
        return t.t(
            "demand.summary",
            company=self.company,
            contact_name=self.contact_name,
            contact_phone=self.contact_phone,
            positions="\n".join(lines),
            needed_by=self.needed_by,
        )
