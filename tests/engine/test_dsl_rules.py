"""DSL rules compiled into the core: joins and `not`, salience, assert/retract chaining, runs, tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.dsl.loader import build_rule_base, load_rule_base
from continuous.dsl.model import RuleBase
from continuous.engine.dsl_rules import derive_runs, run_rules
from continuous.engine.facts import Fact

RULES = """
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
  then assert backed(service: ?s, table: ?t) and task "Review the data access of {{ s }}"
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


def rule_base(tmp_path: Path, text: str = RULES) -> RuleBase:
    (tmp_path / "rules.scn").write_text(text)
    return build_rule_base([tmp_path / "rules.scn"])


def fact(type_: str, **fields: object) -> Fact:
    return Fact(type=type_, fields=fields, source="test:1")


def test_new_table_triggers_type_generation_unless_types_exist(tmp_path: Path) -> None:
    rb = rule_base(tmp_path)
    existing = [fact("table", name="users"), fact("types_generated", table="orders")]
    runs = derive_runs(rb, existing, [fact("table", name="orders"), fact("table", name="invoices")])
    assert [(r.rule_id, r.scenario, r.params) for r in runs] == [
        ("types-follow-tables", "generate-types", {"table": "invoices"})
    ]
    assert runs[0].trigger.fields == {"name": "invoices"}
    assert runs[0].trigger.source == "test:1"


def test_existing_facts_do_not_trigger_again(tmp_path: Path) -> None:
    rb = rule_base(tmp_path)
    assert derive_runs(rb, [fact("table", name="users")], []) == []
    assert derive_runs(rb, [fact("table", name="users")], [fact("table", name="users")]) == []


def test_salience_orders_runs_and_assert_chains_into_other_rules(tmp_path: Path) -> None:
    rb = rule_base(tmp_path)
    new = [
        fact("service", name="billing"),
        fact("service_table", service="billing", table="invoices"),
        fact("table", name="invoices"),
    ]
    runs = derive_runs(rb, [], new)
    assert [r.scenario for r in runs] == ["generate-types", "add-tests", "assign-owner"]
    assert runs[1].params == {"target": "billing", "kind": "service"}
    assert runs[2].params == {"service": "billing", "table": "invoices"}
    assert runs[2].trigger.type == "backed"


def test_run_rules_reports_asserted_retracted_tasks(tmp_path: Path) -> None:
    rb = rule_base(tmp_path)
    out = run_rules(
        rb,
        [
            fact("service", name="billing"),
            fact("service_table", service="billing", table="t"),
            fact("owner", service="billing"),
            fact("orphan", service="billing"),
        ],
    )
    assert [(f.type, f.fields) for f in out.asserted] == [("backed", {"service": "billing", "table": "t"})]
    assert [(f.type, f.fields) for f in out.retracted] == [("orphan", {"service": "billing"})]
    assert [t.title for t in out.tasks] == ["Review the data access of billing"]
    assert [r.scenario for r in out.runs] == ["add-tests"]
    assert out.firings == 3  # backed-needs-owner is blocked by the owner fact


def test_int_and_text_values_match_like_factset(tmp_path: Path) -> None:
    rb = rule_base(
        tmp_path,
        """
rule port-users { when port(number: ?p) and proxy(port: ?p) then run check-port(port: ?p) }
rule fixed { when port(number: 3000) then task "reserved" }
""",
    )
    out = run_rules(rb, [Fact(type="port", fields={"number": 3000}), Fact(type="proxy", fields={"port": "3000"})])
    assert [r.params for r in out.runs] == [{"port": "3000"}]
    assert [t.title for t in out.tasks] == ["reserved"]


def test_self_feeding_rule_is_stopped_with_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from continuous.engine import dsl_rules

    monkeypatch.setattr(dsl_rules, "MAX_FIRINGS", 50)
    rb = rule_base(
        tmp_path,
        """
rule a-to-b { when a(x: ?x) then assert b(x: ?x) and retract a(x: ?x) }
rule b-to-a { when b(x: ?x) then assert a(x: ?x) and retract b(x: ?x) }
""",
    )
    with pytest.raises(UserError, match="did not settle"):
        run_rules(rb, [fact("a", x="1")])


def test_builtin_rules_compile_and_react_to_a_new_service() -> None:
    rb = load_rule_base()
    runs = derive_runs(
        rb,
        [fact("tests", target="old-svc"), fact("service", name="old-svc")],
        [fact("service", name="user-preferences")],
    )
    assert ("add-tests", {"target": "user-preferences", "kind": "service"}) in [(r.scenario, r.params) for r in runs]
    assert all(r.params.get("target") != "old-svc" for r in runs)
