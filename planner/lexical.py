"""TF-IDF over words and character n-grams, fitted by scikit-learn, applied by numpy.

Words catch exact vocabulary ("rls", "pnpm"); character n-grams inside word boundaries catch typos ("crete a
tabel" still shares most trigrams with "create table"). scikit-learn fits the vocabularies and idf weights when the
index is built; the fitted statistics are stored in the index so that a query needs only this module's numpy code
(importing sklearn costs 1.6 s). `tests/planner/test_lexical.py` checks this transform against sklearn's own.
"""

from __future__ import annotations

import contextlib
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
_SPARSE_FROM = 64  # texts scored at once from which `Space.scores` uses scipy.sparse


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
    """One fitted TF-IDF space: vocabulary, idf, and the L2-normalised document matrix stored by column (for
    each term, the documents that have it and their weights), so a query touches only its own terms."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        col_ptr: np.ndarray,
        rows: np.ndarray,
        values: np.ndarray,
        n_docs: int,
        analyzer: str,
    ) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self.col_ptr = col_ptr
        self.rows = rows
        self.values = values
        self.n_docs = n_docs
        self.analyzer = analyzer

    @classmethod
    def from_sparse(cls, vocabulary: dict[str, int], idf: np.ndarray, matrix: Any, analyzer: str) -> Space:
        """From a scipy.sparse document matrix (documents x terms), without making it dense (an index build's
        character space is 700 documents by 30,000 terms)."""
        csc = matrix.tocsc()
        csc.eliminate_zeros()
        csc.sort_indices()
        return cls(
            vocabulary,
            idf,
            np.asarray(csc.indptr, dtype=np.int64),
            np.asarray(csc.indices, dtype=np.int32),
            csc.data.astype(np.float32),
            matrix.shape[0],
            analyzer,
        )

    def features(self, text: str) -> list[str]:
        return word_features(text) if self.analyzer == "word" else char_features(text)

    def weights(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(term columns, L2-normalised sublinear tf-idf weights) of one text."""
        counts = Counter(f for f in self.features(text) if f in self.vocabulary)
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        cols = np.fromiter((self.vocabulary[f] for f in counts), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        w = (tf * self.idf[cols]).astype(np.float32)
        return cols, w / max(float(np.linalg.norm(w)), 1e-12)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Dense query vectors (for tests and --explain; scoring uses `scores`)."""
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        for row, text in enumerate(texts):
            cols, w = self.weights(text)
            out[row, cols] = w
        return out

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text against each document: (len(texts), n_docs). Many texts (an index build: 2,800 texts
        and 23 million character n-gram products) are one sparse product; a few (a query) stay in numpy, which
        spares a cold `suggest` the import of scipy.sparse."""
        if len(texts) >= _SPARSE_FROM:
            with contextlib.suppress(ImportError):
                return self._sparse_scores(texts)
        out = np.zeros((len(texts), self.n_docs), dtype=np.float32)
        for r, text in enumerate(texts):
            cols, w = self.weights(text)
            for c, weight in zip(cols, w, strict=True):
                a, b = self.col_ptr[c], self.col_ptr[c + 1]
                out[r, self.rows[a:b]] += weight * self.values[a:b]
        return out

    def _sparse_scores(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.sparse import csc_matrix, csr_matrix

        per_text = [self.weights(text) for text in texts]
        ptr = np.zeros(len(texts) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(c) for c, _ in per_text])
        cols = np.concatenate([c for c, _ in per_text])
        w = np.concatenate([x for _, x in per_text]).astype(np.float32, copy=False)
        queries = csr_matrix((w, cols, ptr), shape=(len(texts), len(self.vocabulary)))
        docs = csc_matrix((self.values, self.rows, self.col_ptr), shape=(self.n_docs, len(self.vocabulary)))
        return np.asarray((queries @ docs.T).toarray(), dtype=np.float32)

    def matched_terms(self, text: str, doc: int, limit: int = 8) -> list[str]:
        """The query features that also occur in document `doc`, heaviest first (for --explain)."""
        inv = {j: f for f, j in self.vocabulary.items()}
        cols, w = self.weights(text)
        contrib: list[tuple[float, int]] = []
        for c, weight in zip(cols, w, strict=True):
            a, b = self.col_ptr[c], self.col_ptr[c + 1]
            hit = np.flatnonzero(self.rows[a:b] == doc)
            if len(hit):
                contrib.append((float(weight * self.values[a + hit[0]]), int(c)))
        contrib.sort(reverse=True)
        return [inv[c] for _, c in contrib[:limit]]

    def to_arrays(self, prefix: str) -> dict[str, Any]:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {
            f"{prefix}_terms": np.array(terms, dtype=str),
            f"{prefix}_idf": self.idf,
            f"{prefix}_col_ptr": self.col_ptr,
            f"{prefix}_rows": self.rows,
            f"{prefix}_values": self.values,
            f"{prefix}_n_docs": np.array(self.n_docs),
        }

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str, analyzer: str) -> Space:
        terms = arrays[f"{prefix}_terms"]
        return cls(
            {str(t): i for i, t in enumerate(terms)},
            np.asarray(arrays[f"{prefix}_idf"], np.float32),
            np.asarray(arrays[f"{prefix}_col_ptr"], np.int64),
            np.asarray(arrays[f"{prefix}_rows"], np.int32),
            np.asarray(arrays[f"{prefix}_values"], np.float32),
            int(arrays[f"{prefix}_n_docs"]),
            analyzer,
        )


def fit(documents: Sequence[str], analyzer: str) -> Space:
    """Fit with scikit-learn (only when the index is built) using the same analysers as `Space.transform`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    feats = word_features if analyzer == "word" else char_features
    vec = TfidfVectorizer(analyzer=feats, sublinear_tf=True, norm="l2", smooth_idf=True)
    matrix = vec.fit_transform(list(documents))
    vocabulary = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    return Space.from_sparse(vocabulary, vec.idf_.astype(np.float32), matrix, analyzer)
