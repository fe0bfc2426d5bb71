"""Match a question to the knowledge base: normalise, segment, index, score.

The score of an entry for a question blends three signals, each in [0, 1]:

* **term coverage** – the share of the question's meaning, weighted by inverse document
  frequency, that the entry's words cover. Rare words (绿卡, 工匠, 博士后) weigh more than common
  ones (人才, 政策); words the knowledge base has never seen weigh the most, which is what makes
  "公积金怎么提取" come out unmatched instead of as a wrong answer;
* **character-bigram coverage** – the same over overlapping character pairs, which survives
  typos and segmentation differences ("人材公寓", "绿咔");
* **fuzzy similarity** – rapidfuzz's ratio against the entry's closest example question, which
  separates entries that share vocabulary.

Candidates come from an inverted index, so only entries sharing a word with the question are
scored; rapidfuzz runs on the best few only. Matching is pure: no I/O, no globals mutated.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import jieba
from rapidfuzz import fuzz

from knowledge.loader import KnowledgeBase
from knowledge.normalize import Normalizer, clean
from knowledge.schema import Audience, Entry

__all__ = ["Candidate", "Match", "MatchConfig", "Matcher", "Outcome"]

jieba.setLogLevel(logging.WARNING)

STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "哦",
        "嘛",
        "么",
        "我",
        "我们",
        "你",
        "你们",
        "您",
        "他",
        "她",
        "它",
        "咱",
        "咱们",
        "是",
        "在",
        "有",
        "和",
        "与",
        "及",
        "或",
        "或者",
        "也",
        "都",
        "就",
        "还",
        "又",
        "把",
        "被",
        "给",
        "让",
        "对",
        "从",
        "向",
        "到",
        "去",
        "来",
        "这",
        "那",
        "这个",
        "那个",
        "这些",
        "那些",
        "哪",
        "哪个",
        "哪些",
        "哪里",
        "哪儿",
        "什么",
        "啥",
        "怎么",
        "怎么样",
        "怎样",
        "如何",
        "怎么办",
        "咋",
        "咋办",
        "咋样",
        "为什么",
        "为啥",
        "多少",
        "几",
        "多",
        "能",
        "能不能",
        "可以",
        "可不可以",
        "可否",
        "会",
        "要",
        "想",
        "需要",
        "需不需要",
        "应该",
        "得",
        "没",
        "没有",
        "有没有",
        "是不是",
        "是否",
        "不",
        "吗",
        "一下",
        "一些",
        "一点",
        "个",
        "请",
        "请问",
        "问",
        "问问",
        "知道",
        "了解",
        "告诉",
        "下",
        "上",
        "里",
        "中",
        "些",
        "等",
        "之",
        "其",
        "以",
        "及其",
        "并",
        "而",
        "但",
        "但是",
        "如果",
        "的话",
        "时候",
        "现在",
        "目前",
        "今年",
        "具体",
        "相关",
        "方面",
        "情况",
        "问题",
        "事",
        "事情",
        "东西",
        "一",
        "个人",
        "自己",
        "人家",
        "已经",
        "刚",
        "刚刚",
        "能否",
        "呢",
        "嗯",
        "好",
        "好的",
        "行",
        "这边",
        "那边",
        "how",
        "do",
        "does",
        "did",
        "i",
        "me",
        "my",
        "we",
        "our",
        "us",
        "you",
        "your",
        "is",
        "are",
        "am",
        "was",
        "were",
        "be",
        "been",
        "being",
        "can",
        "could",
        "would",
        "should",
        "will",
        "what",
        "which",
        "where",
        "when",
        "who",
        "whom",
        "why",
        "the",
        "a",
        "an",
        "to",
        "for",
        "of",
        "in",
        "on",
        "at",
        "by",
        "with",
        "about",
        "any",
        "there",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "please",
        "tell",
        "know",
        "want",
        "wants",
        "need",
        "needs",
        "get",
        "got",
        "have",
        "has",
        "had",
        "as",
        "if",
        "so",
        "and",
        "or",
        "not",
        "no",
        "yes",
        "here",
        "they",
        "them",
        "their",
        "from",
        "into",
        "some",
        "more",
        "most",
        "also",
        "just",
        "like",
        "much",
        "many",
        "there's",
        "what's",
        "i'm",
        "it's",
        "anyone",
        "someone",
        "something",
        "up",
        "out",
    ]
)
"""Words that say how a question is asked, not what it is about."""


class Outcome(StrEnum):
    """What the matcher concluded."""

    ANSWERED = "answered"
    SUGGESTED = "suggested"
    UNMATCHED = "unmatched"
    SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds and weights; the defaults are tuned on ``tests/eval/questions.yaml``."""

    answer_threshold: float = 0.5
    suggest_threshold: float = 0.35
    margin: float = 0.02
    max_suggestions: int = 3
    word_weight: float = 0.3
    phrase_weight: float = 0.2
    bigram_weight: float = 0.2
    fuzzy_weight: float = 0.1
    unknown_word_factor: float = 1.0
    unknown_function_word_factor: float = 0.3
    common_word_rarity: float = 6.0
    rare_word_rarity: float = 11.0
    common_word_floor: float = 0.1
    rerank_depth: int = 20
    audience_bonus: float = 0.03


