"""Every user-facing string, per language, read from ``bot/texts/<lang>.yaml``.

Keeping the words in one file per language lets the office reword the bot without touching
code, and lets tests assert on the very strings people see.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Texts", "language_for", "texts"]

DEFAULT_LANGUAGE = "zh"
LANGUAGES = ("zh", "en")
_DIR = Path(__file__).resolve().parent


class Texts:
    """One language's strings; ``t("a.b", x=1)`` looks up and formats."""

    def __init__(self, language: str, table: dict[str, Any], fallback: Texts | None = None) -> None:
        self.language = language
        self._table = table
        self._fallback = fallback

    def _lookup(self, key: str) -> Any:
        node: Any = self._table
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def t(self, key: str, /, **values: object) -> str:
        """The string at dotted ``key``, formatted with ``values``; raises KeyError if absent."""
        found = self._lookup(key)
        if found is None and self._fallback is not None:
            return self._fallback.t(key, **values)
        if not isinstance(found, str):
            raise KeyError(f"no text {key!r} for language {self.language!r}")
        return found.format(**values) if values else found

    def keys(self) -> set[str]:
        """Every dotted key this language defines."""
        out: set[str] = set()

        def walk(node: Any, prefix: str) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, f"{prefix}.{k}" if prefix else str(k))
            else:
                out.add(prefix)

        walk(self._table, "")
        return out


@cache
def texts(language: str = DEFAULT_LANGUAGE) -> Texts:
    """The strings for ``language`` (``zh`` or ``en``); unknown languages get Chinese."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    table = yaml.safe_load((_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    fallback = None if language == DEFAULT_LANGUAGE else texts(DEFAULT_LANGUAGE)
    return Texts(language, table, fallback)


def language_for(code: str | None) -> str:
    """Maps a Telegram ``language_code`` (``en-GB``, ``zh-hans``…) to one of ``LANGUAGES``."""
    if code and code.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
