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

import bisect
import contextlib
import logging
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jieba
import numpy as np
from rapidfuzz import fuzz, process

from knowledge.fitting import fit_in_child
from knowledge.loader import KnowledgeBase
from knowledge.normalize import Normalizer, clean
from knowledge.ranker import LearnedRanker, features, training_key
from knowledge.schema import Audience, Entry
from knowledge.stopwords import STOPWORDS
from knowledge.verdict import SIGNALS, Candidate, Match, Outcome

__all__ = ["MatchConfig", "Matcher"]

jieba.setLogLevel(logging.WARNING)
logger = logging.getLogger(__name__)


CACHED_MODELS = 3
"""Fitted rankers kept in the cache (the current KB's and a few before, for quick rollbacks)."""

VAGUE_MAX_CHARS = 6
"""Questions this short may be too vague to answer with one entry (see ``Matcher.vague``)."""


@dataclass(frozen=True)
class MatchConfig:
    """Weights and the decision. The decision model is fitted on the knowledge base's own
    questions, cross-validated (``knowledge.calibration``); the other defaults were chosen by
    ``benchmarks/tune_matcher.py`` on the blind set's tune half and ``tests/eval/questions.yaml``
    (never the report half)."""

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
    rerank_depth: int = 10
    audience_bonus: float = 0.03
    ranker_weight: float = 0.6
    """How much the learned ranker's probability adds to the lexical score (0: ranker off)."""
    ranker_depth: int = 5
    """The ranker's best this many entries are scored even if they share no word."""
    ranker_c: float = 10.0
    ranker_max_logistic: int = 300
    """Knowledge bases with more entries rank with a nearest-centroid model (see ``ranker``)."""
    keyword_sample_weight: float = 0.5
    lone_probability: float = 1.0
    """A best candidate the ranker gives at least this probability (and ``lone_lead`` more than
    the runner-up) is answered even below ``answer_threshold`` (1.0: never)."""
    lone_lead: float = 0.5
    lone_floor: float = 0.3
    """…but only when its blended score is at least this."""
    refuse_unknown_share: float = 1.01
    """Refuse outright when at least this share of the question is words the KB never saw."""
    decision_weights: tuple[float, ...] | None = (
        -0.3025, 4.9992, -0.5996, 1.6388, -1.0674, 0.1531, -6.4476, 2.1302, -0.785,
    )  # fmt: skip
    """Coefficients (one per name in ``SIGNALS``, then the intercept) of a logistic model of
    "the best candidate is the right answer", fitted by ``python -m knowledge.calibration`` on
    the knowledge base's own example and out-of-scope questions, each matched by a matcher built
    without it (three 5-fold splits, about 18,900 decisions); when set, it decides instead of the
    score thresholds. The tune half alone (a few hundred questions, every wrong answer a
    confident one) cannot place the answer threshold."""
    answer_confidence: float = 0.82
    """With ``decision_weights``: answer when the model's confidence reaches this; the lowest
    confidence at which the held-out questions are answered wrongly at most 2 % of the time."""
    suggest_confidence: float = 0.5
    """With ``decision_weights``: offer "您是不是想问" from this confidence up."""
    out_of_scope_weight: float = 1.0
    """Weight of the ``out_of_scope.yaml`` questions as the ranker's "not ours" class."""
    english_answer_threshold: float | None = None
    """Answer threshold for mostly-English questions (the KB's words are Chinese, so English
    scores run lower); ``None``: the same as ``answer_threshold``."""


@dataclass
class _Doc:
    entry: Entry
    words: set[str] = field(default_factory=set)
    bigrams: set[str] = field(default_factory=set)
    phrases: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    """Words of the entry's title and keywords: what it is called."""
    topic: set[str] = field(default_factory=set)
    """Words of the entry's title, keywords and answer: what the entry is about."""


_tokenizer_lock = threading.Lock()
_base_tokenizer: jieba.Tokenizer | None = None
_pos_tags: frozenset[str] | None = None


@dataclass
class _Reading:
    """Within ``Matcher.reading()``: each text's normal form and words, worked out once."""

    normal: dict[tuple[int, str], str] = field(default_factory=dict)
    words: dict[tuple[int, str], tuple[str, ...]] = field(default_factory=dict)
    """Both keyed by (the matcher's ``id``, the text)."""


