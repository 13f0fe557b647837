"""The shared resolver: dependency order, dedup, `unless` skipping, cycles, rule consequences."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.dsl.loader import build_rule_base
from continuous.engine.facts import Fact
from continuous.engine.resolution import PlanRequest, resolve

LIB = """
scenario create-table {
  object database
  summary "t"
  param name: snake required position 1
  unless table(name: "{{ name }}")
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
  param type: enum(business, utility) default "business" position 2
  requires create-table(name: "{{ name | snake }}") unless table(name: "{{ name | snake }}")
  provides service(name: "{{ name }}")
}
scenario add-page {
  object ui
  summary "p"
  param app: kebab required
  param name: string required
  requires create-service(name: "{{ name | kebab }}")
}
scenario docs { object infra summary "d" }
rule types-follow-tables { when table(name: ?t) and not types_generated(table: ?t) then run generate-types(table: ?t) }
"""


@pytest.fixture
def rule_base(tmp_path: Path):
    (tmp_path / "lib.scn").write_text(LIB)
    return build_rule_base([tmp_path / "lib.scn"])


def ids(resolution):
    return [i.scenario for i in resolution.items]


def test_dependencies_come_first_with_bound_params(rule_base) -> None:
    r = resolve(rule_base, [PlanRequest(scenario="create-service", params={"name": "user-preferences"})])
    assert ids(r)[0] == "create-table"
    assert r.items[0].params == {"name": "user_preferences"}
    assert r.items[0].role == "dependency"
    service = next(i for i in r.items if i.scenario == "create-service")
    assert service.role == "requested"
    assert ids(r).index("create-table") < ids(r).index("create-service")


def test_existing_fact_skips_dependency_with_reason(rule_base) -> None:
    facts = [Fact(type="table", fields={"name": "user_preferences"})]
    r = resolve(rule_base, [PlanRequest(scenario="create-service", params={"name": "user-preferences"})], facts)
    assert "create-table" not in ids(r)
    assert r.skipped[0].scenario == "create-table"
    assert "already holds" in r.skipped[0].reason


def test_shared_dependency_runs_once_and_requested_role_wins(rule_base) -> None:
    r = resolve(
        rule_base,
        [
            PlanRequest(scenario="create-service", params={"name": "prefs"}),
            PlanRequest(scenario="create-table", params={"name": "prefs"}),
        ],
    )
    assert ids(r).count("create-table") == 1
    table = next(i for i in r.items if i.scenario == "create-table")
    assert table.role == "requested"


def test_independent_branches_get_different_groups(rule_base) -> None:
    r = resolve(
        rule_base,
        [
            PlanRequest(scenario="create-service", params={"name": "a"}),
            PlanRequest(scenario="docs"),
        ],
    )
    groups = {i.scenario: i.group for i in r.items}
    assert groups["docs"] != groups["create-service"]
    assert groups["create-table"] == groups["create-service"]


def test_cycle_is_named(tmp_path: Path) -> None:
    (tmp_path / "c.scn").write_text(
        'scenario a { object infra summary "a" requires b }\n'
        'scenario b { object infra summary "b" requires c }\n'
        'scenario c { object infra summary "c" requires a }\n'
    )
    rb = build_rule_base([tmp_path / "c.scn"])
    with pytest.raises(UserError, match=r"dependency cycle: a -> b -> c -> a"):
        resolve(rb, [PlanRequest(scenario="a")])


def test_missing_params_raise_or_are_reported(rule_base) -> None:
    with pytest.raises(UserError, match="needs parameter"):
        resolve(rule_base, [PlanRequest(scenario="add-page", params={"app": "dhg-hub"})])
    r = resolve(rule_base, [PlanRequest(scenario="add-page", params={"app": "dhg-hub"})], allow_missing=True)
    page = next(i for i in r.items if i.scenario == "add-page")
    assert page.missing == ("name",)


def test_unknown_scenario_suggests(rule_base) -> None:
    with pytest.raises(UserError) as info:
        resolve(rule_base, [PlanRequest(scenario="create-tabel")])
    assert "create-table" in (info.value.hint or "")


def test_bad_param_is_rejected_before_planning(rule_base) -> None:
    with pytest.raises(UserError, match="snake_case"):
        resolve(rule_base, [PlanRequest(scenario="create-table", params={"name": "x; rm -rf ~"})])


def test_rule_consequence_follows_its_trigger(rule_base) -> None:
    r = resolve(rule_base, [PlanRequest(scenario="create-table", params={"name": "bookmarks"})])
    assert ids(r) == ["create-table", "generate-types"]
    types = r.items[1]
    assert types.params == {"table": "bookmarks"}
    assert types.role == "dependency"
    assert "types-follow-tables" in types.reason
    assert types.after == (0,)


def test_rule_consequence_not_planned_when_already_true(rule_base) -> None:
    facts = [Fact(type="types_generated", fields={"table": "bookmarks"})]
    r = resolve(rule_base, [PlanRequest(scenario="create-table", params={"name": "bookmarks"})], facts)
    assert ids(r) == ["create-table"]


def test_rules_can_be_turned_off(rule_base) -> None:
    r = resolve(rule_base, [PlanRequest(scenario="create-table", params={"name": "bookmarks"})], follow_rules=False)
    assert ids(r) == ["create-table"]


def test_a_requested_step_that_holds_reports_its_follow_up_as_done_too(rule_base) -> None:
    facts = [Fact(type="table", fields={"name": "orders"}), Fact(type="types_generated", fields={"table": "orders"})]
    r = resolve(rule_base, [PlanRequest(scenario="create-table", params={"name": "orders"})], facts)
    assert r.items == ()
    assert [(s.scenario, s.params) for s in r.skipped] == [
        ("create-table", {"name": "orders"}),
        ("generate-types", {"table": "orders"}),
    ]
    assert r.skipped[1].reason == (
        "follows create-table, which already holds: types_generated(table=orders) already holds"
    )


def test_a_follow_up_that_is_not_done_is_neither_reported_nor_planned(rule_base) -> None:
    """The table exists but its types were never merged: nothing says the types step is done, and a step the
    resolver left out plans no work of its own."""
    facts = [Fact(type="table", fields={"name": "orders"})]
    r = resolve(rule_base, [PlanRequest(scenario="create-table", params={"name": "orders"})], facts)
    assert r.items == ()
    assert [s.scenario for s in r.skipped] == ["create-table"]


def test_a_dependency_that_holds_reports_no_follow_up(rule_base) -> None:
    facts = [Fact(type="table", fields={"name": "orders"}), Fact(type="types_generated", fields={"table": "orders"})]
    r = resolve(rule_base, [PlanRequest(scenario="create-service", params={"name": "orders"})], facts)
    assert [s.scenario for s in r.skipped] == ["create-table"]
    assert ids(r) == ["create-service"]
