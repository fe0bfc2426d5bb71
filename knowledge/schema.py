"""The shape of a knowledge entry, checked by pydantic.

Staff edit the YAML by hand, so every rule that keeps an answer honest and readable lives
here, and every violation becomes a ``Problem`` that names file, line and field.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = [
    "ANSWER_PLACEHOLDERS",
    "Audience",
    "Category",
    "Document",
    "DocumentKind",
    "Entry",
    "Kind",
    "Problem",
    "SmalltalkIntent",
    "Source",
    "Status",
]

ANSWER_PLACEHOLDERS = frozenset({"office_name", "office_phone", "office_address", "office_hours"})
"""Contact details a deploying office fills in through settings; the only braces allowed."""

MAX_ANSWER = 500
MAX_DETAIL = 200
MAX_TITLE = 20

EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Kind(StrEnum):
    """What an entry describes."""

    POLICY = "policy"
    SUBSIDY = "subsidy"
    CHANNEL = "channel"


class Audience(StrEnum):
    """Who an entry is for; ``both`` serves talent and enterprises alike.

    ``staff`` marks the office's internal matters (cadre training and the like): answered when
    someone asks, never listed in the public menus.
    """

    TALENT = "talent"
    ENTERPRISE = "enterprise"
    BOTH = "both"
    STAFF = "staff"


class Status(StrEnum):
    """What kind of statement the source documents make about a measure.

    A public office must not promise what the documents only plan, so every entry says which
    of these it is, and the reply shows it in a short, consistent phrase.
    """

    IN_PLACE = "in_place"
    """Set up or carried out (已设立/已开展): a person can use it or ask about it now."""
    PLANNED = "planned"
    """Proposed, planned or being explored (提出/探索建立/逐步建立/下步打算/建议)."""
    TARGET = "target"
    """A goal in numbers (计划三年内…, 每年…名以上): not something a person can apply for."""
    REPORTED = "reported"
    """A past event or figure (2024年…发放98万元): what happened, not a standing promise."""


class Category(StrEnum):
    """Menu sections, in the order people see them."""

    HOUSING = "housing"
    SUBSIDIES = "subsidies"
    GREEN_CARD = "green_card"
    RECRUITMENT = "recruitment"
    INNOVATION = "innovation"
    DEVELOPMENT = "development"
    CHANNELS = "channels"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the knowledge base, printed as ``file:line: field: message``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class Source(BaseModel):
    """A seed document and a verbatim quote from it that backs the answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}_[0-9a-f]{16}\.txt$")]
    quote: Annotated[str, StringConstraints(min_length=6, max_length=120)]

    @field_validator("quote")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("a quote is one line; copy a shorter passage")
        return value


class DocumentKind(StrEnum):
    """A report says what was done; an opinion (意见) proposes what should be done."""

    REPORT = "report"
    OPINION = "opinion"


class Document(BaseModel):
    """A source document as ``documents.yaml`` describes it.

    ``forward_looking`` lists passages of a report that propose or plan rather than report
    (相关建议, 下步打算, 新的一年…), each as the text that opens it and the text that opens
    whatever follows it (or ``""`` for the end of the document).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)]
    kind: DocumentKind
    forward_looking: list[tuple[str, str]] = Field(default_factory=list)


def _check_placeholders(value: str) -> str:
    for _, name, _, _ in string.Formatter().parse(value):
        if name is not None and name not in ANSWER_PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in sorted(ANSWER_PLACEHOLDERS))
            raise ValueError(f"unknown placeholder {{{name}}}; allowed: {allowed}")
    return value


def _safe_check_placeholders(value: str) -> str:
    try:
        return _check_placeholders(value)
    except ValueError as exc:
        if "placeholder" in str(exc):
            raise
        raise ValueError(f"unbalanced braces: {exc}") from exc


class Entry(BaseModel):
    """One policy, subsidy or service channel, as staff write it in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: EntryId
    kind: Kind
    audience: Audience
    category: Category
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=MAX_TITLE)
    ]
    questions: Annotated[list[ShortText], Field(min_length=5)]
    keywords: Annotated[list[ShortText], Field(min_length=1)]
    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=MAX_ANSWER)
    ]
    eligibility: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_DETAIL)] | None
    ) = None
    how_to_apply: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_DETAIL)] | None
    ) = None
    status: Status
    channels: list[EntryId] = Field(default_factory=list)
    related: list[EntryId] = Field(default_factory=list)
    """Entries that deliberately cover a neighbouring aspect of the same passage."""
    aliases: list[EntryId] = Field(default_factory=list)
    """Former ids merged into this entry, so logged inquiries and staff links still resolve."""
    sources: Annotated[list[Source], Field(min_length=1)]

    @field_validator("answer", "eligibility", "how_to_apply")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return None if value is None else _safe_check_placeholders(value)

    @field_validator("questions", "keywords", "channels", "related", "aliases")
    @classmethod
    def _no_duplicates(cls, values: list[str]) -> list[str]:
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise ValueError(f"{value!r} is listed twice")
            seen.add(value)
        return values


class SmalltalkIntent(BaseModel):
    """Greetings, thanks and goodbyes: answered kindly, never as a policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: EntryId
    patterns: Annotated[list[ShortText], Field(min_length=1)]
