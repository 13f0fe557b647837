"""Typo correction before ranking: a word that is neither in the library's vocabulary nor an English word is
replaced by a close library word ("crete a tabel" → "create a table"). Names that slot filling reads are never
corrected (it reads the text as written)."""

from __future__ import annotations

import difflib
import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from continuous.planner import language

if TYPE_CHECKING:
    from continuous.planner.index import Index

_VOCAB: dict[str, frozenset[str]] = {}


def _vocab(index: Index) -> frozenset[str]:
    if index.key not in _VOCAB:
        words = set(language.vocabulary())
        for text in index.doc_text:
            words.update(re.findall(r"[a-z]{3,}", text.lower()))
        _VOCAB[index.key] = frozenset(words)
    return _VOCAB[index.key]


_BY_LENGTH: dict[frozenset[str], dict[int, list[str]]] = {}


@lru_cache(maxsize=4096)
def _closest(word: str, vocab: frozenset[str]) -> str | None:
    for i in range(len(word) - 1):  # a swapped pair of letters ("veiw") scores low on difflib's ratio
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if swapped in vocab:
            return swapped
    if vocab not in _BY_LENGTH:
        by_length: dict[int, list[str]] = {}
        for w in sorted(vocab):
            by_length.setdefault(len(w), []).append(w)
        _BY_LENGTH.clear()
        _BY_LENGTH[vocab] = by_length
    # a ratio of 0.8 or more needs the shorter word to be at least two thirds of the longer one
    n = len(word)
    near = [w for k in range(math.ceil(n / 1.5), math.floor(n * 1.5) + 1) for w in _BY_LENGTH[vocab].get(k, ())]
    found = difflib.get_close_matches(word, near, n=1, cutoff=0.8)
    return found[0] if found else None


def correct(text: str, index: Index) -> str:
    """Replace words that are neither in the library nor English by a close library word."""
    from continuous.planner import embedding

    vocab = _vocab(index)
    english = embedding.vocabulary()
    stop = language.words("stopwords")

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if len(low) < 4 or low in vocab or low in stop or low in english:
            return word
        if low.endswith("s") and (low[:-1] in english or low[:-1] in vocab):
            return word  # a plural of a known word ("typos") is no misspelling
        return _closest(low, vocab) or word

    return re.sub(r"(?<![\w-])[A-Za-z]+(?![\w-])", fix, text)
