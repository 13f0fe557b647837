"""The learned intent model, applied with numpy.

Two scikit-learn logistic regressions, trained when the index is built (`training.py`) and stored in it as
arrays, so a query never imports scikit-learn (1.6 s):

- stage A, multinomial over the scenarios plus "none": the sentence embedding and the lexical role features of a
  text → a probability per scenario (it learns what the examples of each scenario have in common);
- stage B, per (text, scenario) pair: the channel and structure features of `features.py` plus stage A's
  probabilities → one score, calibrated into the probability that the scenario is what the text asks for (a
  sigmoid fitted on cross-validated scores). Because stage B weighs the same features for every scenario, a custom
  scenario with a handful of examples ranks as well as a built-in.

The no-match threshold is calibrated with the model (the cross-validated probabilities of off-topic requests).
`tests/planner/test_intent.py` checks this numpy code against scikit-learn's own predict_proba.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    threshold: float

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
        f = self.decision(self.pair_inputs(pair, self.stage_a(emb, lex)))
        return calibrated(f, self.cal_a, self.cal_b)

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


def calibrated(f: np.ndarray, a: float, b: float) -> np.ndarray:
    """scikit-learn's sigmoid calibration: 1 / (1 + exp(a·f + b))."""
    z = np.clip(a * f + b, -50.0, 50.0)
    return (1.0 / (1.0 + np.exp(z))).astype(np.float32)
