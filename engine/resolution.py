"""The one dependency resolver: requested scenarios → an ordered, deduplicated, dependency-complete plan.

Both the planner (`continuous suggest`) and the executor (`run-scenario`, `run-plan`, the Python API) call `resolve`,
so what a suggestion promises is exactly what a run does. Expansion is depth-first: a scenario is placed after
everything it requires (post-order gives a topological order), rule consequences (`rule ... then run X`) are placed
after the scenario whose provided facts triggered them, and a scenario whose `unless` condition already holds — in the
repository or through an earlier plan item — is left out with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from continuous.common.errors import UserError
from continuous.dsl.model import Dependency, FactPattern, Model, RuleBase, Scalar, Scenario, Term, Value, Var
from continuous.dsl.params import bind_params
from continuous.dsl.suggest import closest
from continuous.dsl.templating import builtin_context, referenced_variables, render_string
from continuous.engine.facts import Fact, FactSet
from pydantic import Field

Role = Literal["requested", "dependency"]


class PlanRequest(Model):
    scenario: str
    params: dict[str, Scalar] = Field(default_factory=dict)
    reason: str = "requested"


class PlanItem(Model):
    scenario: str
    params: dict[str, Scalar]
    role: Role
    reason: str
    after: tuple[int, ...] = ()
    group: int = 0
    missing: tuple[str, ...] = ()


class SkippedItem(Model):
    scenario: str
    params: dict[str, Scalar]
    reason: str


class Resolution(Model):
    items: tuple[PlanItem, ...]
    skipped: tuple[SkippedItem, ...] = ()

    @property
    def missing(self) -> dict[int, tuple[str, ...]]:
        return {i: item.missing for i, item in enumerate(self.items) if item.missing}

    def groups(self) -> list[list[int]]:
        """Independent branches: items that share no dependency edge, directly or transitively."""
        out: dict[int, list[int]] = {}
        for i, item in enumerate(self.items):
            out.setdefault(item.group, []).append(i)
        return list(out.values())


_Key = tuple[str, tuple[tuple[str, str], ...]]
_MAX_ITEMS = 5000


def _key(scenario_id: str, params: Mapping[str, Scalar]) -> _Key:
    return (scenario_id, tuple(sorted((k, repr(v)) for k, v in params.items())))


def render_pattern(pattern: FactPattern, context: Mapping[str, Any]) -> tuple[str, dict[str, Scalar]] | None:
    """A fact pattern with its templates rendered; None if it mentions a parameter that has no value."""
    fields: dict[str, Scalar] = {}
    for name, term in pattern.fields.items():
        value = _term_value(term, context)
        if value is None:
            return None
        fields[name] = value
    return pattern.type, fields


def _term_value(term: Term, context: Mapping[str, Any]) -> Scalar | None:
    if isinstance(term, Var):
        value = context.get(term.var)
        return value if isinstance(value, str | int | bool) else None
    assert isinstance(term, Value)
    if isinstance(term.value, str):
        try:
            return render_string(term.value, context)
        except UserError:
            return None
    return term.value


def provided_facts(scenario: Scenario, params: Mapping[str, Scalar]) -> list[Fact]:
    """The facts a scenario will provide when it succeeds with these parameters."""
    context = {**builtin_context(), **params}
    out = []
    for pattern in scenario.provides:
        rendered = render_pattern(pattern, context)
        if rendered is not None:
            out.append(Fact(type=rendered[0], fields=rendered[1], source=f"provides:{scenario.id}"))
    return out


def _holds(patterns: Sequence[FactPattern], context: Mapping[str, Any], *fact_sets: FactSet) -> str | None:
    """If every pattern holds (negated ones must not), a short description of why; else None."""
    if not patterns:
        return None
    described = []
    for pattern in patterns:
        rendered = render_pattern(pattern, context)
        if rendered is None:
            return None
        fact_type, fields = rendered
        found = any(fs.holds(fact_type, fields) for fs in fact_sets)
        if found == pattern.negated:
            return None
        args = ", ".join(f"{k}={v}" for k, v in fields.items())
        described.append(f"{'not ' if pattern.negated else ''}{fact_type}({args})")
    return " and ".join(described) + " already holds"


def _optional_and_unset(
    dep: Dependency,
    dep_scenario: Scenario,
    bound: Mapping[str, Scalar],
    scenario: Scenario,
    params: Mapping[str, Scalar],
) -> bool:
    """A dependency is optional when a required parameter of it is bound only to optional parameters of the
    caller that were not given: `requires create-table(name: "{{ table }}")` is not needed without a table."""
    for p in dep_scenario.params:
        term = dep.bindings.get(p.name)
        if not p.required or p.name in bound or term is None:
            continue
        if isinstance(term, Var):
            names = {term.var}
        elif isinstance(term.value, str):
            names = referenced_variables(term.value)
        else:
            continue
        caller = [scenario.param(n) for n in names]
        if names and all(
            c is not None and not c.required and c.default is None and c.name not in params for c in caller
        ):
            return True
    return False


class RuleBaseline:
    """A rule base's rules settled over one fact set, shared by many resolutions against the same facts.

    Seeding a Rete session with a repository's facts costs more than most resolutions do, and the planner resolves
    every request of a batch against the same facts. A resolution borrows the settled session, adds its own facts
    and hands it back exactly as it was (`RuleSession.rollback`); when it cannot be (a rule retracted one of the
    seeded facts), or the resolution's first facts are already among the seeded ones (a fresh session leaves those
    out, so they count as arriving), the resolution uses a session of its own, as without a baseline. Not for
    concurrent use; the fact set must not change while the baseline is in use.
    """

    def __init__(self, rule_base: RuleBase, facts: FactSet) -> None:
        from continuous.engine.dsl_rules import read_types

        self.rule_base = rule_base
        self.facts = facts
        self.read = read_types(rule_base)
        self._session: Any = None
        self._mark: Any = None
        self._seeded: set[Any] = set()
        self._size = -1
        self._busy = False

    def borrow(self, arriving: set[Any]) -> Any:
        """The settled session, or None when this resolution must seed its own."""
        if self._busy:
            return None
        if self._session is None or self._size != len(self.facts):
            from continuous.engine.dsl_rules import RuleSession

            seed = [fact for fact in self.facts if fact.type in self.read]
            session = RuleSession.settled(self.rule_base, seed)
            self._session, self._mark = session, session.checkpoint()
            self._seeded = {fact.key() for fact in seed}
            self._size = len(self.facts)
        if arriving & self._seeded:
            return None
        self._busy = True
        return self._session

    def give_back(self, session: Any, *, intact: bool) -> None:
        """Return a borrowed session; it is rolled back for the next resolution, or dropped if it cannot be."""
        self._busy = False
        if session is not self._session:
            return
        if not intact or not session.rollback(self._mark):
            self._session = None


class _Resolver:
    def __init__(
        self,
        rule_base: RuleBase,
        facts: FactSet,
        allow_missing: bool,
        follow_rules: bool,
        baseline: RuleBaseline | None = None,
    ) -> None:
        self.rb = rule_base
        self.facts = facts
        self.baseline = baseline if baseline is not None and baseline.rule_base is rule_base else None
        self.borrowed: Any = None
        self.provided = FactSet()
        self.allow_missing = allow_missing
        self.follow_rules = follow_rules
        self.items: list[dict[str, Any]] = []
        self.index: dict[_Key, int] = {}
        self.skipped: list[SkippedItem] = []
        self.skipped_keys: set[_Key] = set()
        self.stack: list[tuple[str, _Key]] = []
        self.session: Any = None  # one incremental rule session per resolution (engine.dsl_rules.RuleSession)

    def scenario(self, scenario_id: str, required_by: str | None) -> Scenario:
        scenario = self.rb.scenario(scenario_id)
        if scenario is None:
            guess = closest(scenario_id, list(self.rb.scenarios) + list(self.rb.aliases))
            where = f" (required by {required_by})" if required_by else ""
            raise UserError(
                f"unknown scenario {scenario_id!r}{where}",
                hint=f"did you mean {guess!r}?" if guess else "`continuous scenarios list` shows them all",
            )
        return scenario

    def expand(
        self,
        scenario_id: str,
        raw_params: Mapping[str, Scalar],
        role: Role,
        reason: str,
        required_by: str | None = None,
    ) -> int | None:
        scenario = self.scenario(scenario_id, required_by)
        params = bind_params(scenario, named=raw_params, allow_missing=True)
        missing = tuple(p.name for p in scenario.params if p.required and p.name not in params)
        if missing and not self.allow_missing:
            raise UserError(
                f"{scenario.id} needs parameter(s): {', '.join(missing)}"
                + (f" (required by {required_by})" if required_by else ""),
                hint="pass them by position or as --param NAME=VALUE",
            )
        key = _key(scenario.id, params)
        if key in self.index:
            existing = self.items[self.index[key]]
            if role == "requested" and existing["role"] != "requested":
                existing["role"], existing["reason"] = "requested", reason
            return self.index[key]
        on_stack = [sid for sid, _ in self.stack]
        if scenario.id in on_stack:
            cycle = on_stack[on_stack.index(scenario.id) :]
            raise UserError(
                "dependency cycle: " + " -> ".join([*cycle, scenario.id]),
                hint="remove one of the `requires` lines that close the cycle",
            )
        if len(self.items) > _MAX_ITEMS:
            raise UserError(
                f"the plan grew past {_MAX_ITEMS} items; a rule probably keeps triggering itself "
                f"(last: {scenario.id} from {reason})"
            )
        context = {**builtin_context(), **params}
        satisfied = _holds(scenario.unless, context, self.facts, self.provided)
        if satisfied:
            if key not in self.skipped_keys:
                self.skipped_keys.add(key)
                self.skipped.append(SkippedItem(scenario=scenario.id, params=params, reason=satisfied))
                if role == "requested" and self.follow_rules and self.rb.rules:
                    self._held_consequences(scenario, params)
            return None
        self.stack.append((scenario.id, key))
        after: list[int] = []
        for dep in scenario.dependencies:
            bound: dict[str, Scalar] = {}
            for name, term in dep.bindings.items():
                value = _term_value(term, context)
                if value is not None:
                    bound[name] = value
            dep_scenario = self.scenario(dep.scenario, scenario.id)
            if _optional_and_unset(dep, dep_scenario, bound, scenario, params):
                continue
            dep_params = bind_params(dep_scenario, named=bound, allow_missing=True)
            dep_context = {**builtin_context(), **dep_params, **params}
            why = _holds(dep.unless, dep_context, self.facts, self.provided)
            if why:
                dkey = _key(dep_scenario.id, dep_params)
                if dkey not in self.skipped_keys and dkey not in self.index:
                    self.skipped_keys.add(dkey)
                    self.skipped.append(
                        SkippedItem(
                            scenario=dep_scenario.id,
                            params=dep_params,
                            reason=f"not needed by {scenario.id}: {why}",
                        )
                    )
                continue
            idx = self.expand(dep.scenario, bound, "dependency", f"required by {scenario.id}", scenario.id)
            if idx is not None:
                after.append(idx)
        self.stack.pop()
        position = len(self.items)
        self.items.append(
            {
                "scenario": scenario.id,
                "params": params,
                "role": role,
                "reason": reason,
                "after": tuple(sorted(set(after))),
                "missing": missing,
            }
        )
        self.index[key] = position
        new_facts = provided_facts(scenario, params)
        for fact in new_facts:
            self.provided.add(fact)
        if self.follow_rules and new_facts and self.rb.rules:
            self._consequences(scenario, position, new_facts)
        return position

    def _held_consequences(self, scenario: Scenario, params: Mapping[str, Scalar]) -> None:
        """The follow-up steps of a requested step that already holds, each reported with why it is done too
        (`engine.held_consequences`): "the column exists" alone would hide that the types merge is not needed
        either."""
        from continuous.engine.held_consequences import held_consequences

        new_facts = provided_facts(scenario, params)
        for _rule_id, sid, run_params, why in held_consequences(self.rb, new_facts, [self.facts, self.provided]):
            target = self.rb.scenario(sid)
            if target is None or target.id == scenario.id:
                continue
            bound = bind_params(target, named=run_params, allow_missing=True)
            key = _key(target.id, bound)
            if key in self.skipped_keys or key in self.index:
                continue
            self.skipped_keys.add(key)
            self.skipped.append(
                SkippedItem(
                    scenario=target.id, params=bound, reason=f"follows {scenario.id}, which already holds: {why}"
                )
            )

    def _new_runs(self, new_facts: list[Fact]) -> list[Any]:
        """Rule runs that fire because `new_facts` arrive: one Rete session is fed incrementally for the whole
        resolution; what the rules would ask for over the repository's own facts counts as already done."""
        from continuous.engine.dsl_rules import RuleSession, read_types

        if self.session is None and self.baseline is not None and self.baseline.facts is self.facts:
            arriving = {f.key() for f in new_facts}
            read = self.baseline.read
            if all(f.key() in arriving for f in self.provided if f.type in read):
                self.session = self.borrowed = self.baseline.borrow(arriving)
        if self.session is None:
            arriving = {f.key() for f in new_facts}
            # a fact of a type no rule reads can never match: the session is seeded with the others only
            read = self.baseline.read if self.baseline is not None else read_types(self.rb)
            seed = [f for f in [*self.facts, *self.provided] if f.type in read and f.key() not in arriving]
            self.session = RuleSession.settled(self.rb, seed)
        start = len(self.session.runs)
        for fact in new_facts:
            self.session.add(fact)
        self.session.run()
        return list(self.session.runs[start:])

    def _consequences(self, scenario: Scenario, position: int, new_facts: list[Fact]) -> None:
        for run in self._new_runs(new_facts):
            target = self.rb.scenario(run.scenario)
            if target is None:
                raise UserError(f"rule {run.rule_id} runs unknown scenario {run.scenario!r}")
            if target.id == scenario.id:
                continue
            idx = self.expand(
                run.scenario,
                run.params,
                "dependency",
                f"rule {run.rule_id}: follows {scenario.id}",
                scenario.id,
            )
            if idx is not None and idx != position:
                item = self.items[idx]
                if position not in item["after"] and idx > position:
                    item["after"] = tuple(sorted({*item["after"], position}))

    def result(self) -> Resolution:
        parent = list(range(len(self.items)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, item in enumerate(self.items):
            for j in item["after"]:
                parent[find(i)] = find(j)
        groups: dict[int, int] = {}
        items = []
        for i, item in enumerate(self.items):
            group = groups.setdefault(find(i), len(groups))
            items.append(PlanItem(group=group, **item))
        return Resolution(items=tuple(items), skipped=tuple(self.skipped))


def resolve(
    rule_base: RuleBase,
    requests: Sequence[PlanRequest],
    facts: Iterable[Fact] | FactSet = (),
    *,
    allow_missing: bool = False,
    follow_rules: bool = True,
    baseline: RuleBaseline | None = None,
) -> Resolution:
    """Expand requests into an ordered plan. Raises UserError for unknown scenarios, bad parameters and cycles.

    With `allow_missing`, required parameters without a value are reported on the item (`missing`) instead of
    raising — the planner uses this to show what the user still has to say. A `baseline` over the same `facts`
    (the same FactSet object) saves settling the rules over them again; the result is the same without it.
    """
    fact_set = facts if isinstance(facts, FactSet) else FactSet(facts)
    resolver = _Resolver(rule_base, fact_set, allow_missing, follow_rules, baseline)
    intact = False
    try:
        for request in requests:
            resolver.expand(request.scenario, request.params, "requested", request.reason)
        intact = True
    finally:
        if resolver.borrowed is not None and resolver.baseline is not None:
            resolver.baseline.give_back(resolver.borrowed, intact=intact)
    return resolver.result()


def plan_problems(
    rule_base: RuleBase, items: Sequence[tuple[str, Mapping[str, Scalar]]], facts: Iterable[Fact] | FactSet = ()
) -> list[str]:
    """Why an ordered list of (scenario, parameters) is not a plan the resolver would run today: an item whose
    `unless` already holds (it is done), or a `requires` that is needed but does not come before the item.

    The same checks as resolve() makes, applied to a given order: a saved plan that was edited (an item dropped or
    moved) or that no longer fits the repository (it was run already) fails them."""
    fact_set = facts if isinstance(facts, FactSet) else FactSet(facts)
    provided = FactSet()
    earlier: list[tuple[str, Mapping[str, Scalar]]] = []
    problems: list[str] = []
    for n, (scenario_id, params) in enumerate(items, 1):
        scenario = rule_base.scenario(scenario_id)
        if scenario is None:
            problems.append(f"item {n}: unknown scenario {scenario_id!r}")
            continue
        label = f"item {n} ({scenario.id})"
        context = {**builtin_context(), **params}
        done = _holds(scenario.unless, context, fact_set, provided)
        if done:
            problems.append(f"{label} is already done: {done}")
        for dep in scenario.dependencies:
            bound: dict[str, Scalar] = {}
            for name, term in dep.bindings.items():
                value = _term_value(term, context)
                if value is not None:
                    bound[name] = value
            dep_scenario = rule_base.scenario(dep.scenario)
            if dep_scenario is None or _optional_and_unset(dep, dep_scenario, bound, scenario, params):
                continue
            dep_params = bind_params(dep_scenario, named=bound, allow_missing=True)
            if _holds(dep.unless, {**builtin_context(), **dep_params, **params}, fact_set, provided):
                continue
            if not any(
                sid == dep_scenario.id and all(p.get(k) == v for k, v in dep_params.items()) for sid, p in earlier
            ):
                args = ", ".join(f"{k}={v}" for k, v in dep_params.items() if v != "")
                problems.append(f"{label} requires {dep_scenario.id}({args}), which does not come before it")
        earlier.append((scenario.id, params))
        for fact in provided_facts(scenario, params):
            provided.add(fact)
    return problems
