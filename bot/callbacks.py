"""Inline-button data: encoded by us, but parsed as untrusted input.

Telegram returns ``callback_data`` from the client, and a modified client can send anything, so
every tap is parsed strictly here (fixed shapes, bounded numbers, known words) and everything it
names is checked again against the database or the knowledge base by the handler that acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Callback", "encode", "parse"]

MAX_BYTES = 64
_ENTRY_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_SHAPES: dict[str, re.Pattern[str]] = {
    "role": re.compile(r"role:(talent|enterprise)"),
    "menu": re.compile(r"menu"),
    "cat": re.compile(r"cat:([a-z_]{1,20}):(\d{1,3})"),
    "entry": re.compile(rf"e:({_ENTRY_ID})"),
    "feedback": re.compile(r"fb:(\d{1,12}):(y|n)"),
    "human": re.compile(r"hu:(\d{1,12})"),
    "forget": re.compile(r"fg:(yes|no)"),
    "demand": re.compile(r"dm:(start|confirm|edit|more|done)"),
    "staff": re.compile(r"st:(take|resolve|history):(\d{1,12})"),
    "inbox": re.compile(r"st:inbox:(\d{1,3})"),
    "rate": re.compile(r"rt:(\d{1,12}):([1-5])"),
    "end": re.compile(r"end:(\d{1,12})"),
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
            return Callback(kind, found.groups())
    return None
