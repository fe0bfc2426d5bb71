"""Text normalisation: the same question typed many ways becomes one canonical string.

People type full-width letters, mixed punctuation, fillers ("请问", "我想问一下") and their own
words for things ("房补", "娃", "博后"). Normalising both the knowledge base and each question
the same way lets the matcher compare like with like.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = ["FILLERS", "Normalizer", "clean"]

FILLERS: tuple[str, ...] = (
    "我想问一下",
    "我想问下",
    "想问一下",
    "想问下",
    "问一下",
    "问下",
    "请问一下",
    "请问",
    "我想咨询一下",
    "我想咨询",
    "想咨询一下",
    "咨询一下",
    "咨询下",
    "请教一下",
    "请教",
    "麻烦问一下",
    "麻烦问下",
    "麻烦您",
    "麻烦你",
    "麻烦",
    "我想了解一下",
    "想了解一下",
    "了解一下",
    "我想知道",
    "想知道",
    "我想了解",
    "你好",
    "您好",
    "你们好",
    "老师好",
    "领导好",
    "谢谢",
    "感谢",
    "please",
    "could you tell me",
    "can you tell me",
    "i want to know",
    "i would like to know",
)
"""Phrases that carry politeness, not meaning; removed wherever they appear."""

_TRAILING_PARTICLES = re.compile(r"[吗呢吧啊呀哈嘛哦噢]+$")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NOT_WORD = re.compile(rf"[^0-9a-z{_CJK}]+")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")


def clean(text: str) -> str:
    """NFKC, lower case, punctuation to spaces, no spaces next to Chinese characters."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _NOT_WORD.sub(" ", text).strip()
    return _SPACE_NEAR_CJK.sub("", re.sub(r" +", " ", text))


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class _Rewriter:
    """Longest-match phrase replacement in one left-to-right pass.

    A regex alternation of thousands of phrases is slow to build and to run; a table keyed by
    first character with the phrase lengths to try stays fast at any knowledge-base size.
    Latin phrases only match whole words.
    """

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table = {k: v for k, v in table.items() if k}
        lengths: dict[str, set[int]] = {}
        for phrase in self._table:
            lengths.setdefault(phrase[0], set()).add(len(phrase))
        self._lengths = {c: sorted(ls, reverse=True) for c, ls in lengths.items()}

    def sub(self, text: str) -> str:
        out: list[str] = []
        i, end = 0, len(text)
        while i < end:
            for size in self._lengths.get(text[i], ()):
                piece = text[i : i + size]
                replacement = self._table.get(piece) if len(piece) == size else None
                if replacement is None:
                    continue
                if piece.isascii() and (
                    (i > 0 and _is_word_char(text[i - 1]))
                    or (i + size < end and _is_word_char(text[i + size]))
                ):
                    continue
                out.append(replacement)
                i += size
                break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


class Normalizer:
    """Cleans text, maps variants to the knowledge base's terms and drops fillers.

    Args:
        synonyms: KB term -> the ways people write it.
        protected: KB terms that must never be rewritten by a shorter variant inside them
            (so the variant "房补" does not break up "购房补贴").
        fillers: politeness phrases to remove.
    """

    def __init__(
        self,
        synonyms: Mapping[str, Iterable[str]],
        *,
        protected: Iterable[str] = (),
        fillers: Iterable[str] = FILLERS,
    ) -> None:
        self._replacement: dict[str, str] = {}
        for term, variants in synonyms.items():
            canonical = clean(term)
            for variant in variants:
                key = clean(variant)
                if key and key != canonical:
                    self._replacement[key] = canonical
        keep = {clean(t) for t in protected} | {clean(t) for t in synonyms}
        for term in keep:
            self._replacement.setdefault(term, term)
        spaced = {k: f" {v} " if v.isascii() else v for k, v in self._replacement.items()}
        self._synonyms = _Rewriter(spaced)
        self._fillers = _Rewriter({clean(f): " " for f in fillers})

    def normalize(self, text: str) -> str:
        """Returns the canonical form of ``text``; may be empty."""
        text = self._synonyms.sub(self._fillers.sub(clean(text)))
        text = clean(text)
        return _TRAILING_PARTICLES.sub("", text)
