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
        kwargs["cfg"] = {**training.config(), "gate": True}  # the gate is measured here whatever model.toml says
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


# ---------------------------------------------------------------- the in-scope gate


def test_numpy_gate_equals_scikit_learn(trained: tuple[index.Index, dict]) -> None:
    built, debug = trained
    model = built.model
    assert model.gated
    est = debug["gate"]
    theirs = est.predict_proba((debug["gate_x"] - model.gate_mean) / model.gate_scale)[:, 1]
    ours = model.in_scope(debug["probs"], debug["oof_a"])
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # the gate is a threshold on something else than the best probability: it must not just reorder it
    best = debug["probs"].max(axis=1)
    assert not np.array_equal(np.argsort(ours, kind="stable"), np.argsort(best, kind="stable"))
    assert 0.0 < model.gate_threshold < 1.0 and built.report["gate_threshold"] == model.gate_threshold


def test_the_gate_reads_the_spread_of_stage_b_and_stage_a_s_none() -> None:
    from continuous.planner.intent import GATE_FEATURES, gate_inputs

    probs = np.asarray([[0.6, 0.3, 0.1], [0.0, 0.0, 0.0]], dtype=np.float32)
    proba_a = np.asarray([[0.5, 0.2, 0.1, 0.2], [0.1, 0.1, 0.1, 0.7]], dtype=np.float32)
    x = dict(zip(GATE_FEATURES, gate_inputs(probs, proba_a, np.arange(3), 3).T, strict=True))
    np.testing.assert_allclose(np.exp(x["best"]), [0.6, 1e-6], rtol=1e-4)
    np.testing.assert_allclose(np.exp(x["second"])[0], 0.3, rtol=1e-4)
    np.testing.assert_allclose(x["margin"], [0.3, 0.0], atol=1e-6)
    np.testing.assert_allclose(np.exp(x["sum"])[0], 1.0, rtol=1e-4)
    q = np.asarray([0.6, 0.3, 0.1])
    np.testing.assert_allclose(x["entropy"][0], -(q * np.log(q)).sum(), rtol=1e-4)
    np.testing.assert_allclose(np.exp(x["none_a"]), [0.2, 0.7], rtol=1e-4)
    np.testing.assert_allclose(np.exp(x["best_a"]), [0.5, 0.1], rtol=1e-4)
    np.testing.assert_allclose(np.exp(x["scenario_a"]), [0.8, 0.3], rtol=1e-4)


def test_the_gate_and_its_threshold_are_calibrated_with_whole_sources_held_out(
    trained: tuple[index.Index, dict],
) -> None:
    _built, debug = trained
    sources = np.asarray(debug["sources"])
    groups = debug["groups"]
    folds = debug["gate_folds"]
    assert len(folds) >= 2
    named = sorted(set(sources.tolist()) - {""})
    assert len(named) >= 5  # the off-topic sources of offtopic.txt
    seen = np.zeros(len(sources), dtype=int)
    for train_rows, test_rows in folds:
        assert not set(groups[train_rows].tolist()) & set(groups[test_rows].tolist())
        # a source is scored by a gate that never saw any of its lines
        assert not set(sources[train_rows].tolist()) & set(sources[test_rows].tolist()) - {""}
        seen[test_rows] += 1
    assert (seen == 1).all()  # every row is scored once, out of fold
    # the held-out probabilities are not the final gate's own: it saw every row
    final = debug["gate"].predict_proba((debug["gate_x"] - _built.model.gate_mean) / _built.model.gate_scale)[:, 1]
    assert not np.allclose(final, debug["gate_oof"], atol=1e-3)


def test_the_threshold_is_chosen_on_the_in_scope_probability_a_request_gets(
    trained: tuple[index.Index, dict],
) -> None:
    # the gate's floor and sigmoid, as training scores its held-out rows and as a request is ranked
    from continuous.planner.ranking import Ranking

    built, debug = trained
    model = built.model
    assert model.gate_floor > 0.0
    probs = debug["probs"]
    ranking = Ranking(probs, model.cut, built.scenario_ids, debug["gate_oof"], model.gate_floor)
    asked = np.asarray([ranking.in_scope(row)[1] for row in range(len(probs))])
    np.testing.assert_array_equal(asked, debug["gate_score"])
    below = probs.max(axis=1) < model.gate_floor
    assert below.any() and (asked[below] == 0.0).all() and (asked[~below] > 0.0).all()


def test_a_unit_plans_on_its_in_scope_probability_and_each_clause_is_gated_alike() -> None:
    from continuous.planner.ranking import Ranking

    ids = ["create-table", "add-page"]
    probs = np.asarray([[0.30, 0.25], [0.90, 0.05], [0.0, 0.0], [0.35, 0.30], [0.80, 0.10]], dtype=np.float32)
    scope = np.asarray([0.80, 0.20, 0.95, 0.70, 0.03], dtype=np.float32)
    ranking = Ranking(probs, 0.6, ids, scope)
    # split between two scenarios, yet surely in scope: it plans, with stage B's best
    assert ranking.intents([0], ["x"], "x") == ([("x", 0, 0)], [])
    # a confident best scenario the gate says no request asks for: no plan
    assert ranking.intents([1], ["y"], "y") == ([], ["y"])
    # every scenario vetoed: nothing to plan, whatever the gate says
    assert ranking.intents([2], ["z"], "z") == ([], ["z"])
    # two clauses: each one is held to the gate
    assert ranking.intents([0, 3, 4], ["a", "b"], "a and b") == ([("a", 3, 0)], ["b"])
    # a floor on the best probability
    assert Ranking(probs, 0.6, ids, scope, floor=0.32).intents([0], ["x"], "x") == ([], ["x"])
    # without a gate, the best probability is held to the threshold
    assert Ranking(probs, 0.6, ids).intents([0], ["x"], "x") == ([], ["x"])
    assert Ranking(probs, 0.6, ids).intents([1], ["y"], "y") == ([("y", 1, 0)], [])
