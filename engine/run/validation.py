"""Validations: what a scenario checks after its steps (files exist or contain a text, a command succeeds, a fact
holds), against the worktree as the run left it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from continuous.dsl import model as m
from continuous.engine import simulate
from continuous.engine import steps as st
from continuous.engine.facts import FactSet

if TYPE_CHECKING:
    from continuous.engine.run.state import RunStateBase


def check_validation(state: RunStateBase, v: m.Validation, ctx: st.StepContext) -> str:
    """Check one validation against the worktree as the run left it; StepError says what does not hold."""
    if isinstance(v, m.FileExists):
        found = simulate.glob_files(state.root, ctx.render(v.glob, "validation glob"))
        if not found:
            raise st.StepError(f"no file matches {ctx.render(v.glob, 'validation glob')}")
        return f"found {', '.join(found[:5])}"
    if isinstance(v, m.FileContains):
        pattern = ctx.render(v.glob, "validation glob")
        text = ctx.render(v.text, "validation text")
        found = simulate.glob_files(state.root, pattern)
        if not found and not v.negated:
            raise st.StepError(f"no file matches {pattern}")
        bad = [
            p for p in found if (text in (state.root / p).read_text(encoding="utf-8", errors="replace")) == v.negated
        ]
        if bad:
            raise st.StepError(f"{bad[0]} {'contains' if v.negated else 'does not contain'} {text!r}")
        return f"{len(found)} file(s) {'lack' if v.negated else 'contain'} {text!r}"
    if isinstance(v, m.CommandSucceeds):
        return st.run_step(v, ctx, "validation").output
    if isinstance(v, m.FactHolds):
        from continuous.engine.resolution import render_pattern

        rendered = render_pattern(v.pattern, ctx.variables)
        if rendered is None:
            raise st.StepError(f"cannot render fact pattern {v.pattern.type}")
        fact_type, fields = rendered
        declared = any(d.fact_type == fact_type for d in state.ex.rule_base.discovers)
        fresh = FactSet(state.ex.facts())
        state._facts = None
        holds = fresh.holds(fact_type, fields) if declared else state.fact_set().holds(fact_type, fields)
        if holds == v.pattern.negated:
            args = ", ".join(f"{k}: {val!r}" for k, val in fields.items())
            raise st.StepError(
                f"{'unexpected' if v.pattern.negated else 'no'} fact {fact_type}({args})"
                + (" in the repository" if declared else "")
            )
        return f"fact {fact_type} holds"
    raise AssertionError(v)
