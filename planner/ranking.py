"""Rank every scenario for every unit of text (a whole request or one of its intents) and decide which intents
match: the learned intent model's calibrated probabilities, vetoed or boosted by the rules of `rules`, say which
scenario; the in-scope gate of the index (`intent.IntentModel.in_scope`, over the same probabilities after the
rules) says whether the unit asks for any, against its calibrated threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from continuous.planner.intent import clears_floor

if TYPE_CHECKING:
    from continuous.planner.suggest import Context


@dataclass
class Ranking:
    probs: np.ndarray  # (n_units, n_scenarios)
    threshold: float  # what `scope` is held to: the gate's threshold, or the no-match threshold without a gate
    scenario_ids: list[str]
    # (n_units,) the in-scope probability of each unit (without a gate: its best probability); None: the best
    scope: np.ndarray | None = None
    floor: float = 0.0  # a unit plans only if its best probability is at least this too
    parts: Any = None  # channel scores, for --explain
    vetoed: list[list[tuple[str, str]]] = field(default_factory=list)  # per unit: (scenario, why)
    # the model's probabilities before the rules' vetoes: they order the scenarios a veto left at 0
    unvetoed: np.ndarray | None = None

    def score(self, row: int, s: int) -> float:
        return float(self.probs[row, s])

    def top(self, row: int, k: int) -> list[tuple[str, float]]:
        """The k best scenarios. Vetoed ones (probability 0) follow in the model's order: with every scenario
        vetoed the ranking still says which one the request is closest to, instead of the first id."""
        if self.unvetoed is None:
            order = np.argsort(-self.probs[row], kind="stable")[:k]
        else:
            order = np.lexsort((-self.unvetoed[row], -self.probs[row]))[:k]
        return [(self.scenario_ids[int(s)], float(self.probs[row, int(s)])) for s in order]

    def best(self, row: int) -> tuple[int, float]:
        s = int(np.argmax(self.probs[row]))
        return s, float(self.probs[row, s])

    def in_scope(self, row: int) -> tuple[int, float]:
        """The unit's best scenario and its in-scope probability: 0 when every scenario is vetoed or the best is
        under the floor."""
        s, p = self.best(row)
        if not clears_floor(p, self.floor):
            return s, 0.0
        return s, (p if self.scope is None else float(self.scope[row]))

    def intents(self, ids: list[int], clauses: list[str], text: str) -> tuple[list[tuple[str, int, int]], list[str]]:
        """(clause, unit row, scenario) of each intent that matches, and the clauses that match nothing. A
        request split into several clauses falls back on the whole request when no clause matches alone."""
        intents: list[tuple[str, int, int]] = []
        unmatched: list[str] = []
        if len(clauses) > 1:
            from continuous.planner import language
            from continuous.planner.rules import _raise

            best = [self.in_scope(row) for row in ids[1:]]
            # once one clause is planned, the request is about the repository: its other clauses count more
            sure = [p >= self.threshold for _s, p in best]
            odds = language.lang().boost.get("sibling_clause", 1.0)
            for i, (clause, row) in enumerate(zip(clauses, ids[1:], strict=True)):
                s, p = best[i]
                if not sure[i] and any(sure[:i] + sure[i + 1 :]):
                    p = _raise(p, odds)
                if p >= self.threshold:
                    intents.append((clause, row, s))
                else:
                    unmatched.append(clause)
            if not intents:
                s, p = self.in_scope(ids[0])
                if p >= self.threshold:
                    intents, unmatched = [(text, ids[0], s)], []
        else:
            s, p = self.in_scope(ids[0])
            if p >= self.threshold:
                intents.append((text, ids[0], s))
            else:
                unmatched.append(text)
        return intents, unmatched


def _head_kind(ctx: Context, sid: str) -> str | None:
    from continuous.planner.slots import head_kind

    sc = ctx.rule_base.scenarios.get(sid)
    return head_kind(sc, ctx.conventions) if sc is not None else None


@dataclass
class Parts:
    """What --explain shows of a ranking: the pair features by name, the corrected texts, and per (text,
    scenario) the document the embedding found closest."""

    parts: dict[str, np.ndarray]
    corrected: list[str]
    best_doc: np.ndarray


def rank_units(ctx: Context, units: list[tuple[str, str]]) -> Ranking:
    """`units` are (text, masked text): the model reads the masked text, typo-corrected (names of existing
    objects replaced by their kind); the rules read it too."""
    from continuous.planner import embedding, features, rules
    from continuous.planner.scoring import correct

    index = ctx.index
    texts = [correct(masked, index) for _text, masked in units]
    emb = embedding.encoder().encode([features.model_text(t) for t in texts])
    lex = features.lexical(texts)
    pair = features.pairwise(index, texts, emb)
    probs, proba_a = index.model.predict_both(emb, lex, pair)
    head_kinds = [_head_kind(ctx, sid) for sid in index.scenario_ids]
    originals = [text for text, _masked in units]
    rules.boost(originals, probs, index, ctx.repo, head_kinds)
    parts_of = rules.part_kinds(ctx.rule_base, index.scenario_ids, ctx.conventions)
    moved = rules.stored_on_existing(originals, probs, index, ctx.repo, head_kinds, parts_of)
    unvetoed = probs.copy()
    vetoed = [m + v for m, v in zip(moved, rules.apply(texts, probs, index), strict=True)]
    sims = emb @ index.emb.T
    best_doc = np.zeros(probs.shape, dtype=np.int32)
    for s in range(len(index.scenario_ids)):
        docs = index.scenario_docs(s)
        if len(docs):
            best_doc[:, s] = docs[sims[:, docs].argmax(axis=1)]
    parts = Parts({name: pair[:, :, i] for i, name in enumerate(features.PAIR_FEATURES)}, texts, best_doc)
    model = index.model
    scope = model.in_scope(probs, proba_a)
    floor = model.gate_floor if model.gated else 0.0
    return Ranking(probs, model.cut, index.scenario_ids, scope, floor, parts, vetoed, unvetoed)
