"""Nearest-name suggestions for "did you mean ...?" hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str], *, quote: str = "") -> str | None:
    """A ready-made hint ("did you mean create-table?"), or None when nothing is close enough."""
    pool = list(candidates)
    guess = closest(word, pool)
    if guess is None:
        # Prefixes and containment catch what edit distance misses: "table" → "create-table".
        hits = sorted(c for c in pool if word and (c.startswith(word) or c.endswith(word)))
        guess = hits[0] if len(hits) == 1 else None
    return f"did you mean {quote}{guess}{quote}?" if guess else None
