"""Messages that are not questions: unclear ones, and requests to talk to a person.

Unclear is not uncovered: "？？？", an emoji, one character or a keyboard mash get a short
"please rephrase" with examples and open no ticket, while a real question the knowledge base
lacks still goes to a specialist. A person who types "转人工" wants a person, not an answer about
the talent office. Both are decided from the text alone, before any matching.
"""

from __future__ import annotations

import re
import unicodedata

from knowledge.normalize import clean

__all__ = ["HANDOVER_PHRASES", "is_unclear", "wants_a_person"]

HANDOVER_PHRASES = (
    "转人工",
    "人工客服",
    "人工服务",
    "人工",
    "找人工",
    "要人工",
    "转接人工",
    "真人",
    "找真人",
    "真人客服",
    "客服",
    "找客服",
    "找工作人员",
    "工作人员",
    "人工回复",
    "我要找人",
    "找个人",
    "human",
    "a human",
    "talk to a human",
    "speak to a human",
    "real person",
    "a real person",
    "agent",
    "an agent",
    "operator",
    "customer service",
    "staff",
)
"""Whole messages (after politeness is stripped) that ask for a specialist."""

_POLITE = re.compile(
    r"^(请|麻烦|帮我|给我|我要|我想|我想要|能不能|可以|please|can i|could i|i want to|i want|"
    r"let me|i need|i'd like to)\s*"
)
_TAIL = re.compile(r"(吧|吗|呢|啊|一下|谢谢|please|now)$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z]+")
_VOWELS = set("aeiouy")


def wants_a_person(text: str) -> bool:
    """True when the whole message asks for a human specialist ("转人工", "talk to a human")."""
    words = clean(text)
    for _ in range(3):
        stripped = _TAIL.sub("", _POLITE.sub("", words)).strip()
        if stripped == words:
            break
        words = stripped
    return words in HANDOVER_PHRASES or words.replace(" ", "") in HANDOVER_PHRASES


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _mash(word: str) -> bool:
    """A latin 'word' nobody writes: one letter over and over, no vowel in 4+ letters, or 7+
    letters all from one keyboard row (asdfghjkl)."""
    if len(set(word)) == 1 and len(word) >= 3:
        return True
    if len(word) >= 7 and any(set(word) <= set(row) for row in _KEYBOARD_ROWS):
        return True
    return len(word) >= 4 and not (set(word) & _VOWELS)


def is_unclear(text: str) -> bool:
    """True for messages with nothing to understand: symbols, emoji, one character, a mash.

    Greetings and thanks are decided before this (smalltalk), so "嗨" never gets here.
    """
    words = clean(unicodedata.normalize("NFKC", text))
    compact = words.replace(" ", "")
    if not compact:
        return True
    if compact.isdigit():
        return True
    cjk = _CJK.findall(compact)
    if len(cjk) == 1 and len(compact) <= 2:
        return True
    if cjk and len(set(cjk)) == 1 and len(cjk) >= 3 and len(cjk) == len(compact):
        return True  # 啊啊啊, 哈哈哈哈
    latin = _LATIN_WORD.findall(words)
    if not cjk and latin:
        if len(compact) <= 2:
            return True
        return all(_mash(word) for word in latin)
    return False
