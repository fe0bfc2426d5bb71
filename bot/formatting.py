"""Turn the core's replies into text: plain for the console, HTML for Telegram.

Pure functions only — no sending, no I/O — so every layout is tested directly. Everything that
came from a person or from the knowledge base is escaped in HTML mode.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.texts import Texts
from knowledge.loader import KnowledgeBase
from knowledge.schema import Audience, Entry

__all__ = [
    "HTML",
    "PLAIN",
    "Markup",
    "contact_channels",
    "fill_placeholders",
    "render_also",
    "render_answer",
    "render_answers",
    "render_suggestions",
    "shorten",
    "split_message",
    "utf16_len",
]

TELEGRAM_LIMIT = 4096

OFFICE_CHANNEL = "ch-talent-office"
"""The office's own channel entry; every answer's contact line names the office anyway."""


@dataclass(frozen=True)
class Markup:
    """How to escape and emphasise in one output format."""

    html: bool

    def escape(self, text: str) -> str:
        """Escapes ``text`` for this format."""
        return html.escape(text, quote=False) if self.html else text

    def bold(self, text: str) -> str:
        """Escapes and emphasises ``text``."""
        return f"<b>{self.escape(text)}</b>" if self.html else f"【{text}】"

    def italic(self, text: str) -> str:
        """Escapes and de-emphasises ``text`` (used for the source line)."""
        return f"<i>{self.escape(text)}</i>" if self.html else text


PLAIN = Markup(html=False)
HTML = Markup(html=True)


def fill_placeholders(text: str, office: Mapping[str, str]) -> str:
    """Fills ``{office_*}`` placeholders; the schema guarantees no other braces."""
    return text.format_map(dict(office))


def contact_channels(entry: Entry, kb: KnowledgeBase, audience: Audience | None) -> list[Entry]:
    """The service channels an answer points to, minus those not serving ``audience``.

    The office itself is always named by the contact line, so it is not repeated here; an
    enterprise-only channel (人才服务专员) is not offered to talent.
    """
    found: list[Entry] = []
    for channel_id in entry.channels:
        channel = kb.get(channel_id)
        if channel is None or channel.id == OFFICE_CHANNEL or channel.id == entry.id:
            continue
        if audience is not None and channel.audience not in (audience, Audience.BOTH):
            continue
        found.append(channel)
    return found


def render_answer(
    entry: Entry,
    kb: KnowledgeBase,
    t: Texts,
    office: Mapping[str, str],
    markup: Markup,
    *,
    audience: Audience | None = None,
    repeated: bool = False,
) -> str:
    """The full answer for ``entry``: title and what kind of statement it is, the answer,
    details, who to contact (in-place channels and always the office), and the source titles.

    ``repeated``: the entry was answered just before and the person asked about it again; the
    whole answer is on their screen already, so the title, a pointer back to it and the
    contacts say the same in a few lines instead of a second copy. An answer shorter than
    the pointer is simply given again.
    """
    answer = fill_placeholders(entry.answer, office)
    pointer = t.t("answer.repeated")
    if repeated and len(answer) > len(pointer):
        parts = [markup.bold(entry.title), markup.escape(pointer)]
    else:
        status = t.t("answer.status", status=t.t(f"status.{entry.status.value}"))
        parts = [
            f"{markup.bold(entry.title)}\n{markup.escape(status)}",
            markup.escape(answer),
            *_details(entry, t, office, markup),
        ]
    contacts = [c.title for c in contact_channels(entry, kb, audience)]
    contacts.append(t.t("answer.office_contact", **office))
    parts.append(f"{markup.bold(t.t('answer.contact'))} {markup.escape('；'.join(contacts))}")
    cited = [
        t.t("answer.source_item", title=kb.title_of(file))
        for file in dict.fromkeys(s.file for s in entry.sources)
    ]
    parts.append(markup.italic(f"{t.t('answer.source')}：{'；'.join(cited)}"))
    return "\n\n".join(parts)


def _details(entry: Entry, t: Texts, office: Mapping[str, str], markup: Markup) -> list[str]:
    """Who the entry is for and how to apply, for the entries that say so."""
    details = []
    for label, text in (("eligibility", entry.eligibility), ("how_to_apply", entry.how_to_apply)):
        if text:
            filled = markup.escape(fill_placeholders(text, office))
            details.append(f"{markup.bold(t.t(f'answer.{label}'))} {filled}")
    return details


def render_answers(
    entries: Sequence[Entry],
    kb: KnowledgeBase,
    t: Texts,
    office: Mapping[str, str],
    markup: Markup,
    *,
    audience: Audience | None = None,
    repeated: bool = False,
) -> str:
    """One answer, or for a message with several questions a header and each answer in turn;
    ``repeated`` as for ``render_answer``."""
    if len(entries) == 1:
        return render_answer(
            entries[0], kb, t, office, markup, audience=audience, repeated=repeated
        )
    answers = [render_answer(e, kb, t, office, markup, audience=audience) for e in entries]
    return "\n\n".join([markup.escape(t.t("multi.header")), *answers])


def render_also(entries: Sequence[Entry], t: Texts, markup: Markup, *, numbered: bool) -> str:
    """Under an answer: the entries a message's other questions only suggest (numbered for the
    console, where a number opens one)."""
    return _choices(t.t("multi.also_header"), entries, t, markup, numbered=numbered)


def render_suggestions(
    entries: Sequence[Entry], t: Texts, markup: Markup, *, numbered: bool, several: bool = False
) -> str:
    """ "Did you mean" with the candidate titles (numbered for the console); for a message
    asking several things, "your question touches on" instead."""
    header = t.t("suggest.several_header" if several else "suggest.header")
    return _choices(header, entries, t, markup, numbered=numbered)


def _choices(
    header: str, entries: Sequence[Entry], t: Texts, markup: Markup, *, numbered: bool
) -> str:
    """``header`` and the entries' titles; numbered ones end with how to pick one."""
    lines = [markup.escape(header)]
    for number, entry in enumerate(entries, start=1):
        title = markup.escape(entry.title)
        lines.append(f"{number}. {title}" if numbered else f"• {title}")
    if numbered:
        lines.append(markup.escape(t.t("suggest.pick")))
    return "\n".join(lines)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<(/?)[a-zA-Z][^>]*>")


