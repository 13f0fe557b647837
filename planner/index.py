"""The planner's index of a rule base: documents, their embeddings, TF-IDF statistics and the trained intent
model with its calibrated no-match threshold.

Each scenario contributes several documents: its id read as words, aliases, summary, description and every
example. Embeddings come from the numpy runtime of the model (`embedding.NumpyEncoder`, checked against
sentence-transformers) and are cached per text, so after a `.scn` edit only new or changed texts are encoded;
the built-in library's embeddings and its whole trained index ship with the package (`data/library-index.npz`),
so a repository that uses only the built-in library never builds anything. The index is keyed by what the planner
reads of the rule base (ids, aliases, summaries, descriptions, examples), the vocabulary, the training settings and
the model weights, not by steps or parameters: editing a scenario's steps does not rebuild it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from continuous.dsl.model import RuleBase, Scenario
from continuous.planner import embedding
from continuous.planner import language as lexicon
from continuous.planner.features import model_text, words_of
from continuous.planner.intent import IntentModel
from continuous.planner.lexical import Space, fit
from continuous.planner.normalise import data_files

if TYPE_CHECKING:
    from continuous.planner.training import Request

INDEX_VERSION = 5
DATA = Path(__file__).resolve().parent / "data"
OFFTOPIC = DATA / "offtopic.txt"
REQUESTS = DATA / "requests.txt"  # labelled real requests (training.labelled_requests)
MODEL_CONFIG = DATA / "model.toml"  # how the intent model is trained (training.py)
SHIPPED = DATA / "library-index.npz"
Progress = Callable[[str], None]


@dataclass
class Index:
    scenario_ids: list[str]
    scenario_aliases: list[list[str]]
    doc_scenario: np.ndarray  # (n_docs,) int: which scenario a document belongs to
    doc_kind: list[str]
    doc_text: list[str]
    emb: np.ndarray  # (n_docs, 384)
    centroid_sums: np.ndarray  # (n_scenarios, 384): sum of each scenario's document embeddings
    word: Space
    char: Space
    model: IntentModel
    key: str
    report: dict[str, Any] = field(default_factory=dict)
    _docs: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def threshold(self) -> float:
        return float(self.model.threshold)

    def scenario_docs(self, s: int) -> np.ndarray:
        docs = self._docs.get(s)
        if docs is None:
            docs = self._docs[s] = np.flatnonzero(self.doc_scenario == s)
        return docs


def scenario_documents(scenario: Scenario) -> list[tuple[str, str]]:
    docs = [("id", scenario.id.replace("-", " ")), ("summary", scenario.summary)]
    if scenario.description:
        docs.append(("description", " ".join(scenario.description.split())))
    docs.extend(("alias", a.replace("-", " ")) for a in scenario.aliases)
    docs.extend(("example", e) for e in scenario.examples)
    return [(k, t) for k, t in docs if t.strip()]


def offtopic_texts() -> list[str]:
    lines = OFFTOPIC.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def builtin_ids(rule_base: RuleBase) -> set[str]:
    """The scenarios of the rule base that are the built-in library's own (not a user's, even of the same id)."""
    from continuous.dsl.sources import BUILTIN_LIBRARY

    scenarios = rule_base.scenarios.items()
    return {sid for sid, sc in scenarios if sc.source and Path(sc.source).resolve().parent == BUILTIN_LIBRARY}


def planner_content(rule_base: RuleBase) -> str:
    """Everything an index depends on: what the planner reads of each scenario, the off-topic and the labelled
    real requests, the vocabulary and the training settings."""
    h = hashlib.sha256(f"v{INDEX_VERSION}".encode())
    for sid in sorted(rule_base.scenarios):
        sc = rule_base.scenarios[sid]
        h.update(json.dumps([sid, sc.aliases, sc.summary, sc.description, sc.examples]).encode())
    # the labelled real requests train only the built-in scenarios (training.usable_requests)
    h.update(json.dumps(sorted(builtin_ids(rule_base))).encode())
    for path in (OFFTOPIC, REQUESTS, DATA / "language.toml", MODEL_CONFIG, *data_files()):
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()[:20]


_KEYS: list[tuple[RuleBase, str]] = []


def index_key(rule_base: RuleBase) -> str:
    if _KEYS and _KEYS[0][0] is rule_base:
        return _KEYS[0][1]
    key = f"v{INDEX_VERSION}-{planner_content(rule_base)}-{embedding.model_fingerprint()}"
    _KEYS[:] = [(rule_base, key)]
    return key


def load_or_build(
    rule_base: RuleBase, *, memo: dict[str, Any] | None = None, progress: Progress | None = None
) -> Index:
    """The index of this rule base: from `memo` (a long-running process), the shipped built-in index, the cache
    directory, or built now (and cached). `progress` hears what a build is doing."""
    key = index_key(rule_base)
    if memo is not None and key in memo:
        return memo[key]
    index = _load_or_build(rule_base, key, progress)
    if memo is not None:
        memo.clear()
        memo[key] = index
    return index


def shipped() -> Path | None:
    """The shipped built-in index, unless CONTINUOUS_PLANNER_SHIPPED=0 (to measure or test a build from
    nothing)."""
    return None if os.environ.get("CONTINUOUS_PLANNER_SHIPPED") == "0" else SHIPPED


def _load_or_build(rule_base: RuleBase, key: str, progress: Progress | None) -> Index:
    for path in (shipped(), embedding.cache_dir() / "index" / f"{key}.npz"):
        if path is None:
            continue
        if path.exists():
            try:
                return load(path, key)
            except (OSError, ValueError, KeyError):
                pass
    index = build(rule_base, key, progress=progress)
    with contextlib.suppress(OSError):  # a read-only cache only costs speed
        save(index, embedding.cache_dir() / "index" / f"{key}.npz")
    return index


# ---------------------------------------------------------------- embeddings, cached per text


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class EmbeddingCache:
    """Embeddings by the exact text encoded: the shipped built-in library's, then the user's cache file (one per
    model). Only keys written next to their vectors are trusted: an index's documents are stored as written, and
    keying their vectors by today's `model_text` of them carried vectors of an older model text forward (46 of
    the first 400 shipped documents were embeddings of the text with its commit prefix). `reuse=False` starts
    empty: `ship` encodes everything it trains on."""

    def __init__(self, *, reuse: bool = True) -> None:
        self.path = embedding.cache_dir() / "embeddings" / f"{embedding.model_fingerprint()}.npz"
        self.known: dict[str, np.ndarray] = {}
        self.added: dict[str, np.ndarray] = {}
        for path in (shipped(), self.path) if reuse else ():
            if path is None:
                continue
            try:
                with np.load(path, allow_pickle=False) as data:
                    if "cache_keys" not in data or str(data["cache_model"]) != embedding.model_fingerprint():
                        continue
                    for k, v in zip(data["cache_keys"], data["cache_vecs"], strict=True):
                        self.known[str(k)] = v
            except (OSError, ValueError, KeyError):
                continue

    def encode(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        keys = [_text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self.known}.items())
        if missing:
            todo = [t for _, t in missing]

            def report(done: int, total: int) -> None:
                if progress:
                    progress(f"planner index: encoding {done}/{total} new scenario texts")

            vecs = embedding.encoder().encode(todo, progress=report)
            for (k, _), v in zip(missing, vecs, strict=True):
                self.known[k] = self.added[k] = v
        return np.stack([self.known[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        if not self.added:
            return
        own: dict[str, np.ndarray] = {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                own = {str(k): v for k, v in zip(data["cache_keys"], data["cache_vecs"], strict=True)}
        except (OSError, ValueError, KeyError):
            pass
        own.update(self.added)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}.npz")
        np.savez(tmp, **_cache_arrays(own))
        os.replace(tmp, self.path)


def _cache_arrays(entries: dict[str, np.ndarray]) -> dict[str, Any]:
    keys = sorted(entries)
    vecs = np.stack([entries[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)
    return {
        "cache_keys": np.array(keys, dtype=str),
        "cache_vecs": vecs.astype(np.float32),
        "cache_model": np.array(embedding.model_fingerprint()),
    }


# ---------------------------------------------------------------- build


def build(
    rule_base: RuleBase, key: str = "", *, progress: Progress | None = None, cache: EmbeddingCache | None = None
) -> Index:
    """Encode the documents (only those not in `cache`), fit the TF-IDF spaces and train the intent model."""
    from continuous.planner.training import labelled_requests, train, usable_requests

    start = time.perf_counter()
    ids = sorted(rule_base.scenarios)
    doc_scenario: list[int] = []
    kinds: list[str] = []
    texts: list[str] = []
    for i, sid in enumerate(ids):
        for kind, text in scenario_documents(rule_base.scenarios[sid]):
            doc_scenario.append(i)
            kinds.append(kind)
            texts.append(text)
    aliases = [list(rule_base.scenarios[sid].aliases) for sid in ids]
    offtopic, requests = _trained_on(
        ids, aliases, offtopic_texts(), usable_requests(labelled_requests(REQUESTS), builtin_ids(rule_base))
    )
    cache = cache or EmbeddingCache()
    # the model reads every text without its commit-style noise (features.model_text), at training as at queries
    vecs = cache.encode([model_text(t) for t in texts + offtopic + [r.text for r in requests]], progress)
    with contextlib.suppress(OSError):
        cache.save()
    n_docs, n_off = len(texts), len(offtopic)
    emb, off_emb, req_emb = vecs[:n_docs], vecs[n_docs : n_docs + n_off], vecs[n_docs + n_off :]
    docs = np.array(doc_scenario, dtype=np.int32)
    sums = np.zeros((len(ids), emb.shape[1]), dtype=np.float32)
    np.add.at(sums, docs, emb)
    lex_texts = [lexicon.expand(model_text(t)) for t in texts]
    index = Index(
        ids,
        aliases,
        docs,
        kinds,
        texts,
        emb,
        sums,
        fit(lex_texts, "word"),
        fit(lex_texts, "char"),
        IntentModel.__new__(IntentModel),
        key,
    )
    index.model, index.report = train(index, offtopic, off_emb, progress, requests=requests, requests_emb=req_emb)
    index.report["build_seconds"] = round(time.perf_counter() - start, 2)
    if progress:
        progress("")
    return index


def _trained_on(
    ids: list[str], aliases: list[list[str]], offtopic: list[str], requests: list[Request]
) -> tuple[list[str], list[Request]]:
    """The off-topic lines and labelled requests training reads: not those of "none" that the rules veto
    (`training.training_set` leaves them out), whose embeddings a build need not compute (a tenth of its texts)."""
    from continuous.planner.rules import reasons_to_veto_all
    from continuous.planner.training import NONE_LABEL

    made = frozenset(o for sw in words_of(ids, aliases) for o in sw.objects)

    def vetoed(text: str) -> bool:
        return reasons_to_veto_all(text, made=made) is not None

    return [t for t in offtopic if not vetoed(t)], [r for r in requests if r.label != NONE_LABEL or not vetoed(r.text)]


def save(index: Index, path: Path, *, with_cache: dict[str, np.ndarray] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    meta = {
        "scenario_ids": index.scenario_ids,
        "scenario_aliases": index.scenario_aliases,
        "doc_kind": index.doc_kind,
        "doc_text": index.doc_text,
        "key": index.key,
        "report": index.report,
    }
    extra = _cache_arrays(with_cache) if with_cache is not None else {}
    np.savez_compressed(
        tmp,
        emb=index.emb,
        centroid_sums=index.centroid_sums,
        doc_scenario=index.doc_scenario,
        meta=np.array(json.dumps(meta)),
        **index.word.to_arrays("word"),
        **index.char.to_arrays("char"),
        **index.model.to_arrays(),
        **extra,
    )
    os.replace(tmp, path)


def load(path: Path, key: str) -> Index:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("key") != key:
            raise ValueError("stale index")
        return Index(
            meta["scenario_ids"],
            meta["scenario_aliases"],
            np.asarray(data["doc_scenario"]),
            meta["doc_kind"],
            meta["doc_text"],
            np.asarray(data["emb"], np.float32),
            np.asarray(data["centroid_sums"], np.float32),
            Space.from_arrays(data, "word", "word"),
            Space.from_arrays(data, "char", "char"),
            IntentModel.from_arrays(data),
            key,
            meta.get("report", {}),
        )


def ship(path: Path = SHIPPED) -> Index:
    """Build the built-in library's index from scratch and write it, with the embedding of every text it read,
    as the package's shipped index (`python -m continuous.planner.index ship`)."""
    from continuous.dsl.loader import load_rule_base

    rule_base = load_rule_base([], include_builtin=True)
    key = index_key(rule_base)
    cache = EmbeddingCache(reuse=False)
    index = build(rule_base, key, progress=lambda m: print(m, file=sys.stderr) if m else None, cache=cache)
    from continuous.planner.training import labelled_requests

    # every text a build of a library with the built-ins reads, the vetoed lines too (a custom library's veto
    # words differ), each under the key of the text that was encoded
    docs = [model_text(t) for t in index.doc_text]
    texts = docs + [model_text(t) for t in offtopic_texts() + [r.text for r in labelled_requests(REQUESTS)]]
    vecs = cache.encode(texts)
    save(index, path, with_cache={_text_key(t): v for t, v in zip(texts, vecs, strict=True)})
    return index


if __name__ == "__main__":
    if sys.argv[1:] == ["ship"]:
        built = ship()
        print(json.dumps({"key": built.key, **built.report}, indent=2))
    else:
        print("usage: python -m continuous.planner.index ship", file=sys.stderr)
        raise SystemExit(2)
