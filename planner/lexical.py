"""TF-IDF over words and character n-grams, fitted by scikit-learn, applied by numpy.

Words catch exact vocabulary ("rls", "pnpm"); character n-grams inside word boundaries catch typos ("crete a
tabel" still shares most trigrams with "create table"). scikit-learn fits the vocabularies and idf weights
when the
index is built; the fitted statistics are stored in the index so that a query needs only this module's numpy
code
(importing sklearn costs 1.6 s). `tests/planner/test_lexical.py` checks this transform against sklearn's own.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WS = re.compile(r"\s\s+")
CHAR_RANGE = (3, 5)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[_\-/]", " ", text)


def word_features(text: str) -> list[str]:
    """Unigrams and bigrams of sklearn's default token pattern."""
    tokens = _TOKEN.findall(normalise(text))
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def char_features(text: str) -> list[str]:
    """sklearn's `char_wb` analyser: n-grams inside space-padded words."""
    out: list[str] = []
    lo, hi = CHAR_RANGE
    for word in _WS.sub(" ", normalise(text)).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(lo, hi + 1):
            offset = 0
            out.append(padded[offset : offset + n])
            while offset + n < size:
                offset += 1
                out.append(padded[offset : offset + n])
            if offset == 0:
                break
    return out


class Space:
    """One fitted TF-IDF space: vocabulary, idf, and the L2-normalised document matrix (dense, small)."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, matrix: np.ndarray, analyzer: str) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self.matrix = matrix
        self.analyzer = analyzer

    def features(self, text: str) -> list[str]:
        return word_features(text) if self.analyzer == "word" else char_features(text)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(f for f in self.features(text) if f in self.vocabulary)
            for feat, c in counts.items():
                j = self.vocabulary[feat]
                out[row, j] = (1.0 + np.log(c)) * self.idf[j]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text against each document: (len(texts), n_docs)."""
        return self.transform(texts) @ self.matrix.T

    def matched_terms(self, text: str, doc: int, limit: int = 8) -> list[str]:
        """The query features that also occur in document `doc`, heaviest first (for --explain)."""
        inv = {j: f for f, j in self.vocabulary.items()}
        q = self.transform([text])[0]
        contrib = q * self.matrix[doc]
        top = [j for j in np.argsort(-contrib) if contrib[j] > 0][:limit]
        return [inv[j] for j in top]

    def to_arrays(self, prefix: str) -> dict[str, Any]:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {
            f"{prefix}_terms": np.array(terms, dtype=str),
            f"{prefix}_idf": self.idf,
            f"{prefix}_matrix": self.matrix,
        }

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str, analyzer: str) -> Space:
        terms = arrays[f"{prefix}_terms"]
        return cls(
            {str(t): i for i, t in enumerate(terms)},
            np.asarray(arrays[f"{prefix}_idf"], np.float32),
            np.asarray(arrays[f"{prefix}_matrix"], np.float32),
            analyzer,
        )


def fit(documents: Sequence[str], analyzer: str) -> Space:
    """Fit with scikit-learn (only when the index is built) using the same analysers as `Space.transform`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    feats = word_features if analyzer == "word" else char_features
    vec = TfidfVectorizer(analyzer=feats, sublinear_tf=True, norm="l2", smooth_idf=True)
    matrix = vec.fit_transform(list(documents))
    vocabulary = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    return Space(vocabulary, vec.idf_.astype(np.float32), matrix.toarray().astype(np.float32), analyzer)
