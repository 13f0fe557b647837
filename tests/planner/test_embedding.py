"""The numpy encoder against sentence-transformers (the reference, only ever imported here), on every request of
the evaluation set and every document of the built-in library."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from continuous.planner.embedding import NumpyEncoder, encoder

EVAL = Path(__file__).resolve().parent / "eval" / "requests.jsonl"


def test_unit_vectors_and_batch_independence() -> None:
    enc = encoder()
    texts = ["a table for bookmarks", "add a settings page to dhg-hub and a GET /api/prefs endpoint", "x"]
    together = enc.encode(texts)
    alone = np.vstack([enc.encode([t]) for t in texts])
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert enc.encode([]).shape == (0, 384)


def test_weights_are_memory_mapped_after_the_first_load() -> None:
    enc = NumpyEncoder()
    assert isinstance(enc.w["embeddings.word_embeddings.weight"], np.memmap)


@pytest.mark.slow
def test_matches_sentence_transformers_on_the_evaluation_set() -> None:
    from continuous.dsl.loader import load_rule_base
    from continuous.planner.embedding import reference_encode
    from continuous.planner.index import scenario_documents

    texts = [json.loads(line)["request"] for line in EVAL.read_text().splitlines() if line.strip()]
    texts += [t for sc in load_rule_base().scenarios.values() for _k, t in scenario_documents(sc)]
    ours = encoder().encode(texts)
    ref = reference_encode(texts)
    cosines = (ours * ref).sum(axis=1)
    assert cosines.min() >= 0.99999, texts[int(cosines.argmin())]
