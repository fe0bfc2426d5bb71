"""What kind of statement a source passage makes: done, planned, a target, or a past figure.

A talent office must not promise what its documents only plan. Each entry declares a
``status`` (in place, planned, target, reported); this module holds that declaration against
the passages the entry cites:

* a passage is **forward-looking** when its document is an opinion (意见, which proposes
  measures), when it lies in a report's forward-looking section (相关建议, 下步打算, 新的一年…,
  listed in ``documents.yaml``), or when the quote itself carries a planning word (探索, 逐步,
  建立…制度, 制定出台, 建议, 下步, 重点目标, 计划, 拟);
* an entry that says a measure is in place, or reports it, must cite at least one passage that
  is not forward-looking; one that says planned or target must cite at least one that is;
* an answer that cites a forward-looking passage must say so in words (提出, 计划, 探索…), and
  an answer about a measure that is not in place never opens with "有。", "支持。" or the like.

Pure functions over text: the loader runs them for ``kb check``, the reload and the web editor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from knowledge.schema import Document, DocumentKind, Entry, Status

__all__ = [
    "PLAN_MARKERS",
    "SeedText",
    "StatementProblem",
    "check_statements",
    "unwrap",
]

PLAN_MARKERS = re.compile(
    r"探索|逐步|建立[^，。；,;]{0,24}制度|制定出台|建议|下步|重点目标|拟|"
    # 计划 as a verb (计划探索, 今明两年计划…), not inside a programme's name (英才计划, 培养计划).
    r"(?<![英才养化训长持动])计划"
)
"""Words that make a quoted passage a plan, proposal or target rather than a report of fact."""

PLAN_WORDS = re.compile(r"提出|探索|计划|规划|逐步|拟|建议|打算|目标|尚未|将|设想|还没有|未见")
"""Words by which an answer tells a person that (part of) what it describes is not yet done."""

AFFIRMATIVE_OPENING = re.compile(r"^(有|支持|可以|能|会|要|是的|对)[^，。！；]{0,5}[。！]")
"""An opening like "有。", "支持。", "有照顾。", "要考。": only for measures that are in place."""

_SENTENCE_END = "。！？；：\n"


def unwrap(text: str) -> str:
    """Joins lines broken in mid-sentence ("…实用人才3\\n1名"), keeping paragraph breaks.

    A line break that follows neither sentence-ending punctuation nor another break is a
    typesetting accident of the source file; quotes are checked against the unwrapped text so
    that "31名" can be quoted whole.
    """
    out: list[str] = []
    for index, char in enumerate(text):
        if (
            char == "\n"
            and index > 0
            and text[index - 1] not in _SENTENCE_END
            and index + 1 < len(text)
            and text[index + 1] != "\n"
        ):
            continue
        out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class SeedText:
    """One source document's text (unwrapped) with its forward-looking spans located."""

    name: str
    document: Document
    text: str
    forward_spans: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, name: str, document: Document, raw: str) -> SeedText:
        """Unwraps ``raw`` and finds each forward-looking section by its opening texts."""
        text = unwrap(raw)
        spans = []
        for start_text, end_text in document.forward_looking:
            start = text.find(start_text)
            if start < 0:
                continue
            end = text.find(end_text, start + len(start_text)) if end_text else -1
            spans.append((start, end if end >= 0 else len(text)))
        return cls(name, document, text, tuple(spans))

    def contains(self, quote: str) -> bool:
        """Whether ``quote`` is verbatim in the document (line wraps ignored)."""
        return quote in self.text

    def forward_looking(self, quote: str) -> str | None:
        """Why the passage quoted is a plan or proposal, or ``None`` when it reports fact."""
        if self.document.kind is DocumentKind.OPINION:
            return f"{self.name} is an opinion (意见) that proposes measures"
        marker = PLAN_MARKERS.search(quote)
        if marker:
            return f"the quote says {marker.group(0)!r}"
        position = self.text.find(quote)
        for start, end in self.forward_spans:
            if start <= position < end:
                heading = self.text[start : start + 12].split("：")[0]
                return f"it is in {self.name}'s forward-looking section {heading!r}"
        return None


@dataclass(frozen=True)
class StatementProblem:
    """An entry whose declared status or wording disagrees with its sources."""

    entry_id: str
    field: str
    message: str


def _evidence(entry: Entry, seeds: Mapping[str, SeedText]) -> list[str | None]:
    result: list[str | None] = []
    for source in entry.sources:
        seed = seeds.get(source.file)
        result.append(None if seed is None else seed.forward_looking(source.quote))
    return result


def check_entry(entry: Entry, seeds: Mapping[str, SeedText]) -> list[StatementProblem]:
    """The statement problems of one entry (empty when status and wording fit the sources)."""
    if not all(source.file in seeds for source in entry.sources):
        return []
    evidence = _evidence(entry, seeds)
    forward = [reason for reason in evidence if reason is not None]
    factual = len(evidence) - len(forward)
    problems: list[StatementProblem] = []
    status = entry.status
    if status in (Status.IN_PLACE, Status.REPORTED) and not factual:
        problems.append(
            StatementProblem(
                entry.id,
                "status",
                f"{status.value}, but every quoted passage is forward-looking ({forward[0]}); "
                "use planned or target, or cite a report of what was done",
            )
        )
    if status in (Status.PLANNED, Status.TARGET) and not forward:
        problems.append(
            StatementProblem(
                entry.id,
                "status",
                f"{status.value}, but no quoted passage plans or proposes it; "
                "cite the passage that does, or use in_place or reported",
            )
        )
    if forward and not PLAN_WORDS.search(entry.answer):
        problems.append(
            StatementProblem(
                entry.id,
                "answer",
                f"cites a forward-looking passage ({forward[0]}) but never says so; "
                "phrase that part as 区里提出…/计划…/正在探索…",
            )
        )
    opening = AFFIRMATIVE_OPENING.match(entry.answer)
    if status is not Status.IN_PLACE and opening is not None:
        problems.append(
            StatementProblem(
                entry.id,
                "answer",
                f"opens with {opening.group(0)!r} but the measure is {status.value}, not in place",
            )
        )
    return problems


def check_statements(
    entries: Iterable[Entry], seeds: Mapping[str, SeedText]
) -> list[StatementProblem]:
    """The statement problems of every entry, in order."""
    problems: list[StatementProblem] = []
    for entry in entries:
        problems.extend(check_entry(entry, seeds))
    return problems
