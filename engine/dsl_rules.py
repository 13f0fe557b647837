"""The DSL's `rule` blocks, compiled into the Rete core.

`when` patterns become core patterns (`?x` variables, constants, `not`), salience carries over, and the
actions are interpreted: `assert` and `retract` change working memory (so rules chain), `run` and `task` are
collected for the caller — the resolver turns runs into plan items, the executor turns tasks into tracked
tasks. String values in rules are constants (templates are rendered only in scenario contexts); task titles
may mention `{{ var }}`.

Values are matched the way `FactSet` matches them: the port 3000 and the text "3000" are the same value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from continuous.common.errors import UserError
from continuous.dsl.model import (
    AssertAction,
    FactPattern,
    Model,
    RetractAction,
    Rule,
    RuleBase,
    RunAction,
    Scalar,
    TaskAction,
    Term,
    Var,
)
from continuous.engine.facts import Fact
from continuous.engine.rete import WME, Activation, Engine, Pattern, Strategy, V
from pydantic import Field

MAX_FIRINGS = 100_000


class RuleRun(Model):
    """A `then run scenario(...)` that fired: rule, scenario, parameters and the fact that triggered it."""

    rule_id: str
    scenario: str
    params: dict[str, Scalar] = Field(default_factory=dict)
    trigger: Fact


class RuleTask(Model):
    rule_id: str
    title: str
    trigger: Fact


class RuleOutcome(Model):
    """What running the rules to a fixpoint did: facts rules added and removed, runs and tasks requested."""

    asserted: list[Fact] = Field(default_factory=list)
    retracted: list[Fact] = Field(default_factory=list)
    runs: list[RuleRun] = Field(default_factory=list)
    tasks: list[RuleTask] = Field(default_factory=list)
    firings: int = 0


def norm(value: Scalar) -> Scalar:
    """The matching form of a value (ints as text, like `FactSet`), so discovered and provided facts agree."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value


def compile_pattern(pattern: FactPattern) -> Pattern:
    fields: dict[str, Any] = {}
    for name, term in pattern.fields.items():
        fields[name] = V(term.var) if isinstance(term, Var) else norm(term.value)
    return Pattern(pattern.type, fields, negated=pattern.negated)


@dataclass(frozen=True)
class Checkpoint:
    """Where a settled `RuleSession` was (see `RuleSession.checkpoint`)."""

    tag: int
    size: int
    asserted: int
    retracted: int
    runs: int
    tasks: int
    seen: frozenset[tuple[str, str, tuple[tuple[str, Scalar], ...]]]
    firings: int
    collect: bool


def read_types(rule_base: RuleBase) -> frozenset[str]:
    """The fact types some rule's condition reads: a fact of another type can never match."""
    return frozenset(c.type for rule in rule_base.rules.values() for c in rule.conditions)


