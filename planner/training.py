"""Train the intent model of an index (scikit-learn, imported only here, only when an index is built).

Training texts are every scenario's examples, summary, aliases and id words, and the off-topic requests of
`data/offtopic.txt` as the class "none". A document never votes for itself: its channel features are computed
with it hidden, and stage B learns from stage A's cross-validated probabilities, so the model learns how an
unseen request looks rather than how its own examples do. The hyperparameters are in `data/model.toml`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from continuous.planner import features
from continuous.planner.intent import IntentModel, calibrated

if TYPE_CHECKING:
    from continuous.planner.index import Index

CONFIG = Path(__file__).resolve().parent / "data" / "model.toml"


def config() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


@dataclass
class TrainingSet:
    texts: list[str]
    emb: np.ndarray
    labels: np.ndarray  # scenario index, or len(scenario_ids) for "none"
    weights: np.ndarray
    exclude: list[int]  # the document each row is (hidden from its own features), or -1


def training_set(index: Index, offtopic: list[str], offtopic_emb: np.ndarray) -> TrainingSet:
    """The documents and the off-topic requests the rules do not already veto (the model learns what passes
    the rules; a request about an index or a guide never reaches it)."""
    from continuous.planner.features import scenario_words
    from continuous.planner.rules import reasons_to_veto_all

    cfg = config()
    made = frozenset(o for sw in scenario_words(index) for o in sw.objects)
    keep = [i for i, t in enumerate(offtopic) if reasons_to_veto_all(t, made=made) is None]
    offtopic = [offtopic[i] for i in keep]
    offtopic_emb = offtopic_emb[keep]
    kinds = set(cfg["train_kinds"])
    kind_weight = cfg["kind_weight"]
    rows = [i for i, k in enumerate(index.doc_kind) if k in kinds]
    none = len(index.scenario_ids)
    pos_weights = [float(kind_weight.get(index.doc_kind[i], 1.0)) for i in rows]
    # the off-topic requests weigh a fixed share of the scenarios' examples, so "no match" has the same prior
    # in a library of 5 scenarios as in one of 30
    share = float(cfg.get("none_weight_share", 0.5))
    none_weight = share * sum(pos_weights) / max(len(offtopic), 1)
    return TrainingSet(
        texts=[index.doc_text[i] for i in rows] + list(offtopic),
        emb=np.concatenate([index.emb[rows], offtopic_emb]).astype(np.float32),
        labels=np.asarray([int(index.doc_scenario[i]) for i in rows] + [none] * len(offtopic)),
        weights=np.asarray(pos_weights + [none_weight] * len(offtopic)),
        exclude=rows + [-1] * len(offtopic),
    )


def _scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


def _proba_columns(est: Any, x: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((x.shape[0], n_classes), dtype=np.float32)
    out[:, est.classes_] = est.predict_proba(x)
    return out


def train(
    index: Index,
    offtopic: list[str],
    offtopic_emb: np.ndarray,
    progress: Callable[[str], None] | None = None,
    debug: dict[str, Any] | None = None,
) -> tuple[IntentModel, dict[str, Any]]:
    """The model and a report of its cross-validated quality (stored with the index). `debug` receives the
    scikit-learn estimators and their inputs (the test checks the numpy model against them)."""
    import warnings

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    cfg = config()
    data = training_set(index, offtopic, offtopic_emb)
    n_scen = len(index.scenario_ids)
    n_classes = n_scen + 1
    lex = features.lexical(data.texts)
    xa_raw = np.concatenate([data.emb, lex], axis=1)
    a_mean, a_scale = _scale(xa_raw)
    xa = (xa_raw - a_mean) / a_scale

    def stage_a() -> Any:
        weight = cfg.get("stage_a_class_weight") or None
        return LogisticRegression(C=float(cfg["stage_a_c"]), solver="newton-cg", max_iter=500, class_weight=weight)

    if progress:
        progress("planner index: training the intent model (stage A)")
    oof_a = np.zeros((len(data.texts), n_classes), dtype=np.float32)
    # without "none", stage A only says which scenario a text is most like; no match is stage B's call
    fit_rows = np.arange(len(data.texts)) if cfg.get("stage_a_none", True) else np.flatnonzero(data.labels < n_scen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes with fewer examples than folds
        folds = StratifiedKFold(int(cfg["folds"]), shuffle=True, random_state=int(cfg["seed"]))
        for train_idx, test_idx in folds.split(xa, data.labels):
            use = np.intersect1d(train_idx, fit_rows)
            est = stage_a().fit(xa[use], data.labels[use], sample_weight=data.weights[use])
            oof_a[test_idx] = _proba_columns(est, xa[test_idx], n_classes)
        final_a = stage_a().fit(xa[fit_rows], data.labels[fit_rows], sample_weight=data.weights[fit_rows])
    coef = np.zeros((n_classes, xa.shape[1]), dtype=np.float32)
    intercept = np.full(n_classes, -50.0, dtype=np.float32)
    coef[final_a.classes_] = final_a.coef_
    intercept[final_a.classes_] = final_a.intercept_

    if progress:
        progress("planner index: training the intent model (stage B)")
    pair = features.pairwise(index, data.texts, data.emb, exclude_docs=data.exclude)
    model = IntentModel(
        a_mean=a_mean,
        a_scale=a_scale,
        a_coef=coef,
        a_intercept=intercept,
        a_columns=np.arange(n_scen),
        a_none=n_scen,
        b_mean=np.zeros(1, np.float32),
        b_scale=np.ones(1, np.float32),
        b_coef=np.zeros(1, np.float32),
        b_intercept=0.0,
        cal_a=-1.0,
        cal_b=0.0,
        threshold=0.5,
    )
    xb3 = model.pair_inputs(pair, oof_a)
    n, s_count, f_count = xb3.shape
    xb = xb3.reshape(n * s_count, f_count)
    yb = (data.labels[:, None] == np.arange(s_count)[None, :]).reshape(-1).astype(int)
    wb = np.repeat(data.weights, s_count)
    groups = np.repeat(np.arange(n), s_count)
    b_mean, b_scale = _scale(xb)
    xbs = (xb - b_mean) / b_scale

    def stage_b(splits: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        base = LogisticRegression(C=float(cfg["stage_b_c"]), solver="newton-cholesky", max_iter=200)
        return CalibratedClassifierCV(base, method="sigmoid", cv=splits, ensemble=False)

    k = int(cfg["folds"])

    def group_splits(idx: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(GroupKFold(k).split(xbs[idx], yb[idx], groups[idx]))

    all_idx = np.arange(len(yb))
    final_b = stage_b(group_splits(all_idx)).fit(xbs, yb, sample_weight=wb)
    inner = final_b.calibrated_classifiers_[0]
    model.b_mean, model.b_scale = b_mean, b_scale
    model.b_coef = inner.estimator.coef_[0].astype(np.float32)
    model.b_intercept = float(inner.estimator.intercept_[0])
    model.cal_a = float(inner.calibrators[0].a_)
    model.cal_b = float(inner.calibrators[0].b_)

    if progress:
        progress("planner index: calibrating the no-match threshold")
    oof_p = np.zeros(len(yb), dtype=np.float32)
    for train_idx, test_idx in GroupKFold(k).split(xbs, yb, groups):
        est = stage_b(group_splits(train_idx)).fit(xbs[train_idx], yb[train_idx], sample_weight=wb[train_idx])
        inner_est = est.calibrated_classifiers_[0]
        f = xbs[test_idx] @ inner_est.estimator.coef_[0] + inner_est.estimator.intercept_[0]
        oof_p[test_idx] = calibrated(f, float(inner_est.calibrators[0].a_), float(inner_est.calibrators[0].b_))
    probs = oof_p.reshape(n, s_count)
    # the threshold decides among what the rules let through, as at query time
    from continuous.planner import rules

    rules.apply(data.texts, probs, index)
    best = probs.max(axis=1)
    pick = probs.argmax(axis=1)
    is_none = data.labels == n_scen
    neg = best[is_none]
    fp_cost, miss_cost = float(cfg["false_plan_cost"]), float(cfg["missed_plan_cost"])
    threshold = max(fp_cost / (fp_cost + miss_cost), float(cfg["min_threshold"]))
    model.threshold = round(threshold, 4)
    pos = ~is_none
    right = (pick == data.labels) & pos
    if debug is not None:
        debug.update(
            texts=data.texts,
            labels=data.labels,
            probs=probs,
            oof_a=oof_a,
            stage_a=final_a,
            stage_b=final_b,
            xa=xa,
            xb=xbs,
        )
    report = {
        "rows": int(n),
        "offtopic": int(is_none.sum()),
        "threshold": model.threshold,
        "cv_top1": round(float(right.sum() / max(pos.sum(), 1)), 4),
        "cv_recall_at_threshold": round(float((right & (best >= threshold)).sum() / max(pos.sum(), 1)), 4),
        "cv_offtopic_accepted": round(float((neg >= threshold).mean()) if len(neg) else 0.0, 4),
        "cv_brier": round(float(np.mean((probs - (data.labels[:, None] == np.arange(s_count))) ** 2)), 5),
    }
    return model, report
