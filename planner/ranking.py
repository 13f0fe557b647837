"""Rank every scenario for every unit of text (a whole request or one of its intents) and decide which intents
match: the learned intent model's calibrated probabilities, vetoed or boosted by the rules of `rules`, against
the calibrated no-match threshold of the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from continuous.planner.suggest import Context


@dataclass
class Ranking:
    probs: np.ndarray  # (n_units, n_scenarios)
    threshold: float
    scenario_ids: list[str]
    parts: Any = None  # channel scores, for --explain
    vetoed: list[list[tuple[str, str]]] = field(default_factory=list)  # per unit: (scenario, why)

    def score(self, row: int, s: int) -> float:
        return float(self.probs[row, s])

    def top(self, row: int, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-self.probs[row], kind="stable")[:k]
        return [(self.scenario_ids[int(s)], float(self.probs[row, int(s)])) for s in order]

    def best(self, row: int) -> tuple[int, float]:
        s = int(np.argmax(self.probs[row]))
        return s, float(self.probs[row, s])

    def intents(self, ids: list[int], clauses: list[str], text: str) -> tuple[list[tuple[str, int, int]], list[str]]:
        """(clause, unit row, scenario) of each intent that matches, and the clauses that match nothing. A
        request split into several clauses falls back on the whole request when no clause matches alone."""
        intents: list[tuple[str, int, int]] = []
        unmatched: list[str] = []
        if len(clauses) > 1:
            for clause, row in zip(clauses, ids[1:], strict=True):
                s, p = self.best(row)
                if p >= self.threshold:
                    intents.append((clause, row, s))
                else:
                    unmatched.append(clause)
            if not intents:
                s, p = self.best(ids[0])
                if p >= self.threshold:
                    intents, unmatched = [(text, ids[0], s)], []
        else:
            s, p = self.best(ids[0])
            if p >= self.threshold:
                intents.append((text, ids[0], s))
            else:
                unmatched.append(text)
        return intents, unmatched


def rank_units(ctx: Context, units: list[tuple[str, str]]) -> Ranking:
    """`units` are (text, masked text): the intent model reads the masked text (names of existing objects
    replaced by their kind), the typo corrector and the rules the text as written."""
    from continuous.planner.scoring import score_parts

    index = ctx.index
    scores = score_parts(index, ctx.rule_base, [u[1] for u in units], struct_texts=[u[1] for u in units])
    return Ranking(scores.total, index.threshold, index.scenario_ids, scores)
