"""A learned ranker: which entry do a question's words and character n-grams point to?

The lexical scores in ``matcher`` reward shared words; they miss what people write in ways no
example question used. This is the classic intent-classification pipeline of Rasa and its peers:
TF-IDF over character 1–3-grams (robust to segmentation, typos and short words like 娃) plus
jieba words, and a multinomial logistic regression with one class per entry, trained on every
entry's title, example questions and keywords. Its probabilities are blended with the lexical
scores; refusing out-of-scope questions stays the lexical side's job (unknown words).

scikit-learn fits the model (a well-kept, well-tested implementation); scoring a question is
done here with the fitted vocabulary, IDF weights and coefficients in NumPy, because building a
sparse matrix through the vectorizer costs more than the whole match. Coefficients are stored
feature-major (one row of class weights per feature), so a question touches only the rows of its
own features: the cost does not grow with the vocabulary.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["LearnedRanker", "features", "training_key"]

CENTROID_TEMPERATURE = 0.05
"""Turns the centroid model's cosine similarities into a peaked probability, like LR's."""

Analyzer = Callable[[str], list[str]]


def features(normalized: str, words: Sequence[str], *, max_n: int = 3) -> list[str]:
    """The features of one normalised text: character n-grams (1..max_n) and words."""
    compact = normalized.replace(" ", "")
    out = [f"w:{w}" for w in words]
    for n in range(1, max_n + 1):
        out.extend(f"c:{compact[i : i + n]}" for i in range(len(compact) - n + 1))
    return out


FORMAT_VERSION = 2
"""Bump when the saved arrays change meaning, so old caches are retrained, never misread
(2: the weights in half precision)."""


class FeatureRows(NamedTuple):
    """Feature-major centroids as the three arrays of a CSR matrix: row ``f`` of the matrix is
    ``indices``/``data`` between ``indptr[f]`` and ``indptr[f + 1]`` (class, weight).

    Plain NumPy, so scoring a question needs no SciPy: the bot never imports it (≈20 MB)."""

    data: NDArray[np.float32]
    indices: NDArray[np.int32]
    indptr: NDArray[np.int64]

    @classmethod
    def of(cls, matrix: sparse.csr_matrix) -> FeatureRows:
        return cls.of_arrays(matrix.data, matrix.indices, matrix.indptr)

    @classmethod
    def of_arrays(cls, data: Any, indices: Any, indptr: Any) -> FeatureRows:
        """The same dtypes whether fitted or loaded from a cache written by either."""
        return cls(
            np.asarray(data, dtype=np.float32),
            np.asarray(indices, dtype=np.int32),
            np.asarray(indptr, dtype=np.int64),
        )


def training_key(
    texts: Sequence[list[str]],
    labels: Sequence[int],
    weights: Sequence[float],
    classes: int,
    settings: Sequence[object],
) -> str:
    """A fingerprint of everything a fitted model depends on (names its cache file)."""
    digest = hashlib.sha256(f"v{FORMAT_VERSION}|{classes}|{list(settings)!r}".encode())
    for feats, label, weight in zip(texts, labels, weights, strict=True):
        digest.update(f"{label}|{weight}|".encode())
        digest.update("\x1f".join(feats).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:32]


class LearnedRanker:
    """Probabilities over entries for a question, from a model fitted on the examples.

    Args:
        texts: the training texts as features lists (see ``features``).
        labels: the entry index of each training text.
        weights: a weight per training text (example questions count more than keywords).
        classes: the number of entries.
        c: inverse regularisation strength of the logistic regression.
        max_logistic_classes: above this many classes the model is a nearest centroid instead:
            a logistic regression holds a weight per feature *and* class (for 1,000 entries,
            hundreds of MB and minutes of training), a centroid only the features each entry
            uses, built in one sparse product; it ranks a little worse (1–2 points top-1 here).
    """

    def __init__(
        self,
        texts: Sequence[list[str]],
        labels: Sequence[int],
        weights: Sequence[float],
        classes: int,
        *,
        c: float = 10.0,
        max_logistic_classes: int = 300,
    ) -> None:
        # Imported here: fitting needs scikit-learn and SciPy, scoring neither (a loaded model,
        # see ``save``/``load``, never imports them, which keeps the bot's start-up light).
        from scipy import sparse
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import normalize

        self.classes = classes
        vectorizer = TfidfVectorizer(
            analyzer=lambda feats: feats, sublinear_tf=True, min_df=1, norm="l2"
        )
        matrix = vectorizer.fit_transform(texts)
        self._vocabulary: dict[str, int] = dict(vectorizer.vocabulary_)
        self._idf: NDArray[np.float32] = vectorizer.idf_.astype(np.float32)
        self._centroids: FeatureRows | None = None
        self.kind = "logistic" if classes <= max_logistic_classes else "centroid"
        if self.kind == "centroid":
            rows = np.asarray(labels)
            weighting = sparse.csr_matrix(
                (np.asarray(weights, dtype=np.float64), (rows, np.arange(len(rows)))),
                shape=(classes, len(rows)),
            )
            centroids = normalize(weighting @ matrix)  # entries x features, each row unit length
            self._centroids = FeatureRows.of(centroids.T.tocsr().astype(np.float32))
            self._coef = np.zeros((0, classes), dtype=np.float16)
            self._bias = np.zeros(classes, dtype=np.float32)
            return
        # saga reaches lbfgs's accuracy here in a seventh of the time: lbfgs spends it moving
        # a dense (features x entries) parameter vector around. Seeded, so builds repeat.
        model = LogisticRegression(C=c, solver="saga", max_iter=30, tol=1e-3, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(matrix, np.asarray(labels), sample_weight=np.asarray(weights))
        known = model.classes_.astype(int)
        weights_by_class = model.coef_
        intercepts = model.intercept_
        if (
            len(known) == 2
        ):  # binary: one row, p(second) = sigmoid(w.x + b) = softmax of [0, w.x + b]
            weights_by_class = np.vstack([np.zeros_like(model.coef_[0]), model.coef_[0]])
            intercepts = np.asarray([0.0, model.intercept_[0]])
        # Half precision: the weights are the largest array the bot holds (features x entries),
        # and three significant digits rank the entries the same.
        coef = np.zeros((len(self._idf), classes), dtype=np.float16)
        coef[:, known] = weights_by_class.T.astype(np.float16)
        bias = np.full(classes, -1e4, dtype=np.float32)  # a class never seen gets no mass
        bias[known] = intercepts.astype(np.float32)
        self._coef = np.ascontiguousarray(coef)
        self._bias = bias

    def save(self, path: Path) -> None:
        """Writes the fitted arrays (atomically: a half-written cache is never read)."""
        arrays: dict[str, Any] = {
            "features": np.asarray(sorted(self._vocabulary, key=self._vocabulary.__getitem__)),
            "idf": self._idf,
            "coef": self._coef,
            "bias": self._bias,
            "kind": np.asarray(self.kind),
            "classes": np.asarray(self.classes),
        }
        if self._centroids is not None:
            arrays.update(
                data=self._centroids.data,
                indices=self._centroids.indices,
                indptr=self._centroids.indptr,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        with partial.open("wb") as handle:
            np.savez(handle, **arrays)
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> LearnedRanker:
        """A model saved by ``save``; raises ``OSError``/``ValueError`` when it cannot be read."""
        with np.load(path, allow_pickle=False) as data:
            ranker = cls.__new__(cls)
            ranker._vocabulary = {str(f): i for i, f in enumerate(data["features"])}
            ranker._idf = data["idf"]
            ranker._coef = data["coef"].astype(np.float16, copy=False)
            ranker._bias = data["bias"]
            ranker.kind = str(data["kind"])
            ranker.classes = int(data["classes"])
            ranker._centroids = None
            if ranker.kind == "centroid":
                ranker._centroids = FeatureRows.of_arrays(
                    data["data"], data["indices"], data["indptr"]
                )
        return ranker

    @property
    def size(self) -> int:
        """Number of features the model knows."""
        return len(self._idf)

    def _vector(self, feats: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.float32]] | None:
        counts: dict[int, int] = {}
        for feat in feats:
            index = self._vocabulary.get(feat)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return None
        rows = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(
            (1.0 + math.log(n) for n in counts.values()), dtype=np.float32, count=len(counts)
        )
        values = tf * self._idf[rows]
        values /= float(np.linalg.norm(values)) or 1.0
        return rows, values

    def _cosines(self, rows: NDArray[np.int64], values: NDArray[np.float32]) -> NDArray[np.float32]:
        """The question's cosine with every centroid, read straight off the CSR arrays.

        Slicing a SciPy matrix by rows costs ~0.2 ms of checks and copies per question;
        gathering the rows' non-zeros and summing them with ``bincount`` costs a tenth of that.
        """
        centroids = self._centroids
        assert centroids is not None
        starts = centroids.indptr[rows]
        lengths = centroids.indptr[rows + 1] - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(
            lengths.sum()
        )
        weights = centroids.data[offsets] * np.repeat(values, lengths)
        cosine = np.bincount(centroids.indices[offsets], weights=weights, minlength=self.classes)
        return cosine.astype(np.float32)

    def probabilities(self, feats: Sequence[str]) -> NDArray[np.float32] | None:
        """A probability per entry, or ``None`` when no feature of the question is known."""
        vector = self._vector(feats)
        if vector is None:
            return None
        rows, values = vector
        if self._centroids is not None:
            logits = self._cosines(rows, values) / CENTROID_TEMPERATURE
        else:
            logits = values @ self._coef[rows].astype(np.float32) + self._bias
        logits -= logits.max()
        exp = np.exp(logits)
        result: NDArray[np.float32] = exp / exp.sum()
        return result
