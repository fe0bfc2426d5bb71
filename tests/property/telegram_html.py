"""A strict checker for Telegram's HTML parse mode, used by the property tests.

Telegram accepts a small set of tags, each closed in order, and requires every ``<``, ``>`` and
``&`` that is not part of a tag or an entity to be escaped. ``check`` raises ``InvalidHtml``
naming the first problem and returns the visible text (entities decoded), so a test can also
prove that what a person typed comes through unchanged.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

__all__ = ["InvalidHtml", "check", "utf16_len"]

ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


class InvalidHtml(ValueError):
    """The text would be refused by Telegram ("can't parse entities")."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise InvalidHtml(f"tag <{tag}> is not allowed")
        for name, _value in attrs:
            if name not in ALLOWED_TAGS[tag]:
                raise InvalidHtml(f"attribute {name!r} is not allowed on <{tag}>")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise InvalidHtml(f"self-closing <{tag}/> is not allowed")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise InvalidHtml(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for char in "<>&":
            if char in data:
                raise InvalidHtml(f"unescaped {char!r} in {data[:40]!r}")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            raise InvalidHtml(f"entity &{name}; is not one Telegram knows")
        self.visible.append(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.visible.append(unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        raise InvalidHtml("an HTML comment")

    def handle_decl(self, decl: str) -> None:
        raise InvalidHtml(f"a declaration <!{decl[:20]}>")

    def handle_pi(self, data: str) -> None:
        raise InvalidHtml(f"a processing instruction <?{data[:20]}>")

    def unknown_decl(self, data: str) -> None:
        raise InvalidHtml(f"a declaration <![{data[:20]}>")


def check(html: str) -> str:
    """Raises ``InvalidHtml`` unless Telegram would accept ``html``; returns its visible text."""
    # Every '&' must start one of the entities Telegram understands (the parser would let a
    # stray '&' followed by a letter through as an unknown entity reference).
    for found in re.finditer("&", html):
        if not ENTITY.match(html, found.start()):
            raise InvalidHtml(f"unescaped '&' at {found.start()}: {html[found.start() :][:20]!r}")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    if checker.rawdata:
        raise InvalidHtml(f"unparsed at the end: {checker.rawdata[:40]!r}")
    if checker.open:
        raise InvalidHtml(f"<{checker.open[-1]}> is never closed")
    return "".join(checker.visible)
