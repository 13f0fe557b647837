"""How well a piece of text matches each scenario: four channels, one weighted sum.

- `emb`: cosine of the MiniLM embeddings (meaning: "somewhere to keep bookmarks" ~ "new table for bookmarks");
- `word`: TF-IDF over words and word pairs of the lexicon-expanded text (exact vocabulary: "rls", "pnpm");
- `char`: TF-IDF over character 3–5-grams (spelling: "crete a tabel");
- `struct`: the canonical verb and object words of the text against the scenario's id and aliases
  ("a new API route" → create + endpoint → add-proxy-endpoint).
A scenario's score on each channel is that of its best document. Typos are corrected against the library's own
vocabulary before scoring (never in the names that slot filling reads).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from continuous.planner import language as lexicon

if TYPE_CHECKING:
    from continuous.dsl.model import RuleBase
    from continuous.planner.index import Index

WEIGHTS = {"emb": 0.45, "word": 0.15, "char": 0.15, "struct": 0.25}


@dataclass
class Scores:
    total: np.ndarray  # (n_texts, n_scenarios)
    parts: dict[str, np.ndarray]
    best_doc: np.ndarray  # (n_texts, n_scenarios): the document that gave the embedding score
    corrected: list[str]


_VOCAB: dict[str, frozenset[str]] = {}


def _vocab(index: Index) -> frozenset[str]:
    if index.key not in _VOCAB:
        words = set(lexicon.vocabulary())
        for text in index.doc_text:
            words.update(re.findall(r"[a-z]{3,}", text.lower()))
        _VOCAB[index.key] = frozenset(words)
    return _VOCAB[index.key]


@lru_cache(maxsize=4096)
def _closest(word: str, vocab: frozenset[str]) -> str | None:
    for i in range(len(word) - 1):  # a swapped pair of letters ("veiw") scores low on difflib's ratio
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if swapped in vocab:
            return swapped
    found = difflib.get_close_matches(word, list(vocab), n=1, cutoff=0.8)
    return found[0] if found else None


def _english() -> set[str]:
    """Whole words of the model's WordPiece vocabulary: real words ("match", "rate") are never "corrected"."""
    from continuous.planner import embedding

    return embedding.vocabulary()


def correct(text: str, index: Index) -> str:
    """Replace words that are neither in the library nor English by a close library word
    ("tabel" → "table")."""
    vocab = _vocab(index)

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if len(low) < 4 or low in vocab or low in lexicon.words("stopwords") or low in _english():
            return word
        return _closest(low, vocab) or word

    return re.sub(r"(?<![\w-])[A-Za-z]+(?![\w-])", fix, text)


def structure(text: str) -> tuple[set[str], dict[str, float]]:
    """The canonical verbs and objects of a text; an object after a preposition ("to the bookmarks table") is
    where something goes rather than what is asked for, and weighs less; a text that names only places gets the
    object its action implies ("show them in the app" → page)."""
    verbs, objects = structure_named(text)
    if all(w < 1.0 for w in objects.values()):
        for v in verbs:
            if v in lexicon.lang().verb_implies:
                objects[lexicon.lang().verb_implies[v]] = 1.0
    return verbs, objects


def structure_named(text: str) -> tuple[set[str], dict[str, float]]:
    """The canonical verbs of a text and the objects it names outright (weight 0.4 for places)."""
    verbs = set(lexicon.verbs(text))
    objects: dict[str, float] = {}
    low = text.lower()
    for canon, start, _end in lexicon.find(text, "objects"):
        before = re.findall(r"[a-z0-9_'-]+", low[:start])[-3:]
        weight = 0.4 if any(w in lexicon.words("container_prepositions") for w in before) else 1.0
        objects[canon] = max(objects.get(canon, 0.0), weight)
    for m in re.finditer(r"(?<![\w-])[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+(?![\w-])", low):
        # an identifier ending in a kind of object names one: feedback-service, audit_table, drive-proxy
        tail = re.split(r"[-_]", m.group(0))[-1]
        for canon, _s, _e in lexicon.find(tail, "objects"):
            before = re.findall(r"[a-z0-9_'-]+", low[: m.start()])[-3:]
            weight = 0.4 if any(w in lexicon.words("container_prepositions") for w in before) else 1.0
            objects[canon] = max(objects.get(canon, 0.0), weight)
    return verbs, objects