@dataclass(frozen=True)
class Candidate:
    """An entry and its score in [0, 1]."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class Match:
    """The matcher's verdict for one question; ``unmatched`` is a normal result."""

    outcome: Outcome
    query: str
    normalized: str
    candidates: tuple[Candidate, ...] = ()
    smalltalk: str | None = None

    @property
    def entry(self) -> Entry | None:
        """The answered entry, if the outcome is ``answered``."""
        return (
            self.candidates[0].entry
            if self.outcome is Outcome.ANSWERED and self.candidates
            else None
        )

    @property
    def score(self) -> float:
        """The best candidate's score, or 0."""
        return self.candidates[0].score if self.candidates else 0.0


@dataclass
class _Doc:
    entry: Entry
    words: set[str] = field(default_factory=set)
    bigrams: set[str] = field(default_factory=set)
    phrases: list[str] = field(default_factory=list)
    phrase_terms: list[tuple[frozenset[str], float]] = field(default_factory=list)


_tokenizer_lock = threading.Lock()
_base_tokenizer: jieba.Tokenizer | None = None
_pos_tags: dict[str, str] | None = None

CONTENT_TAGS = frozenset({"vn", "an", "j", "nz", "eng", "i", "l"})
"""jieba part-of-speech tags (besides every noun tag ``n*``) of words that name a topic."""


def _jieba_pos_tags() -> dict[str, str]:
    """jieba's dictionary part-of-speech tags, read once (a word -> tag table)."""
    global _pos_tags
    with _tokenizer_lock:
        if _pos_tags is None:
            table: dict[str, str] = {}
            with jieba.get_dict_file() as handle:
                for raw in handle:
                    parts = raw.decode("utf-8").split()
                    if len(parts) == 3:
                        table[parts[0]] = parts[2]
            _pos_tags = table
        return _pos_tags


def _names_a_topic(word: str, tags: dict[str, str]) -> bool:
    """True for nouns and for words jieba does not know (usually specific compounds)."""
    tag = tags.get(word)
    return tag is None or tag.startswith("n") or tag in CONTENT_TAGS


def _new_tokenizer(words: Iterable[str]) -> jieba.Tokenizer:
    """A private jieba tokenizer knowing the KB's terms (the global one stays untouched)."""
    global _base_tokenizer
    with _tokenizer_lock:
        if _base_tokenizer is None:
            base = jieba.Tokenizer()
            base.initialize()
            _base_tokenizer = base
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = dict(_base_tokenizer.FREQ)
        tokenizer.total = _base_tokenizer.total
        tokenizer.initialized = True
    for word in words:
        if len(word) >= 2:
            tokenizer.add_word(word, freq=max(tokenizer.FREQ.get(word, 0), 3000))
    return tokenizer


def _bigrams(text: str) -> set[str]:
    chars = text.replace(" ", "")
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


