"""Repeated cross-validation: the no-match threshold and the in-scope gate are chosen on the held-out
probabilities of `fold_repeats` splits pooled, so they carry less of one split's luck; the final models are fitted
once."""

from __future__ import annotations

import numpy as np
import pytest
from continuous.dsl.loader import load_rule_base
from continuous.planner import index, training

from .conftest import MINI

REPEATS = 2


@pytest.fixture(scope="module")
def repeated() -> tuple[index.Index, dict]:
    rb = load_rule_base([MINI], include_builtin=False)
    debug: dict = {}
    original = training.train

    def capture(*args: object, **kwargs: object) -> object:
        kwargs["debug"] = debug
        kwargs["cfg"] = {**training.config(), "gate": True, "fold_repeats": REPEATS}
        return original(*args, **kwargs)  # type: ignore[arg-type]

    training.train = capture  # type: ignore[assignment]
    try:
        built = index.build(rb, index.index_key(rb))
    finally:
        training.train = original  # type: ignore[assignment]
    return built, debug


def test_the_first_split_is_the_base_seed_s_and_two_base_seeds_share_no_split() -> None:
    assert training.fold_seeds(7, 1) == [7]
    seven, eleven = training.fold_seeds(7, 4), training.fold_seeds(11, 4)
    assert seven[0] == 7 and eleven[0] == 11
    assert len(set(seven)) == 4 and not set(seven) & set(eleven)
    assert training.fold_seeds(7, 4) == seven  # derived, not drawn afresh


def test_every_text_is_held_out_once_per_repeat_by_a_model_that_never_saw_its_group(
    repeated: tuple[index.Index, dict],
) -> None:
    built, debug = repeated
    fold_sets = debug["fold_sets"]
    k = int(training.config()["folds"])
    assert len(fold_sets) == REPEATS and all(len(fs) == k for fs in fold_sets)
    n = len(debug["texts"]) // REPEATS
    groups = debug["groups"][:n]
    for fs in fold_sets:
        seen = np.zeros(n, dtype=int)
        for train_rows, test_rows in fs:
            assert not set(groups[train_rows].tolist()) & set(groups[test_rows].tolist())
            seen[test_rows] += 1
        assert (seen == 1).all()
    # the repeats are different splits, so their held-out probabilities differ
    first = [set(te.tolist()) for _, te in fold_sets[0]]
    assert any(set(te.tolist()) not in first for _, te in fold_sets[1])
    probs = debug["probs"]
    assert probs.shape[0] == REPEATS * n
    assert not np.allclose(probs[:n], probs[n:], atol=1e-3)
    # the gate reads R x k held-out fits: every pooled row scored once, inside its own repeat
    gate_folds = debug["gate_folds"]
    assert len(gate_folds) == REPEATS * k
    seen = np.zeros(REPEATS * n, dtype=int)
    for train_rows, test_rows in gate_folds:
        assert len({int(r) // n for r in np.concatenate([train_rows, test_rows])}) == 1
        seen[test_rows] += 1
    assert (seen == 1).all()
    report = built.report
    assert report["fold_repeats"] == REPEATS and report["rows"] == n
    assert report["gate_threshold"] == built.model.gate_threshold


def test_the_warm_started_fold_fits_reach_the_optimum_a_cold_tight_fit_reaches(
    repeated: tuple[index.Index, dict],
) -> None:
    """Stage A's fold fits start from the final fit, which has seen their held-out rows; they must still end at the
    fold's own optimum (the problem is strictly convex), not keep what the held-out rows taught the final fit."""
    import warnings

    from sklearn.linear_model import LogisticRegression

    _built, debug = repeated
    cfg = training.config()
    n = len(debug["texts"]) // REPEATS
    labels, xa, weights = debug["labels"][:n], debug["xa"], debug["weights"]
    k = int(cfg["folds"])
    assert len(debug["fold_a"]) == REPEATS * k
    for (train_rows, test_rows), est in zip(debug["fold_sets"][0], debug["fold_a"][:k], strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cold = LogisticRegression(C=float(cfg["stage_a_c"]), solver="newton-cg", tol=1e-8, max_iter=1000)
            cold.fit(xa[train_rows], labels[train_rows], sample_weight=weights[train_rows])
        assert list(est.classes_) == list(cold.classes_)
        gap = np.abs(est.predict_proba(xa[test_rows]) - cold.predict_proba(xa[test_rows])).max()
        assert gap < 0.01, gap


def test_the_threshold_loop_s_stage_b_fits_started_from_the_final_one_end_at_their_own_optimum(
    repeated: tuple[index.Index, dict],
) -> None:
    """The threshold loop's stage-B fits start from the final stage B, which has seen their held-out texts; each
    must still end at its own fold's optimum (as near as the fits from zero, or nearer), not keep what the
    held-out texts taught the final fit."""
    import warnings

    from continuous.planner.intent import calibrated
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    _built, debug = repeated
    cfg = training.config()
    n = len(debug["texts"]) // REPEATS
    labels, groups, xb = debug["labels"][:n], debug["groups"][:n], debug["xb"]
    s_count = xb.shape[0] // n
    yb = (labels[:, None] == np.arange(s_count)[None, :]).reshape(-1).astype(int)
    wb = np.repeat(debug["weights"], s_count)
    k = int(cfg["folds"])

    def pairs_of(texts: np.ndarray) -> np.ndarray:
        return (texts[:, None] * s_count + np.arange(s_count)[None, :]).reshape(-1)

    def held_out(est: CalibratedClassifierCV, test: np.ndarray) -> np.ndarray:
        inner = est.calibrated_classifiers_[0]
        f = xb[pairs_of(test)] @ inner.estimator.coef_[0] + inner.estimator.intercept_[0]
        return calibrated(f, float(inner.calibrators[0].a_), float(inner.calibrators[0].b_))

    assert len(debug["fold_b"]) == REPEATS * k
    for (train_texts, test_texts), est in zip(debug["fold_sets"][0], debug["fold_b"][:k], strict=True):
        inner_folds = training.grouped_folds(labels[train_texts], groups[train_texts], k, debug["seeds"][0])
        splits = [(pairs_of(tr), pairs_of(te)) for tr, te in inner_folds]
        rows = pairs_of(train_texts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = LogisticRegression(C=float(cfg["stage_b_c"]), solver="newton-cholesky", tol=1e-10, max_iter=500)
            optimum = CalibratedClassifierCV(base, method="sigmoid", cv=splits, ensemble=False)
            optimum.fit(xb[rows], yb[rows], sample_weight=wb[rows])
        assert est.calibrated_classifiers_[0].estimator.n_iter_[0] < base.max_iter
        gap = np.abs(held_out(est, test_texts) - held_out(optimum, test_texts)).max()
        assert gap < 2e-3, gap
