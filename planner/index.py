"""The retrieval index of a rule base: embeddings, TF-IDF statistics and the calibrated no-match threshold.

Built once per rule base (sentence-transformers for the embeddings, scikit-learn for TF-IDF) and cached on
disk
under a key made of the rule-base hash and the model fingerprint, so a query process only memory-maps numpy
arrays. Each scenario contributes several documents: its id read as words, aliases, summary, description and
every
example request; a scenario's score on a channel is its best document.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from continuous.dsl.model import RuleBase, Scenario
from continuous.planner import embedding, lexicon
from continuous.planner.lexical import Space, fit

INDEX_VERSION = 3
_OFFTOPIC = Path(__file__).resolve().parent / "data" / "offtopic.txt"


@dataclass
class Index:
    scenario_ids: list[str]
    doc_scenario: np.ndarray  # (n_docs,) int: which scenario a document belongs to
    doc_kind: list[str]
    doc_text: list[str]
    emb: np.ndarray  # (n_docs, 384)
    word: Space
    char: Space
    threshold: float
    key: str

    def scenario_docs(self, s: int) -> np.ndarray:
        return np.flatnonzero(self.doc_scenario == s)


def scenario_documents(scenario: Scenario) -> list[tuple[str, str]]:
    docs = [("id", scenario.id.replace("-", " ")), ("summary", scenario.summary)]
    if scenario.description:
        docs.append(("description", scenario.description))
    docs.extend(("alias", a.replace("-", " ")) for a in scenario.aliases)
    docs.extend(("example", e) for e in scenario.examples)
    return [(k, t) for k, t in docs if t.strip()]


_KEYS: list[tuple[RuleBase, str]] = []


def index_key(rule_base: RuleBase) -> str:
    if _KEYS and _KEYS[0][0] is rule_base:
        return _KEYS[0][1]
    key = f"v{INDEX_VERSION}-{rule_base.content_hash(templates=False)}-{embedding.model_fingerprint()}"
    _KEYS[:] = [(rule_base, key)]
    return key


def load_or_build(
    rule_base: RuleBase, *, encoder: str | None = None, memo: dict[str, Index] | None = None
) -> Index:
    """The cached index of this rule base, built (and cached) on first use; `memo` keeps loaded indexes in a
    long-running process (the daemon)."""
    key = index_key(rule_base)
    if memo is not None and key in memo:
        return memo[key]
    index = _load_or_build(rule_base, key, encoder)
    if memo is not None:
        memo.clear()
        memo[key] = index
    return index


def _load_or_build(rule_base: RuleBase, key: str, encoder: str | None) -> Index:
    path = embedding.cache_dir() / "index" / f"{key}.npz"
    if path.exists():
        try:
            return _load(path, key)
        except (OSError, ValueError, KeyError):
            pass
    index = build(rule_base, key, encoder=encoder)
    _save(index, path)
    return index


def build(rule_base: RuleBase, key: str = "", *, encoder: str | None = None) -> Index:
    """Encode every scenario document; `encoder` "reference" (sentence-transformers, the default) or
    "numpy"."""
    from continuous.planner.scoring import score_texts

    ids = sorted(rule_base.scenarios)
    doc_scenario: list[int] = []
    kinds: list[str] = []
    texts: list[str] = []
    for i, sid in enumerate(ids):
        for kind, text in scenario_documents(rule_base.scenarios[sid]):
            doc_scenario.append(i)
            kinds.append(kind)
            texts.append(text)
    which = encoder or os.environ.get("CONTINUOUS_INDEX_ENCODER", "reference")
    emb = embedding.encoder().encode(texts) if which == "numpy" else embedding.reference_encode(texts)
    lex_texts = [lexicon.expand(t) for t in texts]
    index = Index(
        ids,
        np.array(doc_scenario, dtype=np.int32),
        kinds,
        texts,
        emb,
        fit(lex_texts, "word"),
        fit(lex_texts, "char"),
        0.0,
        key,
    )
    index.threshold = calibrate(index, rule_base, score_texts)
    return index


def calibrate(index: Index, rule_base: RuleBase, score_texts: object) -> float:
    """The no-match threshold: between leave-one-out scores of the library's own examples (which must match)
    and scores of off-topic sentences (which must not)."""
    assert callable(score_texts)
    examples = [i for i, k in enumerate(index.doc_kind) if k == "example"]
    offtopic = [
        line.strip()
        for line in _OFFTOPIC.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if not examples:
        return 0.45
    pos_texts = [index.doc_text[i] for i in examples]
    pos = score_texts(index, rule_base, pos_texts, exclude_docs=examples).max(axis=1)
    neg = score_texts(index, rule_base, offtopic).max(axis=1)
    lo_pos = float(np.percentile(pos, 5))
    hi_neg = float(neg.max())
    if lo_pos > hi_neg:
        return round((lo_pos + hi_neg) / 2, 4)
    # overlapping: stay just above every off-topic sentence (no false plans), trading some recall
    return round(hi_neg + 0.01, 4)


def _save(index: Index, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    meta = {
        "scenario_ids": index.scenario_ids,
        "doc_kind": index.doc_kind,
        "doc_text": index.doc_text,
        "threshold": index.threshold,
        "key": index.key,
    }
    np.savez(
        tmp,
        emb=index.emb,
        doc_scenario=index.doc_scenario,
        meta=np.array(json.dumps(meta)),
        **index.word.to_arrays("word"),
        **index.char.to_arrays("char"),
    )
    os.replace(tmp, path)


def _load(path: Path, key: str) -> Index:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("key") != key:
            raise ValueError("stale index")
        return Index(
            meta["scenario_ids"],
            np.asarray(data["doc_scenario"]),
            meta["doc_kind"],
            meta["doc_text"],
            np.asarray(data["emb"], np.float32),
            Space.from_arrays(data, "word", "word"),
            Space.from_arrays(data, "char", "char"),
            float(meta["threshold"]),
            key,
        )


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())
