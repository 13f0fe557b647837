"""The learned intent model, applied with numpy.

Two scikit-learn logistic regressions, trained when the index is built (`training.py`) and stored in it as
arrays, so a query never imports scikit-learn (1.6 s):

- stage A, multinomial over the scenarios plus "none": the sentence embedding and the lexical role features of a
  text → a probability per scenario (it learns what the examples of each scenario have in common);
- stage B, per (text, scenario) pair: the channel and structure features of `features.py` plus stage A's
  probabilities → one score, calibrated into the probability that the scenario is what the text asks for (a
  sigmoid fitted on cross-validated scores). Because stage B weighs the same features for every scenario, a custom
  scenario with a handful of examples ranks as well as a built-in.

Whether a text is in scope at all is a separate decision from which scenario it asks for: the in-scope gate, a
binary logistic regression over summary statistics of the two stages' outputs (`GATE_FEATURES`: stage B's best
probability, its margin to the second, their sum and entropy; stage A's "none" probability and its best
scenario's). A request split between two scenarios, or worded unlike the examples, has a low best probability
though it is surely about the repository; stage A's "none" and the spread of stage B say so. A text plans when
its in-scope probability clears the gate's threshold, the scenario being stage B's best. Both the gate and its
threshold are calibrated with the model on source-held-out folds (`training.py`); without a gate (`gate = false`
in model.toml) a text plans when its best stage-B probability clears the no-match threshold.
`tests/planner/test_intent.py` checks this numpy code against scikit-learn's own predict_proba.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class IntentModel:
    a_mean: np.ndarray
    a_scale: np.ndarray
    a_coef: np.ndarray  # (classes, features)
    a_intercept: np.ndarray
    a_columns: np.ndarray  # for each scenario of the index, its class column in stage A
    a_none: int  # the class column of "none"
    b_mean: np.ndarray
    b_scale: np.ndarray
    b_coef: np.ndarray  # (pair features + 2,)
    b_intercept: float
    cal_a: float
    cal_b: float
    threshold: float  # the no-match threshold on the best stage-B probability (the decision without a gate)
    gate_mean: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    gate_scale: np.ndarray = field(default_factory=lambda: np.ones(0, np.float32))
    gate_coef: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # empty: no gate
    gate_intercept: float = 0.0
    gate_threshold: float = 0.0
    gate_floor: float = 0.0  # a gated text plans only if its best stage-B probability is at least this too

    def stage_a(self, emb: np.ndarray, lex: np.ndarray) -> np.ndarray:
        x = (np.concatenate([emb, lex], axis=1) - self.a_mean) / self.a_scale
        logits = x @ self.a_coef.T + self.a_intercept
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        return logits / logits.sum(axis=1, keepdims=True)

    def pair_inputs(self, pair: np.ndarray, proba_a: np.ndarray) -> np.ndarray:
        """(n, S, F + 2): the pair features, log of stage A's probability of the scenario, and of "none"."""
        # which scenario, among scenarios (renormalised without "none"), and separately how likely "none" is
        p_none = proba_a[:, self.a_none]
        within = proba_a[:, self.a_columns] / np.clip(1.0 - p_none, 1e-6, 1.0)[:, None]
        scen = np.log(np.clip(within, 1e-6, 1.0))
        none = np.log(np.clip(p_none, 1e-6, 1.0))
        n, s_count, _ = pair.shape
        return np.concatenate(
            [pair, scen[:, :, None], np.broadcast_to(none[:, None, None], (n, s_count, 1))], axis=2
        ).astype(np.float32)

    def decision(self, inputs: np.ndarray) -> np.ndarray:
        return ((inputs - self.b_mean) / self.b_scale) @ self.b_coef + self.b_intercept

    def predict(self, emb: np.ndarray, lex: np.ndarray, pair: np.ndarray) -> np.ndarray:
        """(n, S) calibrated probabilities."""
        return self.predict_both(emb, lex, pair)[0]

    def predict_both(self, emb: np.ndarray, lex: np.ndarray, pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, S) calibrated probabilities and stage A's (n, classes) probabilities (the gate reads both)."""
        proba_a = self.stage_a(emb, lex)
        return calibrated(self.decision(self.pair_inputs(pair, proba_a)), self.cal_a, self.cal_b), proba_a

    @property
    def gated(self) -> bool:
        return bool(self.gate_coef.size)

    def gate_inputs(self, probs: np.ndarray, proba_a: np.ndarray) -> np.ndarray:
        """(n, len(GATE_FEATURES)) from stage B's probabilities (after the rules) and stage A's."""
        return gate_inputs(probs, proba_a, self.a_columns, self.a_none)

    def in_scope(self, probs: np.ndarray, proba_a: np.ndarray) -> np.ndarray:
        """(n,) the probability that each text asks for some scenario at all; without a gate, the best stage-B
        probability (the score the no-match threshold is for)."""
        if not self.gated:
            return probs.max(axis=1) if probs.shape[1] else np.zeros(len(probs), np.float32)
        z = ((self.gate_inputs(probs, proba_a) - self.gate_mean) / self.gate_scale) @ self.gate_coef
        return sigmoid(z + self.gate_intercept)

    @property
    def cut(self) -> float:
        """The threshold `in_scope` is held to."""
        return float(self.gate_threshold if self.gated else self.threshold)

    def to_arrays(self, prefix: str = "model_") -> dict[str, Any]:
        return {prefix + k: np.asarray(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_arrays(cls, data: Any, prefix: str = "model_") -> IntentModel:
        fields = cls.__dataclass_fields__
        values: dict[str, Any] = {}
        for name in fields:
            arr = np.asarray(data[prefix + name])
            values[name] = arr if arr.ndim else arr.item()
        return cls(**values)


GATE_FEATURES = ("best", "second", "margin", "sum", "entropy", "none_a", "best_a", "scenario_a")


def gate_inputs(probs: np.ndarray, proba_a: np.ndarray, columns: np.ndarray, none: int) -> np.ndarray:
    """The gate's features (`GATE_FEATURES`): logs of stage B's best and second probabilities and of their sum
    over all scenarios, the margin of the best over the second, the entropy of the probabilities normalised over
    the scenarios, and logs of stage A's "none" probability, its best scenario's, and all its scenarios'."""
    eps = 1e-6
    n, s_count = probs.shape
    top = -np.sort(-probs, axis=1)[:, :2] if s_count else np.zeros((n, 2), np.float32)
    if top.shape[1] < 2:
        top = np.concatenate([top, np.zeros((n, 1), np.float32)], axis=1)
    total = probs.sum(axis=1)
    q = probs / np.clip(total, eps, None)[:, None]
    entropy = -(q * np.log(np.clip(q, eps, 1.0))).sum(axis=1)
    p_none = proba_a[:, none]
    best_a = proba_a[:, columns].max(axis=1) if len(columns) else np.zeros(n, np.float32)
    return np.column_stack(
        [
            np.log(np.clip(top[:, 0], eps, 1.0)),
            np.log(np.clip(top[:, 1], eps, 1.0)),
            top[:, 0] - top[:, 1],
            np.log(np.clip(total, eps, None)),
            entropy,
            np.log(np.clip(p_none, eps, 1.0)),
            np.log(np.clip(best_a, eps, 1.0)),
            np.log(np.clip(1.0 - p_none, eps, 1.0)),
        ]
    ).astype(np.float32)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) as float32, clipped so that exp never overflows: the calibration's and the gate's."""
    return (1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))).astype(np.float32)


def calibrated(f: np.ndarray, a: float, b: float) -> np.ndarray:
    """scikit-learn's sigmoid calibration: 1 / (1 + exp(a·f + b))."""
    return sigmoid(-(a * f + b))


def clears_floor(best: Any, floor: float) -> Any:
    """Whether a text may plan at all under the gate: its best probability is at least the gate's floor
    (`gate_min_probability`) and not 0 (every scenario vetoed). The one test, for the held-out rows the gate's
    threshold is chosen on (`training`) and for each request (`ranking.Ranking.in_scope`); element-wise on
    arrays."""
    return (best >= floor) & (best > 0.0)