class Matcher:
    """Scores questions against one knowledge base. Build once, match many times.

    Thread-safe for matching; build a new one to change the knowledge base.
    """

    def __init__(self, kb: KnowledgeBase, config: MatchConfig | None = None) -> None:
        self.kb = kb
        self.config = config or MatchConfig()
        terms: set[str] = set()
        for entry in kb.entries:
            terms.update(clean(k) for k in entry.keywords)
            terms.add(clean(entry.title))
        for term, variants in kb.synonyms.items():
            terms.add(clean(term))
            terms.update(clean(v) for v in variants if not v.isascii())
        self.normalizer = Normalizer(kb.synonyms, protected=terms)
        self._tokenizer = _new_tokenizer(t for t in terms if " " not in t)
        self._pos = _jieba_pos_tags()
        self._general_total = float(self._tokenizer.total)
        self._general_freq: dict[str, int] = self._tokenizer.FREQ
        self._smalltalk = {
            self.normalizer.normalize(p) or clean(p): intent.id
            for intent in kb.smalltalk
            for p in intent.patterns
        }
        self._smalltalk.update(
            {clean(p): intent.id for intent in kb.smalltalk for p in intent.patterns}
        )
        self._docs: list[_Doc] = []
        phrase_words: list[list[frozenset[str]]] = []
        for entry in kb.entries:
            doc = _Doc(entry)
            own: list[frozenset[str]] = []
            for number, text in enumerate((entry.title, *entry.questions, *entry.keywords)):
                normalized = self.normalizer.normalize(text)
                words = frozenset(self.words(normalized))
                doc.words.update(words)
                doc.bigrams.update(_bigrams(normalized))
                if number <= len(entry.questions):
                    doc.phrases.append(normalized)
                    own.append(words)
            self._docs.append(doc)
            phrase_words.append(own)
        self._word_idf, self._word_postings = self._index(d.words for d in self._docs)
        weight = {t: idf * self._informativeness(t) for t, idf in self._word_idf.items()}
        for doc, own in zip(self._docs, phrase_words, strict=True):
            doc.phrase_terms = [(words, sum(weight[t] for t in words)) for words in own]
        self._bigram_idf, self._bigram_postings = self._index(d.bigrams for d in self._docs)
        self._unseen_idf = math.log((len(self._docs) + 1) / 0.5)

    @staticmethod
    def _index(term_sets: Iterable[set[str]]) -> tuple[dict[str, float], dict[str, list[int]]]:
        postings: dict[str, list[int]] = defaultdict(list)
        total = 0
        for number, terms in enumerate(term_sets):
            total += 1
            for term in terms:
                postings[term].append(number)
        idf = {t: math.log((total + 1) / (len(p) + 0.5)) for t, p in postings.items()}
        return idf, dict(postings)

    def words(self, normalized: str) -> list[str]:
        """Meaningful words of normalised text, in order, search-mode segmented."""
        out = []
        for token in self._tokenizer.lcut_for_search(normalized, HMM=False):
            token = token.strip()
            if token and token not in STOPWORDS and not token.isdigit():
                out.append(token)
        return out

    def _informativeness(self, term: str) -> float:
        """How much a word says in everyday Chinese, from jieba's corpus frequency, in (0, 1].

        The knowledge base is small, so its own IDF calls a word like 大 or 一起 rare just
        because few entries use it; weighting by the word's rarity in general Chinese keeps
        everyday words from outvoting the terms that carry the question (父母, 工匠, 绿卡).
        Words jieba does not know (our KB terms, specific compounds) count fully.
        """
        cfg = self.config
        freq = self._general_freq.get(term, 0)
        if freq <= 0:
            return 1.0
        rarity = math.log(self._general_total / freq)
        share = (rarity - cfg.common_word_rarity) / (cfg.rare_word_rarity - cfg.common_word_rarity)
        return min(1.0, max(cfg.common_word_floor, share))

    def _weights(self, terms: Iterable[str], idf: dict[str, float]) -> dict[str, float]:
        weights = {}
        for term in terms:
            weight = idf.get(term)
            if weight is None:
                factor = self.config.unknown_word_factor
                if len(term) == 1 or term.isascii():
                    factor *= 0.35
                elif not _names_a_topic(term, self._pos):
                    factor *= self.config.unknown_function_word_factor
                weight = self._unseen_idf * factor
            weights[term] = weight * self._informativeness(term)
        return weights

    @staticmethod
    def _coverage(
        weights: dict[str, float], postings: dict[str, list[int]], scores: dict[int, float]
    ) -> float:
        total = sum(weights.values())
        if total <= 0:
            return 0.0
        for term, weight in weights.items():
            for doc in postings.get(term, ()):
                scores[doc] = scores.get(doc, 0.0) + weight / total
        return total

    def match(self, text: str, *, audience: Audience | str | None = None) -> Match:
        """Returns the verdict for ``text``; never raises on odd input."""
        cfg = self.config
        normalized = self.normalizer.normalize(text)
        raw = clean(text)
        intent = (self._smalltalk.get(raw) or self._smalltalk.get(normalized)) if raw else None
        if intent is not None:
            return Match(Outcome.SMALLTALK, text, normalized, smalltalk=intent)
        if not normalized:
            return Match(Outcome.UNMATCHED, text, normalized)
        word_weights = self._weights(set(self.words(normalized)), self._word_idf)
        bigram_weights = self._weights(_bigrams(normalized), self._bigram_idf)
        word_scores: dict[int, float] = {}
        bigram_scores: dict[int, float] = {}
        self._coverage(word_weights, self._word_postings, word_scores)
        self._coverage(bigram_weights, self._bigram_postings, bigram_scores)
        if not word_scores and not bigram_scores:
            return Match(Outcome.UNMATCHED, text, normalized)
        lexical = {
            doc: cfg.word_weight * word_scores.get(doc, 0.0)
            + cfg.bigram_weight * bigram_scores.get(doc, 0.0)
            for doc in word_scores.keys() | bigram_scores.keys()
        }
        shortlist = sorted(lexical, key=lexical.__getitem__, reverse=True)[: cfg.rerank_depth]
        wanted = Audience(audience) if audience else None
        ranked = []
        query_total = sum(word_weights.values())
        for doc_no in shortlist:
            doc = self._docs[doc_no]
            similarity = max(fuzz.ratio(normalized, phrase) for phrase in doc.phrases) / 100
            closeness = self._closest_phrase(word_weights, query_total, doc)
            score = lexical[doc_no] + cfg.phrase_weight * closeness + cfg.fuzzy_weight * similarity
            if wanted is not None and doc.entry.audience in (wanted, Audience.BOTH):
                score += cfg.audience_bonus
            ranked.append(Candidate(doc.entry, round(min(score, 1.0), 4)))
        ranked.sort(key=lambda c: c.score, reverse=True)
        return self._verdict(text, normalized, ranked)

    @staticmethod
    def _closest_phrase(weights: dict[str, float], total: float, doc: _Doc) -> float:
        """Weighted Dice overlap with the entry's closest example question, in [0, 1].

        Coverage alone favours broad entries whose many questions mention every word; Dice
        also asks how much of one real question the person's words account for.
        """
        best = 0.0
        for terms, phrase_total in doc.phrase_terms:
            shared = sum(weights[t] for t in terms if t in weights)
            if shared:
                best = max(best, 2 * shared / (total + phrase_total))
        return best

    def _verdict(self, text: str, normalized: str, ranked: Sequence[Candidate]) -> Match:
        cfg = self.config
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= cfg.answer_threshold and best.score - runner_up >= cfg.margin:
            return Match(Outcome.ANSWERED, text, normalized, tuple(ranked[: cfg.max_suggestions]))
        suggestions = tuple(
            c for c in ranked[: cfg.max_suggestions] if c.score >= cfg.suggest_threshold
        )
        if suggestions:
            return Match(Outcome.SUGGESTED, text, normalized, suggestions)
        return Match(Outcome.UNMATCHED, text, normalized, tuple(ranked[: cfg.max_suggestions]))
