"""What the intent model reads: for each text, its sentence embedding and lexical role features; for each
(text, scenario) pair, how close the text is to the scenario's documents on each channel and whether its verb and
head object agree with the scenario's id.

Training (`training.py`) and queries (`intent.py`) compute features with this one module, so the model sees at
query time exactly what it was trained on. Channels:
- embeddings: the best, the mean of the two best, and the centroid cosine to the scenario's documents;
- TF-IDF over words (exact vocabulary: "rls", "pnpm") and over character n-grams (spelling: "crete a tabel");
- structure: the canonical verb and objects of the text, weighted by their phrase role (head object 1, modifier
  0.6, subject 0.5, place 0.4, trailing clause 0.2), against the scenario's id words.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import numpy as np
from continuous.planner import language
from continuous.planner.normalise import normalise
from continuous.planner.phrases import Analysis, analyse

if TYPE_CHECKING:
    from continuous.planner.index import Index

PAIR_FEATURES = (
    "emb_max",
    "emb_top2",
    "emb_centroid",
    "word",
    "char",
    "struct",
    "verb_match",
    "verb_conflict",
    "head_match",
    "object_overlap",
    "place_only",
    "head_mismatch",
    "head_made",
    "head_unknown",
    "no_head",
)


@cache
def _vocab() -> tuple[list[str], list[str]]:
    lx = language.lang()
    return sorted(lx.verbs), sorted(lx.objects)


_FLAGS = ("says_new", "identifier", "route", "env_var", "version", "file_path", "question", "no_verb", "camel")


@cache
def _commit_types() -> list[str]:
    return sorted(language.lang().commit_types)


def model_text(text: str) -> str:
    """What the model reads of a text: the request without its commit-style noise (`normalise`). Training
    (scenario documents, off-topic requests) and queries embed and weigh this text alike; the noise reaches the
    model only as the typed fields of `analysed`."""
    return normalise(text).text


@lru_cache(maxsize=8192)
def analysed(text: str) -> Analysis:
    """The phrase roles of a text: `analyse` reads the request proper that `normalise` finds (with the commit
    type and scope its noise said, and the verb a commit type implies when the request has none: "refactor:
    graphql page to new ui"); a merged branch's request is read from the words of its name."""
    n = normalise(text)
    if not n.derived:
        return analyse(text)
    return dataclasses.replace(analyse(n.text), commit_type=n.type, commit_scope=n.scope)


def lexical_names() -> list[str]:
    verbs, objects = _vocab()
    return (
        [f"verb:{v}" for v in verbs]
        + [f"object:{o}" for o in objects]
        + [f"flag:{f}" for f in _FLAGS]
        + [f"commit:{c}" for c in _commit_types()]
    )


def lexical(texts: list[str]) -> np.ndarray:
    """Per text: the main verb (one-hot), each canonical object weighted by its strongest phrase role, and a few
    flags (a new object, an identifier, a route, an env var, a version, a file path, a question, no verb, a
    conventional-commit prefix)."""
    verbs, objects = _vocab()
    vi = {v: i for i, v in enumerate(verbs)}
    oi = {o: len(verbs) + i for i, o in enumerate(objects)}
    base = len(verbs) + len(objects)
    commits = {c: base + len(_FLAGS) + i for i, c in enumerate(_commit_types())}
    out = np.zeros((len(texts), base + len(_FLAGS) + len(commits)), dtype=np.float32)
    for r, raw in enumerate(texts):
        a = analysed(raw)
        text = model_text(raw)
        if a.verb in vi:
            out[r, vi[a.verb]] = 1.0
        for canon, w in a.object_weights().items():
            if canon in oi:
                out[r, oi[canon]] = w
        flags = (
            a.says_new(),
            bool(language.pattern("identifier").search(text)),
            bool(language.pattern("route").search(text)),
            bool(language.pattern("env_var").search(text)),
            bool(language.pattern("version").search(text)),
            bool(language.pattern("file_path").search(text)),
            text.rstrip().endswith("?"),
            a.verb is None,
            bool(re.search(r"\b[a-z]+[A-Z][A-Za-z]+|\b[A-Z][a-z]+[A-Z][A-Za-z]*", text)),
        )
        out[r, base : base + len(_FLAGS)] = np.asarray(flags, dtype=np.float32)
        if a.commit_type in commits:
            out[r, commits[a.commit_type]] = 1.0
    return out


@dataclass(frozen=True)
class ScenarioWords:
    verbs: frozenset[str]
    objects: frozenset[str]
    polarity: str | None


_WORDS: dict[str, list[ScenarioWords]] = {}


def scenario_words(index: Index) -> list[ScenarioWords]:
    cached = _WORDS.get(index.key)
    if cached is not None and len(cached) == len(index.scenario_ids):
        return cached
    out = words_of(index.scenario_ids, index.scenario_aliases)
    if index.key:
        _WORDS[index.key] = out
    return out


def words_of(scenario_ids: list[str], scenario_aliases: list[list[str]]) -> list[ScenarioWords]:
    """The verbs, objects and polarity each scenario's id and aliases name (before an index exists)."""
    out = []
    for sid, aliases in zip(scenario_ids, scenario_aliases, strict=True):
        vs, os_ = language.canonical_words(sid, tuple(aliases))
        pol = next((language.polarity(v) for v in sorted(vs) if language.polarity(v)), None)
        out.append(ScenarioWords(frozenset(vs), frozenset(os_), pol))
    return out


def structural(analyses: list[Analysis], words: list[ScenarioWords]) -> np.ndarray:
    """(n, S, 10): struct f1, verb match, verb conflict, head match, object overlap, place only, head mismatch
    (the text asks for an object the scenario's id does not name: "page access logging" is no page), and three
    that are the same for every scenario of a text and so move only how sure the model is that any scenario is
    meant: the head object is one some scenario makes or changes, the head phrase names no object the vocabulary
    knows ("add @acme registry", "the bulk deletion"), the text has no head phrase at all ("wip", "Dark mode")."""
    out = np.zeros((len(analyses), len(words), 10), dtype=np.float32)
    made = frozenset(o for sw in words for o in sw.objects)
    for r, a in enumerate(analyses):
        if a.head is None:
            out[r, :, 9] = 1.0
        elif a.head.head is None:
            out[r, :, 8] = 1.0
        elif a.head.head in made:
            out[r, :, 7] = 1.0
        weights = a.object_weights()
        head = a.head.head if a.head is not None else None
        qpol = language.polarity(a.verb)
        mass = sum(weights.values())
        strong = {o for o, w in weights.items() if w >= 0.6}
        # a place the request says is new is made there, not only used ("on a new page", "in a new table")
        strong |= {p.head for p in a.phrases if p.role == "place" and p.new and p.head}
        for c, sw in enumerate(words):
            if sw.objects and weights:
                hit = sum(w for o, w in weights.items() if o in sw.objects)
                if hit:
                    precision = hit / mass
                    recall = len(sw.objects & set(weights)) / len(sw.objects)
                    out[r, c, 0] = 0.8 * (2 * precision * recall / (precision + recall)) + (
                        0.2 if a.verb in sw.verbs else 0.0
                    )
                    out[r, c, 4] = hit / max(sum(1.0 for _ in sw.objects), 1.0)
                    out[r, c, 5] = 1.0 if not (sw.objects & strong) else 0.0
            implied = language.lang().verb_implies.get(a.verb or "")
            out[r, c, 1] = 1.0 if a.verb is not None and (a.verb in sw.verbs or implied in sw.objects) else 0.0
            out[r, c, 2] = 1.0 if qpol is not None and sw.polarity is not None and qpol != sw.polarity else 0.0
            out[r, c, 3] = 1.0 if head is not None and head in sw.objects else 0.0
            out[r, c, 6] = 1.0 if head is not None and head not in sw.objects else 0.0
    return out


def channel_scores(
    index: Index, texts: list[str], emb: np.ndarray, exclude_docs: list[int] | None = None
) -> np.ndarray:
    """(n, S, 5): emb max, emb mean of the two best, emb centroid, word max, char max. `exclude_docs[i]` hides
    one document from text i (training: a document never votes for itself)."""
    n, s_count = len(texts), len(index.scenario_ids)
    emb_docs = emb @ index.emb.T
    expanded = [language.expand(model_text(t)) for t in texts]
    word_docs = index.word.scores(expanded)
    char_docs = index.char.scores(expanded)
    rows = np.arange(n)
    if exclude_docs is not None:
        ex = np.asarray(exclude_docs)
        keep = ex >= 0
        for arr in (emb_docs, word_docs, char_docs):
            arr[rows[keep], ex[keep]] = -1.0
    out = np.zeros((n, s_count, 5), dtype=np.float32)
    sums = index.centroid_sums
    for s in range(s_count):
        docs = index.scenario_docs(s)
        if len(docs) == 0:
            continue
        sub = emb_docs[:, docs]
        top = np.sort(sub, axis=1)[:, ::-1]
        out[:, s, 0] = top[:, 0]
        out[:, s, 1] = top[:, :2].mean(axis=1) if top.shape[1] > 1 else top[:, 0]
        centroid = np.repeat(sums[s][None, :], n, axis=0)
        if exclude_docs is not None:
            own = np.isin(np.asarray(exclude_docs), docs)
            centroid[own] -= index.emb[np.asarray(exclude_docs)[own]]
        norms = np.linalg.norm(centroid, axis=1, keepdims=True)
        out[:, s, 2] = np.sum(emb * (centroid / np.maximum(norms, 1e-9)), axis=1)
        out[:, s, 3] = word_docs[:, docs].max(axis=1)
        out[:, s, 4] = char_docs[:, docs].max(axis=1)
    return np.maximum(out, 0.0)


def pairwise(index: Index, texts: list[str], emb: np.ndarray, exclude_docs: list[int] | None = None) -> np.ndarray:
    """(n, S, len(PAIR_FEATURES))."""
    channels = channel_scores(index, texts, emb, exclude_docs)
    struct = structural([analysed(t) for t in texts], scenario_words(index))
    return np.concatenate([channels, struct], axis=2)
