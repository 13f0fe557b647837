"""What the rules would have run after a requested step that already holds, and why each is done as well.

A requested scenario whose `unless` holds is left out of the plan. Its follow-up steps (`rule ... then run X`) then
never fire, so the user would see "modify-schema already holds" and nothing about the types merge that follows
every schema change. Here the step's provided facts are matched against each rule's positive conditions (with the
repository's facts) and its `not` conditions: a run that a `not` condition blocks because what it would provide is
already there (`not types_current(table: ?t, column: ?c)`) is done too, and is reported with that reason. A run no
`not` condition blocks is not reported: the resolver never plans work for a step it left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from continuous.dsl.model import FactPattern, RuleBase, RunAction, Scalar, Var
from continuous.engine.dsl_rules import norm, term_value
from continuous.engine.facts import Fact, FactSet


def _bind(pattern: FactPattern, fact: Fact, bindings: Mapping[str, Scalar]) -> dict[str, Scalar] | None:
    out = dict(bindings)
    for name, term in pattern.fields.items():
        if name not in fact.fields:
            return None
        value = norm(fact.fields[name])
        if isinstance(term, Var):
            if term.var in out and out[term.var] != value:
                return None
            out[term.var] = value
        elif norm(term.value) != value:
            return None
    return out


def _fixed(pattern: FactPattern, bindings: Mapping[str, Scalar]) -> dict[str, Scalar]:
    fixed: dict[str, Scalar] = {}
    for name, term in pattern.fields.items():
        if isinstance(term, Var):
            if term.var in bindings:
                fixed[name] = bindings[term.var]
        else:
            fixed[name] = norm(term.value)
    return fixed


def _matches(
    patterns: Sequence[FactPattern], bindings: dict[str, Scalar], fact_sets: Sequence[FactSet]
) -> Iterator[dict[str, Scalar]]:
    if not patterns:
        yield bindings
        return
    first, rest = patterns[0], patterns[1:]
    fixed = _fixed(first, bindings)
    seen: set[object] = set()
    for facts in fact_sets:
        for fact in facts.match(first.type, fixed):
            if fact.key() in seen:
                continue
            seen.add(fact.key())
            bound = _bind(first, fact, bindings)
            if bound is not None:
                yield from _matches(rest, bound, fact_sets)


def _described(pattern: FactPattern, bindings: Mapping[str, Scalar]) -> str:
    fields = _fixed(pattern, bindings)
    return f"{pattern.type}(" + ", ".join(f"{k}={v}" for k, v in fields.items()) + ")"


def held_consequences(
    rule_base: RuleBase, new_facts: Sequence[Fact], fact_sets: Sequence[FactSet]
) -> list[tuple[str, str, dict[str, Scalar], str]]:
    """(rule id, scenario, parameters, why it is done) of each run that `new_facts` would trigger but that a `not`
    condition of its rule blocks in `fact_sets`; each distinct run once, in rule order."""
    arriving = FactSet(new_facts)
    every = [arriving, *fact_sets]
    out: list[tuple[str, str, dict[str, Scalar], str]] = []
    seen: set[tuple[str, tuple[tuple[str, Scalar], ...]]] = set()
    for rule in sorted(rule_base.rules.values(), key=lambda r: r.id):
        runs = [a for a in rule.actions if isinstance(a, RunAction)]
        positive = [c for c in rule.conditions if not c.negated]
        negated = [c for c in rule.conditions if c.negated]
        if not runs or not negated:
            continue
        for i, trigger in enumerate(positive):
            for fact in arriving.match(trigger.type, _fixed(trigger, {})):
                start = _bind(trigger, fact, {})
                if start is None:
                    continue
                for bindings in _matches(positive[:i] + positive[i + 1 :], start, every):
                    blocking = next(
                        (n for n in negated if any(fs.holds(n.type, _fixed(n, bindings)) for fs in every)), None
                    )
                    if blocking is None:
                        continue
                    for run in runs:
                        if any(isinstance(t, Var) and t.var not in bindings for t in run.bindings.values()):
                            continue
                        params = {k: term_value(t, bindings) for k, t in run.bindings.items()}
                        key = (run.scenario, tuple(sorted(params.items())))
                        if key in seen:
                            continue
                        seen.add(key)
                        out.append((rule.id, run.scenario, params, f"{_described(blocking, bindings)} already holds"))
    return out
