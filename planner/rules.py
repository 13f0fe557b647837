"""Rules over the intent model's choice: they may veto a scenario, never choose one on their own.

The rules are data (`[[veto]]` in language.toml):
- a request whose main verb takes something away (remove, archive, deprecate) is never planned as a scenario
  that adds or changes something, and restoring is never archiving;
- a request whose head object is one no scenario makes (an index, a SQL function, a guide, styling) has no plan;
- a revert or style commit, and a question ("does the proxy support ...?"), have no plan.
A vetoed scenario's probability becomes 0, so the request falls to the next scenario or to no match; --explain
lists what was vetoed and why.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
from continuous.planner import language
from continuous.planner.phrases import analyse

if TYPE_CHECKING:
    from continuous.planner.grounding import Repo
    from continuous.planner.index import Index


def reasons_to_veto_all(text: str, *, whole: bool = False) -> str | None:
    """Why no scenario can be meant, or None. For a `whole` request only what holds for every part of it
    counts (a revert, a question); the head object is judged per intent."""
    lx = language.lang()
    a = analyse(text)
    head = a.head.head if a.head is not None else None
    if not whole and a.verb is not None and a.verb in lx.veto_all["verb"]:
        return f"no scenario does what the verb {a.verb!r} asks"
    if not whole and head is not None and head in lx.veto_all["head"]:
        return f"the request asks for {head.replace('_', ' ')}, which no scenario makes"
    if a.commit_type is not None and a.commit_type in lx.veto_all["commit"]:
        return f"a {a.commit_type} commit changes nothing a scenario makes"
    if a.commit_scope is not None and a.commit_scope.lower() in lx.veto_all["scope"]:
        return f"the commit's scope ({a.commit_scope}) is outside what the scenarios change"
    first = re.match(r"\s*([a-z']+)", text.lower())
    if text.rstrip().endswith("?") and first and first.group(1) in lx.veto_all["question"]:
        return "a question asks for an answer, not a plan"
    return None


def boost(texts: list[str], probs: np.ndarray, index: Index, repo: Repo, head_kinds: list[str | None]) -> None:
    """Raise, in place, the scenarios whose kind of object the head phrase of a text names as an existing one."""
    strength = language.lang().boost.get("grounded_head", 0.0)
    if not strength:
        return
    for r, text in enumerate(texts):
        head = analyse(text).head
        if head is None:
            continue
        # the name must be the thing asked for, not a word before it ("a new vite app" is an app)
        tail = re.findall(r"[A-Za-z0-9@./_-]+", text[head.start : head.end])
        last = tail[-1].lower() if tail else ""
        kinds = {
            m.kind
            for m in repo.mentioned(text)
            if head.start <= m.start and m.end <= head.end and text[m.start : m.end].lower().endswith(last)
        }
        for s, kind in enumerate(head_kinds):
            if kind in kinds and probs[r, s] > 0:
                probs[r, s] += (1.0 - probs[r, s]) * strength


def apply(texts: list[str], probs: np.ndarray, index: Index) -> list[list[tuple[str, str]]]:
    """Veto in place; for each text, the (scenario, why) it vetoed."""
    from continuous.planner.features import scenario_words

    words = scenario_words(index)
    vetoes = language.lang().vetoes
    out: list[list[tuple[str, str]]] = []
    for r, text in enumerate(texts):
        done: list[tuple[str, str]] = []
        everything = reasons_to_veto_all(text)
        if everything is not None:
            done = [(index.scenario_ids[s], everything) for s in np.flatnonzero(probs[r] > 0)[:3]]
            probs[r, :] = 0.0
            out.append(done)
            continue
        a = analyse(text)
        qpol = language.polarity(a.verb)
        if qpol is not None:
            for s, sw in enumerate(words):
                if (qpol, sw.polarity) in vetoes:
                    if probs[r, s] > 0:
                        why = f"the request's verb ({a.verb}) is {qpol}, the scenario is {sw.polarity}"
                        done.append((index.scenario_ids[s], why))
                    probs[r, s] = 0.0
        out.append(done)
    return out
