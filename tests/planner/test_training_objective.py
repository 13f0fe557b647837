"""The objective that chooses the thresholds and fits the gate: what each held-out row weighs in it (scenario
documents against the real requests users type), and the gate's floor and threshold chosen together."""

from __future__ import annotations

import numpy as np
from continuous.planner import training
from continuous.planner.intent import clears_floor

BASE = {"false_plan_cost": 2.0, "missed_plan_cost": 1.0, "wrong_plan_cost": 2.0, "min_threshold": 0.2}


def _rows() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], int]:
    """2 scenarios + none (label 2). The scenario documents (source "") score high, as a library's own wording
    does; the real requests of a repository score lower; off-topic lines reach 0.55."""
    best = np.asarray([0.95, 0.9, 0.92, 0.88, 0.6, 0.55, 0.5, 0.45, 0.3, 0.35, 0.4, 0.52, 0.1, 0.2])
    pick = np.asarray([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    labels = np.asarray([0, 1, 0, 1, 0, 1, 0, 1, 2, 2, 2, 2, 2, 2])
    sources = ["", "", "", ""] + ["repo/a"] * 4 + ["repo/a", "repo/a", "repo/b", "repo/b", "hand", "hand"]
    return best, pick, labels, sources, 2


def test_documents_weigh_the_setting_and_requests_and_off_topic_lines_weigh_one() -> None:
    _best, _pick, labels, sources, n = _rows()
    w = training.objective_weights(sources, labels, n, {"eval_document_weight": 0.25})
    assert w[:4].tolist() == [0.25] * 4
    assert (w[4:] == 1.0).all()
    # the default keeps every row at 1
    assert (training.objective_weights(sources, labels, n, {}) == 1.0).all()


def test_a_library_without_labelled_requests_prices_its_documents() -> None:
    # a custom library: its in-scope rows are all documents, so weighing them 0 would leave nothing to price
    labels = np.asarray([0, 1, 2, 2])
    w = training.objective_weights(["", "", "repo/a", "repo/a"], labels, 2, {"eval_document_weight": 0.0})
    assert (w == 1.0).all()


def test_documents_out_of_the_cost_leave_it_to_the_real_requests() -> None:
    best, pick, labels, sources, n = _rows()
    cfg = {**BASE, "eval_document_weight": 0.0}
    w = training.objective_weights(sources, labels, n, cfg)
    real = np.asarray([bool(s) for s in sources])
    for t in (0.3, 0.5, 0.7):
        with_docs_out = training.threshold_cost(best, pick, labels, n, cfg, t, w)
        requests_only = training.threshold_cost(best[real], pick[real], labels[real], n, cfg, t)
        assert abs(with_docs_out - requests_only) < 1e-12
    # the documents are easy, so with them the missed real requests look cheap and the threshold stricter
    strict = training.choose_threshold(best, pick, labels, n, BASE)
    honest = training.choose_threshold(best, pick, labels, n, cfg, w)
    assert honest < strict
    # weight 1 everywhere is the unweighted cost
    ones = np.ones(len(best))
    assert training.threshold_cost(best, pick, labels, n, BASE, 0.5, ones) == training.threshold_cost(
        best, pick, labels, n, BASE, 0.5
    )


def test_the_gate_weighs_its_rows_as_the_cost_does() -> None:
    rng = np.random.default_rng(0)
    n = 2
    # one feature: off-topic rows near 0, real requests near 1, documents far out at 4
    x = np.concatenate([rng.normal(0, 0.5, 60), rng.normal(1, 0.5, 60), rng.normal(4, 0.2, 60)])[:, None]
    labels = np.asarray([n] * 60 + [0] * 120)
    sources = ["hand"] * 60 + ["repo/a"] * 60 + [""] * 60
    folds = [(np.arange(180)[np.arange(180) % 2 == f], np.arange(180)[np.arange(180) % 2 != f]) for f in (0, 1)]
    cfg = {"gate_c": 1.0}
    w = training.objective_weights(sources, labels, n, {"eval_document_weight": 0.0})
    _, with_docs = training.fit_gate(x, labels, n, folds, cfg)
    _, without = training.fit_gate(x, labels, n, folds, cfg, w)

    def at(fit: dict, value: float) -> float:
        z = (np.asarray([[value]]) - fit["mean"]) / fit["scale"]
        return float(fit["estimator"].predict_proba(z)[0, 1])

    # a text that reads like a real request: the gate that learned from the requests alone is surer of it
    assert at(without, 1.0) > at(with_docs, 1.0)
    # and the default (no weights) is the unweighted fit
    _, again = training.fit_gate(x, labels, n, folds, cfg, np.ones(180))
    assert np.allclose(again["estimator"].coef_, with_docs["estimator"].coef_)


def test_the_gate_s_floor_and_threshold_are_chosen_together() -> None:
    # two false plans have a high in-scope probability but a low best probability: a floor of 0.3 stops them
    best = np.asarray([0.8, 0.7, 0.6, 0.5, 0.25, 0.22, 0.1, 0.15])
    gate = np.asarray([0.9, 0.85, 0.8, 0.75, 0.8, 0.82, 0.1, 0.2])
    pick = np.asarray([0, 1, 0, 1, 0, 1, 0, 1])
    labels = np.asarray([0, 1, 0, 1, 2, 2, 2, 2])
    cfg = {**BASE, "gate_min_probability": 0.2}
    floor, _ = training.choose_gate_cut(best, gate, pick, labels, 2, cfg)
    assert floor == 0.2  # without choices, the setting
    floor, cut = training.choose_gate_cut(best, gate, pick, labels, 2, {**cfg, "gate_floor_choices": [0.0, 0.3]})
    assert floor == 0.3
    score = np.where(clears_floor(best, floor), gate, 0.0)
    assert training.threshold_cost(score, pick, labels, 2, cfg, cut) == 0.0
