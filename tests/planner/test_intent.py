"""The intent model: trained by scikit-learn when an index is built, applied by numpy at query time, calibrated,
and reproducible from what the index stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from continuous.dsl.loader import load_rule_base
from continuous.planner import features, index, training
from continuous.planner.intent import IntentModel

from .conftest import MINI


@pytest.fixture(scope="module")
def trained() -> tuple[index.Index, dict]:
    rb = load_rule_base([MINI], include_builtin=False)
    debug: dict = {}
    original = training.train

    def capture(*args: object, **kwargs: object) -> object:
        kwargs["debug"] = debug
        return original(*args, **kwargs)  # type: ignore[arg-type]

    training_train = training.train
    training.train = capture  # type: ignore[assignment]
    try:
        built = index.build(rb, index.index_key(rb))
    finally:
        training.train = training_train  # type: ignore[assignment]
    return built, debug


def test_numpy_stage_a_equals_scikit_learn(trained: tuple[index.Index, dict]) -> None:
    built, debug = trained
    est = debug["stage_a"]
    ours = built.model.stage_a(*_split(debug["xa"], built.model))
    theirs = est.predict_proba(debug["xa"])
    np.testing.assert_allclose(ours[:, est.classes_], theirs, atol=1e-5)


def test_numpy_stage_b_equals_scikit_learns_calibrated_classifier(trained: tuple[index.Index, dict]) -> None:
    built, debug = trained
    cal = debug["stage_b"]
    theirs = cal.predict_proba(debug["xb"])[:, 1]
    raw = debug["xb"] * built.model.b_scale + built.model.b_mean  # the model standardises itself
    from continuous.planner.intent import calibrated

    ours = calibrated(built.model.decision(raw), built.model.cal_a, built.model.cal_b)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_the_model_survives_the_index_file(trained: tuple[index.Index, dict], tmp_path: Path) -> None:
    built, _ = trained
    path = tmp_path / "i.npz"
    index.save(built, path)
    again = index.load(path, built.key)
    texts = ["a table for invoices", "what is the weather"]
    from continuous.planner import embedding

    emb = embedding.encoder().encode(texts)
    lex = features.lexical(texts)
    pair = features.pairwise(built, texts, emb)
    np.testing.assert_allclose(again.model.predict(emb, lex, pair), built.model.predict(emb, lex, pair), atol=1e-6)
    assert isinstance(again.model, IntentModel) and again.threshold == built.threshold


def test_probabilities_rank_the_right_scenario_and_leave_chatter_below_the_threshold(
    trained: tuple[index.Index, dict],
) -> None:
    built, _ = trained
    from continuous.planner import embedding

    texts = ["somewhere in the database to keep payments", "unit tests for the billing code", "play some jazz"]
    emb = embedding.encoder().encode(texts)
    probs = built.model.predict(emb, features.lexical(texts), features.pairwise(built, texts, emb))
    ids = built.scenario_ids
    assert ids[int(probs[0].argmax())] == "create-table" and probs[0].max() >= built.threshold
    assert ids[int(probs[1].argmax())] == "add-tests"
    assert probs[2].max() < built.threshold
    assert ((probs >= 0) & (probs <= 1)).all()
    report = built.report
    assert report["threshold"] == built.threshold and 0 < report["cv_top1"] <= 1


def _split(xa: np.ndarray, model: IntentModel) -> tuple[np.ndarray, np.ndarray]:
    """Undo the model's standardisation and split the columns back into embedding and lexical features."""
    raw = xa * model.a_scale + model.a_mean
    return raw[:, :384], raw[:, 384:]