_reading: ContextVar[_Reading | None] = ContextVar("matcher_reading", default=None)

CONTENT_TAGS = frozenset({"vn", "an", "j", "nz", "eng", "i", "l"})
"""jieba part-of-speech tags (besides every noun tag ``n*``) of words that name a topic."""


def _function_words() -> frozenset[str]:
    """Words jieba's dictionary tags as something other than a topic (verbs, adverbs…), read once.

    Only this set is kept, not the whole word -> tag table: every other word names a topic.
    """
    global _pos_tags
    with _tokenizer_lock:
        if _pos_tags is None:
            found: set[str] = set()
            with jieba.get_dict_file() as handle:
                for raw in handle:
                    parts = raw.decode("utf-8").split()
                    if len(parts) == 3 and not (
                        parts[2].startswith("n") or parts[2] in CONTENT_TAGS
                    ):
                        found.add(parts[0])
            _pos_tags = frozenset(found)
        return _pos_tags


def _names_a_topic(word: str, function_words: frozenset[str]) -> bool:
    """True for nouns and for words jieba does not know (usually specific compounds)."""
    return word not in function_words


class _Frequencies(dict[str, int]):
    """jieba's word frequencies with the KB's terms laid over them, sharing the big table.

    jieba's tokenizer keeps a 350,000-word frequency table; each knowledge base (and each
    reload) needs its terms added, and a copy per matcher costs tens of MB. This overlay answers
    from its own few entries first and from the shared table otherwise.
    """

    def __init__(self, base: dict[str, int]) -> None:
        super().__init__()
        self._base = base

    def __missing__(self, key: str) -> int:
        return self._base[key]

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._base

    def get(self, key: str, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self._base.get(key, default)


def _new_tokenizer(words: Iterable[str]) -> jieba.Tokenizer:
    """A private jieba tokenizer knowing the KB's terms (the global one stays untouched)."""
    global _base_tokenizer
    with _tokenizer_lock:
        if _base_tokenizer is None:
            base = jieba.Tokenizer()
            base.initialize()
            _base_tokenizer = base
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = _Frequencies(_base_tokenizer.FREQ)
        tokenizer.total = _base_tokenizer.total
        tokenizer.initialized = True
    for word in words:
        if len(word) >= 2:
            tokenizer.add_word(word, freq=max(tokenizer.FREQ.get(word, 0), 3000))
    return tokenizer


def _mostly_latin(text: str) -> bool:
    """True when most letters of ``text`` are Latin (an English question)."""
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    cjk = sum(1 for c in text if "\u3400" <= c <= "\u9fff")
    return latin > 2 * cjk


def _posted(
    weights: dict[str, float],
    postings: dict[str, np.ndarray[Any, np.dtype[np.int32]]],
    size: int,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Per posted item, the summed weight of the terms posting it: one ``bincount``."""
    found = [(ids, w) for t, w in weights.items() if (ids := postings.get(t)) is not None]
    if not found:
        return np.zeros(size)
    numbers = np.concatenate([ids for ids, _ in found])
    lengths = [len(ids) for ids, _ in found]
    amounts = np.repeat(np.fromiter((w for _, w in found), float, len(found)), lengths)
    summed = np.bincount(numbers, amounts, size).astype(np.float64, copy=False)
    return summed  # with weights, bincount sums in float64


def _bigrams(text: str) -> list[str]:
    """The text's character pairs, each once, in the order they occur (see ``_once``)."""
    chars = text.replace(" ", "")
    return _once(chars[i : i + 2] for i in range(len(chars) - 1))


def _once(terms: Iterable[str]) -> list[str]:
    """Each term once, in the order first met.

    Not a set: a set's order changes with each process's string hashing, and the weights are
    summed in this order, so near-ties came out differently from one run of the bot to the
    next (one eval question's confidence moved between 0.97 and 0.99 with the hash seed).
    """
    return list(dict.fromkeys(terms))


def _singular(word: str, known: Mapping[str, float]) -> str:
    """An English plural the knowledge base only has in the singular ("taxes" -> "tax").

    Asked only for a word the knowledge base does not know, so its own words never change.
    """
    if not word.isascii() or len(word) < 4:
        return word
    stems = [word[:-3] + "y"] if word.endswith("ies") else []
    stems += [word[:-2], word[:-1]] if word.endswith("es") else [word[:-1]]
    return next((stem for stem in stems if stem in known), word)


class Matcher:
    """Scores questions against one knowledge base. Build once, match many times.

    Thread-safe for matching; build a new one to change the knowledge base.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        config: MatchConfig | None = None,
        *,
        cache_dir: Path | None = None,
        on_fit: Callable[[int], None] | None = None,
    ) -> None:
        """Builds the index and the learned ranker.

        Args:
            kb: the knowledge base to match against.
            config: weights and the decision.
            cache_dir: where fitted rankers are kept, by a fingerprint of their training data,
                so a restart loads the model instead of fitting it again (``None``: always fit).
            on_fit: told the number of entries when the ranker must be fitted, not loaded
                (seconds of silence otherwise, on the first start after a change).
        """
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
        self._pos = _function_words()
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
        self._word_idf: dict[str, float] = {}
        """Empty while the index is built, so ``words`` folds no plural of the KB's own text."""
        self._docs: list[_Doc] = []
        phrase_words: list[list[frozenset[str]]] = []
        samples: list[list[str]] = []
        labels: list[int] = []
        sample_weights: list[float] = []
        for index, entry in enumerate(kb.entries):
            doc = _Doc(entry)
            own: list[frozenset[str]] = []
            for number, text in enumerate((entry.title, *entry.questions, *entry.keywords)):
                normalized = self.normalizer.normalize(text)
                token_list = self.words(normalized)
                words = frozenset(token_list)
                doc.words.update(words)
                doc.bigrams.update(_bigrams(normalized))
                is_phrase = number <= len(entry.questions)
                if is_phrase:
                    doc.phrases.append(normalized)
                    own.append(words)
                samples.append(features(normalized, token_list))
                labels.append(index)
                sample_weights.append(1.0 if is_phrase else self.config.keyword_sample_weight)
            for text in (entry.title, *entry.keywords):
                doc.names.update(self.words(self.normalizer.normalize(text)))
            doc.topic.update(doc.names, self.words(self.normalizer.normalize(entry.answer)))
            self._docs.append(doc)
            phrase_words.append(own)
        self._ranker: LearnedRanker | None = None
        self._oos_class: int | None = None
        if self.config.ranker_weight > 0 and len(kb.entries) > 1:
            classes = len(kb.entries)
            if kb.out_of_scope and self.config.out_of_scope_weight > 0:
                self._oos_class = classes
                classes += 1
                for question in kb.out_of_scope:
                    normalized = self.normalizer.normalize(question)
                    samples.append(features(normalized, self.words(normalized)))
                    labels.append(self._oos_class)
                    sample_weights.append(self.config.out_of_scope_weight)
            self._ranker = self._fit_or_load(
                samples, labels, sample_weights, classes, cache_dir, on_fit
            )
        self._word_idf, self._word_postings = self._index(d.words for d in self._docs)
        self._index_phrases(phrase_words)
        self._bigram_idf, self._bigram_postings = self._index(d.bigrams for d in self._docs)
        self._index_of = {doc.entry.id: number for number, doc in enumerate(self._docs)}
        self._name_docs: dict[str, set[int]] = defaultdict(set)
        for number, doc in enumerate(self._docs):
            for word in doc.names:
                self._name_docs[word].add(number)
        self._unseen_idf = math.log((len(self._docs) + 1) / 0.5)

    def _index_phrases(self, phrase_words: list[list[frozenset[str]]]) -> None:
        """One posting array per word over every example question of every entry.

        Numbered globally, so a question's overlap with all example questions is one NumPy
        ``bincount`` instead of a Python loop per shortlisted entry (and no per-entry dicts).
        """
        weight = {t: idf * self._informativeness(t) for t, idf in self._word_idf.items()}
        postings: dict[str, list[int]] = defaultdict(list)
        totals: list[float] = []
        bounds = [0]
        for own in phrase_words:
            for words in own:
                for term in words:
                    postings[term].append(len(totals))
                totals.append(sum(weight[t] for t in words))
            bounds.append(len(totals))
        self._phrase_totals = np.asarray(totals, dtype=np.float64)
        self._phrase_bounds = bounds
        self._phrase_postings = {t: np.asarray(p, dtype=np.int32) for t, p in postings.items()}

    @staticmethod
    def _index(
        term_sets: Iterable[set[str]],
    ) -> tuple[dict[str, float], dict[str, np.ndarray[Any, np.dtype[np.int32]]]]:
        """IDF per term, and each term's postings as an index array (scored in one NumPy add)."""
        postings: dict[str, list[int]] = defaultdict(list)
        total = 0
        for number, terms in enumerate(term_sets):
            total += 1
            for term in terms:
                postings[term].append(number)
        idf = {t: math.log((total + 1) / (len(p) + 0.5)) for t, p in postings.items()}
        return idf, {t: np.asarray(p, dtype=np.int32) for t, p in postings.items()}

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Within this block each text is normalised and segmented only once.

        Understanding one message asks about the same few texts many times (its own words,
        its topic words, whether the entry before covers them, whether they are vague), and
        segmenting was a fifth of the work. The memory lasts for the block, one message: a
        question asked again later is read again.
        """
        if _reading.get() is not None:
            yield
            return
        token = _reading.set(_Reading())
        try:
            yield
        finally:
            _reading.reset(token)

    def normalize(self, text: str) -> str:
        """``text`` in the knowledge base's terms (``Normalizer.normalize``)."""
        memo = _reading.get()
        if memo is None:
            return self.normalizer.normalize(text)
        key = (id(self), text)
        if key not in memo.normal:
            memo.normal[key] = self.normalizer.normalize(text)
        return memo.normal[key]

    def words(self, normalized: str) -> list[str]:
        """Meaningful words of normalised text, in order, search-mode segmented."""
        memo = _reading.get()
        if memo is None:
            return self._segment(normalized)
        key = (id(self), normalized)
        if key not in memo.words:
            memo.words[key] = tuple(self._segment(normalized))
        return list(memo.words[key])

    def _segment(self, normalized: str) -> list[str]:
        out = []
        for token in self._tokenizer.lcut_for_search(normalized, HMM=False):
            token = token.strip()
            if token and token not in STOPWORDS and not token.isdigit():
                if token.endswith("s") and token not in self._word_idf:
                    token = _singular(token, self._word_idf)
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

    def _coverage(
        self,
        weights: dict[str, float],
        postings: dict[str, np.ndarray[Any, np.dtype[np.int32]]],
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Per entry, the share of the question's weight in terms the entry uses."""
        total = sum(weights.values())
        if total <= 0:
            return np.zeros(len(self._docs))
        shares = _posted(weights, postings, len(self._docs))  # a term lists each entry once
        return shares / total

    def match(self, text: str, *, audience: Audience | str | None = None) -> Match:
        """Returns the verdict for ``text``; never raises on odd input."""
        cfg = self.config
        normalized = self.normalize(text)
        raw = clean(text)
        intent = (self._smalltalk.get(raw) or self._smalltalk.get(normalized)) if raw else None
        if intent is not None:
            return Match(Outcome.SMALLTALK, text, normalized, smalltalk=intent)
        if not normalized:
            return Match(Outcome.UNMATCHED, text, normalized)
        token_list = self.words(normalized)
        word_weights = self._weights(_once(token_list), self._word_idf)
        query_total = sum(word_weights.values())
        unknown = sum(w for t, w in word_weights.items() if t not in self._word_idf)
        unknown_share = unknown / query_total if query_total > 0 else 0.0

        bigram_weights = self._weights(_bigrams(normalized), self._bigram_idf)
        lexical = cfg.word_weight * self._coverage(
            word_weights, self._word_postings
        ) + cfg.bigram_weight * self._coverage(bigram_weights, self._bigram_postings)
        probabilities = (
            self._ranker.probabilities(features(normalized, token_list))
            if self._ranker is not None
            else None
        )
        out_of_scope = 0.0
        if probabilities is not None and self._oos_class is not None:
            out_of_scope = float(probabilities[self._oos_class])
            probabilities = probabilities[: self._oos_class]
        touched = int(np.count_nonzero(lexical))
        if not touched and probabilities is None:
            return Match(Outcome.UNMATCHED, text, normalized, unknown_share=unknown_share)
        depth = min(cfg.rerank_depth, touched)
        shortlist = (
            {int(i) for i in np.argpartition(-lexical, depth - 1)[:depth]} if depth else set()
        )
        if probabilities is not None:
            shortlist.update(int(i) for i in np.argsort(probabilities)[-cfg.ranker_depth :])
        wanted = Audience(audience) if audience else None
        closest_phrases = self._closest_phrases(word_weights, query_total, shortlist)
        ranked = self._rank(
            normalized, list(shortlist), lexical, closest_phrases, probabilities, wanted
        )
        lexical_best = int(np.argmax(lexical)) if touched else None
        signals = self._signals(
            text, ranked, probabilities, unknown_share, out_of_scope, lexical_best, shortlist
        )
        verdict = Match(
            Outcome.UNMATCHED,
            text,
            normalized,
            tuple(ranked[: cfg.max_suggestions]),
            unknown_share=unknown_share,
            signals=signals,
        )
        if cfg.decision_weights is not None:
            return self._decide(verdict, token_list)
        lone = (
            probabilities is not None
            and signals[2] >= cfg.lone_probability
            and signals[3] >= cfg.lone_lead
            and ranked[0].score >= cfg.lone_floor
        )
        if unknown_share >= cfg.refuse_unknown_share and not lone and not _mostly_latin(text):
            return verdict
        return self._verdict(verdict, lone=lone)

    def _rank(
        self,
        normalized: str,
        shortlist: list[int],
        lexical: np.ndarray[Any, np.dtype[np.float64]],
        closest_phrases: dict[int, float],
        probabilities: np.ndarray[Any, Any] | None,
        wanted: Audience | None,
    ) -> list[Candidate]:
        """The shortlist's best candidates, best first: as many as a verdict shows (at least two).

        The edit-distance similarity to an entry's closest example question is the costliest
        part of a match (one comparison per example question) and weighs least, at most
        ``fuzzy_weight``. So the entries are scored best-first on everything else, and an entry
        that could not reach the last shown place even with a perfect similarity is not
        compared at all. The result is exactly that of scoring every entry.
        """
        cfg = self.config
        shown = max(cfg.max_suggestions, 2)
        rest: dict[int, float] = {}  # each entry's score without the similarity
        for doc_no in shortlist:
            score = float(lexical[doc_no]) + cfg.phrase_weight * closest_phrases.get(doc_no, 0.0)
            if probabilities is not None:
                score += cfg.ranker_weight * float(probabilities[doc_no])
            if wanted is not None and self._docs[doc_no].entry.audience in (wanted, Audience.BOTH):
                score += cfg.audience_bonus
            rest[doc_no] = score
        scored: list[tuple[float, int, Candidate]] = []  # (-score, shortlist position, entry)
        order = sorted(range(len(shortlist)), key=lambda i: rest[shortlist[i]], reverse=True)
        for position in order:
            doc_no = shortlist[position]
            cutoff = 0.0
            if len(scored) >= shown:
                last = -scored[shown - 1][0]
                if round(min(rest[doc_no] + cfg.fuzzy_weight + 1e-9, 1.0), 4) < last:
                    break  # neither this entry nor the rest (ordered by the same bound) reach it
                if cfg.fuzzy_weight > 0:  # a similarity below this cannot reach the last place
                    cutoff = max(0.0, 100 * (last - 1e-4 - rest[doc_no]) / cfg.fuzzy_weight)
            doc = self._docs[doc_no]
            closest = process.extractOne(
                normalized, doc.phrases, scorer=fuzz.ratio, score_cutoff=cutoff
            )
            if closest is None and cutoff > 0:
                continue
            similarity = closest[1] / 100 if closest is not None else 0.0
            score = (  # summed in the order scores always were, so they stay exactly the same
                float(lexical[doc_no])
                + cfg.phrase_weight * closest_phrases.get(doc_no, 0.0)
                + cfg.fuzzy_weight * similarity
            )
            if probabilities is not None:
                score += cfg.ranker_weight * float(probabilities[doc_no])
            if wanted is not None and doc.entry.audience in (wanted, Audience.BOTH):
                score += cfg.audience_bonus
            rounded = round(min(score, 1.0), 4)
            bisect.insort(scored, (-rounded, position, Candidate(doc.entry, rounded)))
        return [candidate for _, _, candidate in scored[:shown]]

    def _signals(
        self,
        text: str,
        ranked: Sequence[Candidate],
        probabilities: np.ndarray[Any, Any] | None,
        unknown_share: float,
        out_of_scope: float,
        lexical_best: int | None,
        shortlist: Iterable[int],
    ) -> tuple[float, ...]:
        """The decision's inputs, in the order of ``SIGNALS``; ``lead`` is the best's ranker
        probability over the highest of the rest of ``shortlist`` (scored or not)."""
        best = ranked[0].score if ranked else 0.0
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        probability = lead = 0.0
        agreement = 0.0
        if ranked and lexical_best is not None:
            best_index = self._index_of[ranked[0].entry.id]
            agreement = 0.5 * (best_index == lexical_best)
            if probabilities is not None:
                agreement += 0.5 * (best_index == int(np.argmax(probabilities)))
        if probabilities is not None and ranked:
            probability = float(probabilities[self._index_of[ranked[0].entry.id]])
            best_index = self._index_of[ranked[0].entry.id]
            others = [float(probabilities[i]) for i in shortlist if i != best_index] or [0.0]
            lead = probability - max(others)
        return (
            best,
            best - runner_up,
            probability,
            lead,
            unknown_share,
            1.0 if _mostly_latin(text) else 0.0,
            out_of_scope,
            agreement,
        )

    def vague(self, normalized: str) -> bool:
        """True for a short question whose naming words, together, fit several entries ("补贴").

        Such a question is answered by choices, not by one entry, however confident the
        ranker is: "补贴" could mean any of several subsidies. "工匠奖金" is not vague even
        though 工匠 alone names two entries: only one of them speaks of 奖金.
        """
        if len(normalized.replace(" ", "")) > VAGUE_MAX_CHARS:
            return False
        words = self.words(normalized)
        named = [self._name_docs[w] for w in words if w in self._name_docs]
        if not named:
            return False
        fitting = set.intersection(*named)
        for word in words:
            if word not in self._name_docs:
                narrowed = {i for i in fitting if word in self._docs[i].topic}
                fitting = narrowed or fitting
        return len(fitting) >= 2

    def _single_characters(self, words: Sequence[str]) -> bool:
        """True when every word of the question the knowledge base knows is one character.

        "有一室的没" shares only 室 with 名师工作室: one character is too little to answer on,
        however far ahead that entry is of the others.
        """
        known = [w for w in words if w in self._word_idf]
        return bool(known) and all(len(w) == 1 and not w.isascii() for w in known)

    def _decide(self, verdict: Match, words: Sequence[str]) -> Match:
        """Answer, suggest or hand over by the calibrated confidence that the best is right.

        ``words``: the question's segmented words, already at hand in ``match``.
        """
        cfg = self.config
        weights = cfg.decision_weights
        assert weights is not None and len(weights) == len(SIGNALS) + 1
        logit = weights[-1] + sum(w * x for w, x in zip(weights, verdict.signals, strict=False))
        confidence = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        if not verdict.candidates:
            return replace(verdict, confidence=confidence)
        if (
            confidence >= cfg.answer_confidence
            and not self.vague(verdict.normalized)
            and not self._single_characters(words)
        ):
            return replace(verdict, outcome=Outcome.ANSWERED, confidence=confidence)
        if confidence >= cfg.answer_confidence:
            return replace(verdict, outcome=Outcome.SUGGESTED, confidence=confidence)
        if confidence >= cfg.suggest_confidence:
            shown = tuple(c for c in verdict.candidates if c.score >= cfg.suggest_threshold)
            if shown:
                return replace(
                    verdict, outcome=Outcome.SUGGESTED, candidates=shown, confidence=confidence
                )
        return replace(verdict, confidence=confidence)

    def _fit_or_load(
        self,
        samples: list[list[str]],
        labels: list[int],
        weights: list[float],
        classes: int,
        cache_dir: Path | None,
        on_fit: Callable[[int], None] | None,
    ) -> LearnedRanker:
        """The fitted ranker: from the cache when its training data is unchanged."""
        cfg = self.config
        c, max_logistic = settings = (cfg.ranker_c, cfg.ranker_max_logistic)
        path = None
        if cache_dir is not None:
            key = training_key(samples, labels, weights, classes, settings)
            path = cache_dir / f"ranker-{key}.npz"
            if path.exists():
                try:
                    return LearnedRanker.load(path)
                except (OSError, ValueError, KeyError) as exc:
                    logger.warning("ignoring the unreadable ranker cache %s: %s", path, exc)
        if on_fit is not None:
            on_fit(len(self.kb.entries))
        training = (samples, labels, weights, classes)
        if path is not None and fit_in_child(
            *training, c=c, max_logistic_classes=max_logistic, path=path
        ):
            try:
                ranker = LearnedRanker.load(path)
                _drop_stale(path)
                return ranker
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("cannot read the ranker the child process fitted: %s", exc)
        ranker = LearnedRanker(*training, c=c, max_logistic_classes=max_logistic)
        if path is not None:
            try:
                ranker.save(path)
            except OSError as exc:
                logger.warning("cannot write the ranker cache %s: %s", path, exc)
            _drop_stale(path)
        return ranker

    @property
    def ranker_kind(self) -> str:
        """Which learned ranker runs: ``logistic``, ``centroid`` (large KBs) or ``none``."""
        return self._ranker.kind if self._ranker is not None else "none"

    def topic_words(self, text: str) -> list[str]:
        """The words of ``text`` that could name a topic (no fillers, stopwords or digits)."""
        return self.words(self.normalize(text))

    def named_by(self, text: str, entry_id: str) -> float:
        """Share of ``text``'s known, informative words that name ``entry_id`` (its title and
        keywords): "那配偶工作呢" names 配偶家属就业, though 一人一策's answer mentions it too."""
        return self._share(text, entry_id, names=True)

    def knows(self, word: str) -> bool:
        """True when ``word`` (a segmented, normalised word) occurs in some entry."""
        return word in self._word_idf

    def covered_by(self, text: str, entry_id: str) -> float:
        """Share of ``text``'s known, informative words that ``entry_id`` is about.

        Tells a follow-up that stays within the entry answered before ("那养老护理这块呢"
        after a page on 康养 hiring) from one that names another topic ("那娃上学呢").
        """
        return self._share(text, entry_id, names=False)

    def _share(self, text: str, entry_id: str, *, names: bool) -> float:
        index = self._index_of.get(entry_id)
        if index is None:
            return 0.0
        normalized = self.normalize(text)
        if not normalized:
            return 1.0
        weights = self._weights(_once(self.words(normalized)), self._word_idf)
        known = {t: w for t, w in weights.items() if t in self._word_idf}
        total = sum(known.values())
        if total <= 0:
            return 1.0
        topic = self._docs[index].names if names else self._docs[index].topic
        return sum(w for t, w in known.items() if t in topic) / total

    def _closest_phrases(
        self, weights: dict[str, float], total: float, doc_numbers: Iterable[int]
    ) -> dict[int, float]:
        """Per entry asked for, the weighted Dice overlap with its closest example question.

        Coverage alone favours broad entries whose many questions mention every word; Dice
        also asks how much of one real question the person's words account for. An entry's
        example questions are numbered consecutively, so each entry is one slice.
        """
        shared = _posted(weights, self._phrase_postings, len(self._phrase_totals))
        closest: dict[int, float] = {}
        for doc_no in doc_numbers:
            low, high = self._phrase_bounds[doc_no], self._phrase_bounds[doc_no + 1]
            if high > low:
                dice = 2 * shared[low:high] / (total + self._phrase_totals[low:high])
                closest[doc_no] = float(dice.max())
        return closest

    def _verdict(self, verdict: Match, *, lone: bool = False) -> Match:
        """The threshold rule (when no decision model is configured)."""
        cfg = self.config
        ranked = verdict.candidates
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        threshold = cfg.answer_threshold
        if cfg.english_answer_threshold is not None and _mostly_latin(verdict.query):
            threshold = cfg.english_answer_threshold
        if lone or (best.score >= threshold and best.score - runner_up >= cfg.margin):
            return replace(verdict, outcome=Outcome.ANSWERED)
        suggestions = tuple(c for c in ranked if c.score >= cfg.suggest_threshold)
        if suggestions:
            return replace(verdict, outcome=Outcome.SUGGESTED, candidates=suggestions)
        return verdict


def _drop_stale(path: Path) -> None:
    """Keeps the newest ``CACHED_MODELS`` rankers in ``path``'s folder, so old ones go."""
    try:
        stale = sorted(path.parent.glob("ranker-*.npz"), key=lambda p: p.stat().st_mtime)
        for old in stale[:-CACHED_MODELS]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("cannot prune the ranker cache %s: %s", path.parent, exc)
