"""A settled rule session shared by many resolutions (engine.resolution.RuleBaseline) gives exactly what a fresh
session per resolution gives, whatever order the resolutions come in, and is dropped when it cannot be restored."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.dsl.loader import build_rule_base
from continuous.dsl.model import RuleBase
from continuous.engine.dsl_rules import RuleSession
from continuous.engine.facts import Fact, FactSet
from continuous.engine.resolution import PlanRequest, Resolution, RuleBaseline, resolve

LIB = """
scenario create-table {
  object database
  summary "t"
  param name: snake required position 1
  unless table(name: "{{ name }}")
  provides table(name: "{{ name }}")
}
scenario touch-table {
  object database
  summary "a table that may already be there"
  param name: snake required position 1
  provides table(name: "{{ name }}")
}
scenario generate-types {
  object database
  summary "g"
  param table: snake required
  unless types_generated(table: "{{ table }}")
  provides types_generated(table: "{{ table }}")
}
scenario create-service {
  object service
  summary "s"
  param name: kebab required position 1
  provides service(name: "{{ name }}")
  provides service_table(service: "{{ name }}", table: "{{ name | snake }}")
}
scenario add-tests {
  object infra
  summary "tests"
  param target: string required
  param kind: string default "service"
  unless tests(target: "{{ target }}")
  provides tests(target: "{{ target }}")
}
scenario assign-owner {
  object service
  summary "o"
  param service: kebab required
  param table: string default ""
  provides owner(service: "{{ service }}")
}
rule types-follow-tables salience 20 {
  when table(name: ?t) and not types_generated(table: ?t)
  then run generate-types(table: ?t)
}
rule services-get-tests salience 10 {
  when service(name: ?s) and not tests(target: ?s)
  then run add-tests(target: ?s, kind: "service")
}
rule backed-services salience 5 {
  when service(name: ?s) and service_table(service: ?s, table: ?t)
  then assert backed(service: ?s, table: ?t)
}
rule backed-needs-owner {
  when backed(service: ?s, table: ?t) and not owner(service: ?s)
  then run assign-owner(service: ?s, table: ?t)
}
rule owner-clears-orphan {
  when owner(service: ?s) and orphan(service: ?s)
  then retract orphan(service: ?s)
}
"""


def fact(type_: str, **fields: object) -> Fact:
    return Fact(type=type_, fields=fields, source="repo")


REPO = [
    fact("table", name="users"),
    fact("types_generated", table="users"),
    fact("table", name="legacy"),  # no types yet: the rules want them, which counts as done
    fact("service", name="billing"),
    fact("service_table", service="billing", table="users"),
    fact("orphan", service="billing"),
    fact("orphan", service="ledger"),
]

REQUESTS: list[list[PlanRequest]] = [
    [PlanRequest(scenario="create-table", params={"name": "orders"})],
    [PlanRequest(scenario="create-service", params={"name": "payments"})],
    [PlanRequest(scenario="create-table", params={"name": "orders"})],
    # arrives as a fact the repository already has: a fresh session leaves it out of the seed
    [PlanRequest(scenario="touch-table", params={"name": "legacy"})],
    [
        PlanRequest(scenario="create-service", params={"name": "billing"}),
        PlanRequest(scenario="create-table", params={"name": "invoices"}),
    ],
    # a rule retracts a repository fact (orphan ledger): the shared session cannot be restored after this one
    [PlanRequest(scenario="assign-owner", params={"service": "ledger"})],
    [PlanRequest(scenario="create-service", params={"name": "ledger"})],
    [PlanRequest(scenario="create-table", params={"name": "orders"})],
]


@pytest.fixture
def rule_base(tmp_path: Path) -> RuleBase:
    (tmp_path / "lib.scn").write_text(LIB)
    return build_rule_base([tmp_path / "lib.scn"])


def plan(r: Resolution) -> list[tuple[str, dict[str, object], str, tuple[int, ...]]]:
    return [(i.scenario, dict(i.params), i.reason, i.after) for i in r.items]


def test_shared_session_gives_what_a_fresh_one_gives_in_any_order(rule_base: RuleBase) -> None:
    facts = FactSet(REPO)
    expected = [resolve(rule_base, reqs, facts, allow_missing=True) for reqs in REQUESTS]
    assert any(i.reason.startswith("rule ") for r in expected for i in r.items)  # the rules do fire
    for order in (range(len(REQUESTS)), reversed(range(len(REQUESTS))), [3, 0, 5, 1, 3, 7, 2, 6, 4, 0]):
        baseline = RuleBaseline(rule_base, facts)
        for k in order:
            got = resolve(rule_base, REQUESTS[k], facts, allow_missing=True, baseline=baseline)
            assert plan(got) == plan(expected[k]), f"request {k}"
            assert got.skipped == expected[k].skipped


def test_the_session_is_reused_and_dropped_when_a_rule_retracted_a_seeded_fact(rule_base: RuleBase) -> None:
    facts = FactSet(REPO)
    baseline = RuleBaseline(rule_base, facts)
    resolve(rule_base, REQUESTS[0], facts, baseline=baseline)
    first = baseline._session
    assert first is not None
    resolve(rule_base, REQUESTS[1], facts, baseline=baseline)
    assert baseline._session is first
    resolve(rule_base, REQUESTS[5], facts, allow_missing=True, baseline=baseline)
    assert baseline._session is None  # orphan(ledger) was retracted: rebuilt on next use
    again = resolve(rule_base, REQUESTS[1], facts, allow_missing=True, baseline=baseline)
    assert plan(again) == plan(resolve(rule_base, REQUESTS[1], facts, allow_missing=True))
    assert baseline._session is not None and baseline._session is not first


def test_a_failed_resolution_hands_the_session_back(rule_base: RuleBase) -> None:
    facts = FactSet(REPO)
    baseline = RuleBaseline(rule_base, facts)
    bad = [PlanRequest(scenario="create-table", params={"name": "orders"}), PlanRequest(scenario="nope")]
    with pytest.raises(UserError, match="unknown scenario"):
        resolve(rule_base, bad, facts, baseline=baseline)
    got = resolve(rule_base, REQUESTS[0], facts, baseline=baseline)
    assert plan(got) == plan(resolve(rule_base, REQUESTS[0], facts))
    assert not baseline._busy


def test_a_baseline_over_other_facts_is_not_used(rule_base: RuleBase) -> None:
    baseline = RuleBaseline(rule_base, FactSet(REPO))
    other = FactSet([fact("table", name="orders")])
    got = resolve(rule_base, REQUESTS[0], other, baseline=baseline)
    assert baseline._session is None
    assert got.items == ()  # orders has a table in these facts: skipped
    assert [s.scenario for s in got.skipped] == ["create-table"]


def test_rollback_restores_a_session(rule_base: RuleBase) -> None:
    session = RuleSession.settled(rule_base, REPO)
    mark = session.checkpoint()
    before = sorted((w.type, sorted(w.fields.items())) for w in session.engine.facts())
    session.add(fact("service", name="payments"))
    session.add(fact("service_table", service="payments", table="payments"))
    session.add(fact("types_generated", table="legacy"))  # blocks a `not`: undone, it must not fire again
    session.run()
    assert {r.scenario for r in session.runs} == {"add-tests", "assign-owner"}
    assert session.rollback(mark)
    assert sorted((w.type, sorted(w.fields.items())) for w in session.engine.facts()) == before
    assert session.runs == [] and len(session.asserted) == mark.asserted and session.engine.agenda() == []
    session.add(fact("service", name="payments"))
    session.run()
    assert [r.scenario for r in session.runs] == ["add-tests"]
    session.add(fact("owner", service="ledger"))
    session.run()
    assert not session.rollback(mark)  # orphan(ledger) is gone for good