def _cut_point(piece: str, limit: int) -> int:
    """Where to cut ``piece`` so the head fits ``limit`` units and no tag or entity is split."""
    units = 0
    end = len(piece)
    for index, char in enumerate(piece):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            end = index
            break
    amp = piece.rfind("&", max(0, end - 10), end)
    if amp != -1 and ";" not in piece[amp:end]:
        end = amp  # never "&am" | "p;"
    lt = piece.rfind("<", 0, end)
    if lt != -1 and ">" not in piece[lt:end]:
        end = lt  # never "<b" | ">"
    unclosed: list[int] = []
    for tag in _TAG.finditer(piece, 0, end):
        if tag.group(1):
            if unclosed:
                unclosed.pop()
        else:
            unclosed.append(tag.start())
    if unclosed and unclosed[0] > 0:
        end = unclosed[0]  # never "<b>y" | "</b>": the whole element goes to the next part
    return max(end, 1)


def shorten(text: str, limit: int, marker: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, ending with ``marker`` when cut."""
    return text if len(text) <= limit else text[: max(0, limit - len(marker))] + marker


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Splits ``text`` into chunks Telegram accepts, at paragraph or line breaks if possible.

    Counts UTF-16 code units, as Telegram does (emoji-heavy text would overflow a count of
    characters), and never cuts inside an HTML tag or a character entity.
    """
    if utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n"):
        piece = paragraph
        while utf16_len(piece) > limit:
            if current:
                chunks.append(current)
                current = ""
            cut = _cut_point(piece, limit)
            chunks.append(piece[:cut])
            piece = piece[cut:]
        candidate = f"{current}\n{piece}" if current else piece
        if utf16_len(candidate) > limit:
            chunks.append(current)
            current = piece
        else:
            current = candidate
    if current:
        chunks.append(current)
    return [chunk for chunk in chunks if chunk]