class RuleSession:
    """One engine loaded with a rule base's rules; facts go in, runs, tasks and fact changes come out."""

    def __init__(self, rule_base: RuleBase, *, strategy: Strategy = "depth") -> None:
        self.engine = Engine(strategy=strategy)
        self.origin: dict[WME, Fact] = {}
        self.asserted: list[Fact] = []
        self.retracted: list[Fact] = []
        self.runs: list[RuleRun] = []
        self.tasks: list[RuleTask] = []
        self.firings = 0
        # False while settling over facts that are already there: runs are only remembered, not reported
        self.collect = True
        self._seen_runs: set[tuple[str, str, tuple[tuple[str, Scalar], ...]]] = set()
        for rule in sorted(rule_base.rules.values(), key=lambda r: r.id):
            self.engine.add_rule(
                rule.id,
                [compile_pattern(p) for p in rule.conditions],
                self._action(rule),
                salience=rule.salience,
            )

    @classmethod
    def settled(cls, rule_base: RuleBase, facts: Iterable[Fact]) -> RuleSession:
        """A session whose rules have settled over `facts`, facts that are already there: what the rules would ask
        for over them is remembered as done, not reported; what fires from facts added next is."""
        session = cls(rule_base)
        session.collect = False
        for fact in facts:
            session.add(fact)
        session.run()
        session.collect = True
        return session

    def add(self, fact: Fact) -> WME | None:
        wme = self.engine.assert_fact(fact.type, {k: norm(v) for k, v in fact.fields.items()})
        if wme is not None:
            self.origin[wme] = fact
        return wme

    def run(self) -> int:
        fired = self.engine.run(limit=MAX_FIRINGS)
        if fired >= MAX_FIRINGS:
            raise UserError(
                f"the rules did not settle after {MAX_FIRINGS} firings; a rule probably asserts facts "
                "that re-trigger it (check `assert`/`retract` actions for a loop)"
            )
        self.firings += fired
        return fired

    def checkpoint(self) -> Checkpoint:
        """A mark to come back to with `rollback`; take it when the session is settled (after `run`)."""
        return Checkpoint(
            tag=self.engine.last_tag,
            size=len(self.engine),
            asserted=len(self.asserted),
            retracted=len(self.retracted),
            runs=len(self.runs),
            tasks=len(self.tasks),
            seen=frozenset(self._seen_runs),
            firings=self.firings,
            collect=self.collect,
        )

    def rollback(self, mark: Checkpoint) -> bool:
        """Back to `mark`: the facts added since are retracted and what fired since is forgotten. False when
        that cannot restore the session (a rule retracted a fact that was there at the mark): do not reuse it."""
        self.engine.retract_since(mark.tag)
        del self.asserted[mark.asserted :]
        del self.retracted[mark.retracted :]
        del self.runs[mark.runs :]
        del self.tasks[mark.tasks :]
        self._seen_runs = set(mark.seen)
        self.firings = mark.firings
        self.collect = mark.collect
        self.origin = {w: f for w, f in self.origin.items() if w.alive}
        return len(self.engine) == mark.size

    def outcome(self) -> RuleOutcome:
        return RuleOutcome(
            asserted=list(self.asserted),
            retracted=list(self.retracted),
            runs=list(self.runs),
            tasks=list(self.tasks),
            firings=self.firings,
        )

    def _fact(self, wme: WME) -> Fact:
        fact = self.origin.get(wme)
        if fact is None:
            fact = Fact(type=wme.type, fields=dict(wme.fields))
            self.origin[wme] = fact
        return fact

    def _action(self, rule: Rule) -> Any:
        def fire(act: Activation) -> None:
            bindings = act.bindings
            newest = max(act.facts, key=lambda w: w.tag)
            for action in rule.actions:
                if isinstance(action, RunAction):
                    params = {k: term_value(t, bindings) for k, t in action.bindings.items()}
                    key = (rule.id, action.scenario, tuple(sorted(params.items(), key=lambda kv: kv[0])))
                    if not self.collect:
                        self._seen_runs.add(key)
                    elif key not in self._seen_runs:
                        trigger = self._fact(newest)
                        self._seen_runs.add(key)
                        self.runs.append(
                            RuleRun(rule_id=rule.id, scenario=action.scenario, params=params, trigger=trigger)
                        )
                elif isinstance(action, AssertAction):
                    fields = {k: term_value(t, bindings) for k, t in action.pattern.fields.items()}
                    fact = Fact(type=action.pattern.type, fields=fields, source=f"rule:{rule.id}")
                    if self.add(fact) is not None:
                        self.asserted.append(fact)
                elif isinstance(action, RetractAction):
                    fields = {k: term_value(t, bindings) for k, t in action.pattern.fields.items()}
                    for wme in self.engine.facts(action.pattern.type):
                        if all(wme.fields.get(k) == v for k, v in fields.items()) and self.engine.retract(wme):
                            self.retracted.append(self._fact(wme))
                elif isinstance(action, TaskAction) and self.collect:
                    trigger = self._fact(newest)
                    self.tasks.append(RuleTask(rule_id=rule.id, title=_title(action.title, bindings), trigger=trigger))

        return fire


def term_value(term: Term, bindings: Mapping[str, Scalar]) -> Scalar:
    if isinstance(term, Var):
        return bindings[term.var]
    return norm(term.value)


def _title(title: str, bindings: Mapping[str, Scalar]) -> str:
    if "{{" not in title:
        return title
    from continuous.dsl.templating import render_string

    try:
        return render_string(title, bindings, where="task title")
    except UserError:
        return title


def run_rules(rule_base: RuleBase, facts: Iterable[Fact]) -> RuleOutcome:
    """Run every rule of the rule base over the facts to a fixpoint."""
    session = RuleSession(rule_base)
    for fact in facts:
        session.add(fact)
    session.run()
    return session.outcome()


def derive_runs(rule_base: RuleBase, facts: Iterable[Fact], new_facts: Iterable[Fact]) -> list[RuleRun]:
    """The `run` actions that fire because `new_facts` arrive on top of `facts`.

    The rules first settle over `facts` (what they would ask for is taken as already done), then the new facts
    are added and only what fires from then on is returned — in firing order, each distinct run once.
    """
    if not rule_base.rules:
        return []
    session = RuleSession.settled(rule_base, facts)
    for fact in new_facts:
        session.add(fact)
    session.run()
    return session.runs
