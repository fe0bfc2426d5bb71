"""Inline-button data: encoded by us, but parsed as untrusted input.

Telegram returns ``callback_data`` from the client, and a modified client can send anything, so
every tap is parsed strictly here (fixed shapes, bounded numbers, known words) and everything it
names is checked again against the database or the knowledge base by the handler that acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_ID", "Callback", "encode", "parse", "parse_id"]

MAX_BYTES = 64
MAX_ID = 2**31 - 1
"""Ids are database integers: anything larger is forged and must not reach a query."""
_ID = re.compile(r"#?([0-9]{1,10})")
_ENTRY_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_SHAPES: dict[str, re.Pattern[str]] = {
    "role": re.compile(r"role:(talent|enterprise)"),
    "menu": re.compile(r"menu"),
    "cat": re.compile(r"cat:([a-z_]{1,20}):([0-9]{1,3})"),
    "entry": re.compile(rf"e:({_ENTRY_ID})"),
    "feedback": re.compile(r"fb:([0-9]{1,10}):(y|n)"),
    "human": re.compile(r"hu:([0-9]{1,10})"),
    "forget": re.compile(r"fg:(yes|no)"),
    "demand": re.compile(r"dm:(start|confirm|edit|more|done)"),
    "staff": re.compile(r"st:(take|resolve|history):([0-9]{1,10})"),
    "inbox": re.compile(r"st:inbox:([0-9]{1,3})"),
    "rate": re.compile(r"rt:([0-9]{1,10}):([1-5])"),
    "end": re.compile(r"end:([0-9]{1,10})"),
}
_PREFIX = {
    "role": "role",
    "menu": "menu",
    "cat": "cat",
    "entry": "e",
    "feedback": "fb",
    "human": "hu",
    "forget": "fg",
    "demand": "dm",
    "staff": "st",
    "inbox": "st:inbox",
    "rate": "rt",
    "end": "end",
}


@dataclass(frozen=True)
class Callback:
    """A parsed button tap: its kind and its arguments as strings."""

    kind: str
    args: tuple[str, ...] = ()


def encode(kind: str, *args: object) -> str:
    """Builds button data; raises ``ValueError`` if it would not parse back or is too long."""
    data = ":".join([_PREFIX[kind], *(str(a) for a in args)])
    if len(data.encode("utf-8")) > MAX_BYTES or parse(data) != Callback(
        kind, tuple(str(a) for a in args)
    ):
        raise ValueError(f"bad callback data {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    """The tap's meaning, or ``None`` for anything that is not exactly one of our shapes."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    for kind, shape in _SHAPES.items():
        found = shape.fullmatch(data)
        if found:
            if any(g.isdigit() and int(g) > MAX_ID for g in found.groups()):
                return None
            return Callback(kind, found.groups())
    return None


def parse_id(text: str | None) -> int | None:
    """A ticket or inquiry number typed by a person ("12", "#12"), or ``None``.

    Only ASCII digits and only numbers a database id can be: ``str.isdigit`` accepts "²" and
    "①", which ``int`` then refuses, and a 20-digit number overflows the database's integer.
    """
    found = _ID.fullmatch(text.strip()) if text else None
    if found is None:
        return None
    number = int(found.group(1))
    return number if 1 <= number <= MAX_ID else None