def implied_object(text: str) -> str | None:
    """The object an action implies when the text names only places for it ("show them in the app" → page);
    None when the text names what is asked for, names no place at all, or its verb implies nothing."""
    verbs, objects = structure_named(text)
    if not objects or any(w >= 1.0 for w in objects.values()):
        return None
    implied = [lexicon.lang().verb_implies[v] for v in lexicon.verbs(text) if v in lexicon.lang().verb_implies]
    return implied[0] if implied and verbs else None


_SCENARIO_WORDS: dict[str, list[tuple[set[str], set[str]]]] = {}


def _scenario_words(index: Index, rule_base: RuleBase | None) -> list[tuple[set[str], set[str]]]:
    if index.key not in _SCENARIO_WORDS:
        out = []
        for sid in index.scenario_ids:
            sc = rule_base.scenarios.get(sid) if rule_base is not None else None
            out.append(lexicon.canonical_words(sid, sc.aliases if sc else ()))
        _SCENARIO_WORDS[index.key] = out
    return _SCENARIO_WORDS[index.key]


def struct_scores(index: Index, rule_base: RuleBase | None, texts: list[str]) -> np.ndarray:
    words = _scenario_words(index, rule_base)
    out = np.zeros((len(texts), len(words)), dtype=np.float32)
    for r, text in enumerate(texts):
        qv, qo = structure(text)
        if not qo:
            continue
        mass = sum(qo.values())
        for c, (sv, so) in enumerate(words):
            if not so:
                continue
            hit = sum(w for o, w in qo.items() if o in so)
            if hit == 0:
                continue
            precision = hit / mass
            recall = len(so & set(qo)) / len(so)
            f1 = 2 * precision * recall / (precision + recall)
            verb = 1.0 if qv & sv else 0.0
            out[r, c] = 0.8 * f1 + 0.2 * verb
    return out


def _per_scenario_max(doc_scores: np.ndarray, index: Index) -> tuple[np.ndarray, np.ndarray]:
    n_s = len(index.scenario_ids)
    best = np.full((doc_scores.shape[0], n_s), -1.0, dtype=np.float32)
    arg = np.zeros((doc_scores.shape[0], n_s), dtype=np.int32)
    for s in range(n_s):
        docs = index.scenario_docs(s)
        if len(docs) == 0:
            continue
        sub = doc_scores[:, docs]
        j = sub.argmax(axis=1)
        best[:, s] = sub[np.arange(sub.shape[0]), j]
        arg[:, s] = docs[j]
    return np.maximum(best, 0.0), arg


def score_parts(
    index: Index,
    rule_base: RuleBase | None,
    texts: list[str],
    *,
    exclude_docs: list[int] | None = None,
    struct_texts: list[str] | None = None,
    query_emb: np.ndarray | None = None,
) -> Scores:
    """Scores of every text against every scenario. `exclude_docs[i]` hides one document from text i (used for
    leave-one-out calibration); `struct_texts` are the texts with names of existing objects masked."""
    from continuous.planner import embedding

    corrected = [correct(t, index) for t in texts]
    if query_emb is None:
        query_emb = embedding.encoder().encode(corrected)
    emb_docs = query_emb @ index.emb.T
    expanded = [lexicon.expand(t) for t in corrected]
    word_docs = index.word.scores(expanded)
    char_docs = index.char.scores(expanded)
    if exclude_docs is not None:
        rows = np.arange(len(texts))
        for arr in (emb_docs, word_docs, char_docs):
            arr[rows, exclude_docs] = -1.0
    emb, best_doc = _per_scenario_max(emb_docs, index)
    word, _ = _per_scenario_max(word_docs, index)
    char, _ = _per_scenario_max(char_docs, index)
    struct = struct_scores(index, rule_base, [correct(t, index) for t in (struct_texts or texts)])
    total = WEIGHTS["emb"] * emb + WEIGHTS["word"] * word + WEIGHTS["char"] * char + WEIGHTS["struct"] * struct
    return Scores(total, {"emb": emb, "word": word, "char": char, "struct": struct}, best_doc, corrected)


def score_texts(
    index: Index, rule_base: RuleBase | None, texts: list[str], *, exclude_docs: list[int] | None = None
) -> np.ndarray:
    return score_parts(index, rule_base, texts, exclude_docs=exclude_docs).total
