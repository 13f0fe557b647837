"""`--explain`: why each scenario is in the plan.

For a requested item: the part of the request it answers, the score of each channel with its weight, the
words the
lexical channels matched, the library document the embedding found closest, the verbs/objects the structural
channel recognised and where each parameter value came from. For a dependency: the edge that pulled it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from continuous.planner import lexicon
from continuous.planner.scoring import WEIGHTS, structure

if TYPE_CHECKING:
    from continuous.planner.suggest import Context


def _parts(row: int, s: int, scores: Any) -> dict[str, Any]:
    parts = {name: round(float(arr[row, s]), 4) for name, arr in scores.parts.items()}
    return {"total": round(float(scores.total[row, s]), 4), "parts": parts, "weights": dict(WEIGHTS)}


def _words(row: int, s: int, scores: Any, ctx: Context) -> dict[str, Any]:
    index = ctx.index
    text = scores.corrected[row]
    docs = index.scenario_docs(s)
    expanded = lexicon.expand(text)
    word_scores = index.word.scores([expanded])[0][docs]
    best_word_doc = int(docs[int(word_scores.argmax())])
    words = [
        t
        for t in index.word.matched_terms(expanded, best_word_doc, limit=12)
        if not all(w in lexicon.STOPWORDS for w in t.split())
    ][:8]
    doc = int(scores.best_doc[row, s])
    sid = index.scenario_ids[s]
    sc = ctx.rule_base.scenarios.get(sid)
    qv, qo = structure(text)
    sv, so = lexicon.canonical_words(sid, sc.aliases if sc else ())
    return {
        "matched_words": words,
        "closest_example": {"kind": index.doc_kind[doc], "text": index.doc_text[doc]},
        "verbs": sorted(qv & sv),
        "objects": sorted(set(qo) & so),
        "corrected": text if text != "" else None,
    }


def explain_item(
    i: int, item: Any, items: Sequence[Any], info: dict[str, Any] | None, scores: Any, ctx: Context
) -> dict[str, Any]:
    out: dict[str, Any] = {"step": i + 1, "scenario": item.scenario, "role": item.role}
    if item.after:
        out["after"] = [f"{j + 1}. {items[j].scenario}" for j in item.after]
    if info is not None:
        row, s = info["row"], info["s"]
        out["clause"] = info["clause"]
        out["score"] = _parts(row, s, scores)
        out.update(_words(row, s, scores, ctx))
        out["param_sources"] = dict(info["filled"].sources)
    else:
        out["edge"] = item.reason
    if item.missing:
        out["missing"] = list(item.missing)
    return out


def explain_matches(row: int, scores: Any, ctx: Context, top: int) -> list[dict[str, Any]]:
    order = scores.total[row].argsort()[::-1][: max(top, 1)]
    return [{"scenario": ctx.index.scenario_ids[int(s)], **_parts(row, int(s), scores)} for s in order]


def render(result: dict[str, Any]) -> str:
    """A readable explanation for the terminal."""
    ex = result.get("explain") or {}
    lines = [f"threshold {ex.get('threshold', 0):.3f}; intents: " + " | ".join(ex.get("clauses", []))]
    if ex.get("subject"):
        lines.append(f"subject: {ex['subject']}")
    for item in ex.get("items", []):
        head = f"{item['step']}. {item['scenario']} ({item['role']})"
        if "score" in item:
            sc = item["score"]
            parts = ", ".join(f"{k} {v:.2f}×{sc['weights'][k]}" for k, v in sc["parts"].items())
            lines.append(f"{head}: score {sc['total']:.3f} = {parts}")
            lines.append(f'     for: "{item["clause"]}"')
            if item.get("matched_words"):
                lines.append(f"     matched words: {', '.join(item['matched_words'])}")
            if item.get("verbs") or item.get("objects"):
                lines.append(
                    f"     verb/object: {', '.join(item.get('verbs', []) + item.get('objects', []))}"
                )
            lines.append(
                f'     closest {item["closest_example"]["kind"]}: "{item["closest_example"]["text"]}"'
            )
            for name, src in item.get("param_sources", {}).items():
                lines.append(f"     {name}: {src}")
        else:
            lines.append(f"{head}: {item.get('edge', '')}")
        if item.get("after"):
            lines.append(f"     runs after: {', '.join(item['after'])}")
        if item.get("missing"):
            lines.append(f"     missing: {', '.join(item['missing'])}")
    return "\n".join(lines)
