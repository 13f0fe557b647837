"""`--explain`: why each scenario is in the plan.

For a requested item: the part of the request it answers, its probability and the channel features behind it,
the words the lexical channel matched, the library text the embedding found closest, the phrase roles the
request was read with, and where each parameter value came from. For a dependency: the edge that pulled it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from continuous.planner import language
from continuous.planner.phrases import analyse
from continuous.planner.result import (
    ClauseAnalysis,
    Explanation,
    ItemExplanation,
    PhraseInfo,
    ScoredMatch,
    ScoreParts,
    Veto,
)

if TYPE_CHECKING:
    from continuous.planner.ranking import Ranking
    from continuous.planner.suggest import Context


def _parts(row: int, s: int, ranking: Ranking) -> ScoreParts:
    parts = getattr(ranking.parts, "parts", None) or {}
    return ScoreParts(
        probability=round(ranking.score(row, s), 4),
        features={name: round(float(arr[row, s]), 4) for name, arr in parts.items()},
    )


def _words(row: int, s: int, ranking: Ranking, ctx: Context) -> dict[str, Any]:
    index = ctx.index
    corrected = getattr(ranking.parts, "corrected", None)
    text = corrected[row] if corrected else ""
    docs = index.scenario_docs(s)
    expanded = language.expand(text)
    word_scores = index.word.scores([expanded])[0][docs]
    best_word_doc = int(docs[int(word_scores.argmax())])
    stop = language.words("stopwords")
    matched = [
        t for t in index.word.matched_terms(expanded, best_word_doc, limit=12) if not all(w in stop for w in t.split())
    ][:8]
    best_doc = getattr(ranking.parts, "best_doc", None)
    doc = int(best_doc[row, s]) if best_doc is not None else int(docs[0])
    a = analyse(text)
    sid = index.scenario_ids[s]
    sc = ctx.rule_base.scenarios.get(sid)
    sv, so = language.canonical_words(sid, sc.aliases if sc else ())
    return {
        "matched_words": matched,
        "closest_example": {"kind": index.doc_kind[doc], "text": index.doc_text[doc]},
        "verbs": sorted({a.verb} & sv) if a.verb else [],
        "objects": sorted(set(a.object_weights()) & so),
    }


def explanation(
    text: str,
    clauses: Sequence[Any],
    subject: str | None,
    items: Sequence[Any],
    filled_by: dict[str, Any],
    ids: list[int],
    ranking: Ranking,
    ctx: Context,
    top: int,
) -> Explanation:
    out_items: list[ItemExplanation] = []
    for i, item in enumerate(items):
        entry: dict[str, Any] = {"step": i + 1, "scenario": item.scenario, "role": item.role}
        if item.after:
            entry["after"] = [f"{j + 1}. {items[j].scenario}" for j in item.after]
        info = filled_by.get(item.scenario) if item.role == "requested" else None
        if info is not None:
            clause, filled, row, s = info
            entry["clause"] = clause
            entry["score"] = _parts(row, s, ranking)
            entry.update(_words(row, s, ranking, ctx))
            entry["param_sources"] = {
                k: src.source + (" (guessed)" if src.guessed else "") for k, src in filled.sources.items()
            }
        else:
            entry["edge"] = item.reason
        if item.missing:
            entry["missing"] = list(item.missing)
        out_items.append(ItemExplanation(**entry))
    order = ranking.probs[ids[0]].argsort()[::-1][: max(top, 1)]
    matches = [
        ScoredMatch(scenario=ctx.index.scenario_ids[int(s)], **_parts(ids[0], int(s), ranking).model_dump())
        for s in order
    ]
    analysis = []
    for c in clauses:
        a = analyse(c.text)
        analysis.append(
            ClauseAnalysis(
                clause=c.text,
                verb=a.verb,
                phrases=[PhraseInfo(role=p.role, text=p.text, object=p.head) for p in a.phrases],
            )
        )
    vetoed = [Veto(scenario=sid, why=why) for sid, why in (ranking.vetoed[ids[0]] if ranking.vetoed else [])]
    units = [text] + ([c.text for c in clauses] if len(ids) > 1 else [])
    return Explanation(
        threshold=ranking.threshold,
        gated=ranking.scope is not None and ctx.index.model.gated,
        in_scope={unit: round(ranking.in_scope(row)[1], 4) for unit, row in zip(units, ids, strict=False)},
        subject=subject,
        clauses=[c.text for c in clauses],
        items=out_items,
        matches=matches,
        analysis=analysis,
        vetoed=vetoed,
    )


def render(ex: Explanation) -> str:
    """A readable explanation for the terminal."""
    score = "in-scope probability" if ex.gated else "best probability"
    limit = "gate threshold" if ex.gated else "no-match threshold"
    scores = "; ".join(f'{p:.3f} for "{unit}"' for unit, p in ex.in_scope.items())
    lines = [f"{score} {scores} ({limit} {ex.threshold:.3f}); intents: " + " | ".join(ex.clauses)]
    if ex.subject:
        lines.append(f"subject: {ex.subject}")
    for a in ex.analysis:
        roles = "; ".join(f"{p.role} {p.text!r}" for p in a.phrases)
        lines.append(f'read "{a.clause}" as: verb {a.verb or "-"}; {roles}')
    for item in ex.items:
        head = f"{item.step}. {item.scenario} ({item.role})"
        if item.score is not None:
            feats = item.score.features
            parts = ", ".join(f"{k} {v:.2f}" for k, v in feats.items())
            lines.append(f"{head}: probability {item.score.probability:.3f}" + (f" ({parts})" if parts else ""))
            lines.append(f'     for: "{item.clause}"')
            if item.matched_words:
                lines.append(f"     matched words: {', '.join(item.matched_words)}")
            if item.verbs or item.objects:
                lines.append(f"     verb/object: {', '.join(item.verbs + item.objects)}")
            if item.closest_example:
                lines.append(f'     closest {item.closest_example["kind"]}: "{item.closest_example["text"]}"')
            for name, src in item.param_sources.items():
                lines.append(f"     {name}: {src}")
        else:
            lines.append(f"{head}: {item.edge or ''}")
        if item.after:
            lines.append(f"     runs after: {', '.join(item.after)}")
        if item.missing:
            lines.append(f"     missing: {', '.join(item.missing)}")
    for v in ex.vetoed:
        lines.append(f"vetoed {v.scenario}: {v.why}")
    return "\n".join(lines)
