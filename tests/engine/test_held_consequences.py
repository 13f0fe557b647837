"""Which follow-up runs of a step that already holds are done as well, and why (rule conditions matched by hand)."""

from __future__ import annotations

from pathlib import Path

from continuous.dsl.loader import build_rule_base
from continuous.engine.facts import Fact, FactSet
from continuous.engine.held_consequences import held_consequences

LIB = """
scenario modify-schema {
  object database
  summary "m"
  param table: snake required
  param column: snake required
}
scenario generate-types {
  object database
  summary "g"
  param table: snake
  param column: snake
}
scenario add-tests { object infra summary "t" param target: string required param kind: string }
rule types-follow-schema-changes {
  when schema_change(table: ?t, column: ?c) and types_file(path: ?f) and not types_current(table: ?t, column: ?c)
  then run generate-types(table: ?t, column: ?c)
}
rule tests-follow-services {
  when service(name: ?s)
  then run add-tests(target: ?s, kind: "service")
}
"""


def _rb(tmp_path: Path):
    (tmp_path / "lib.scn").write_text(LIB)
    return build_rule_base([tmp_path / "lib.scn"])


CHANGE = [Fact(type="schema_change", fields={"table": "tasks", "column": "due"})]


def test_a_run_blocked_by_its_not_condition_is_done_with_that_reason(tmp_path: Path) -> None:
    repo = FactSet(
        [
            Fact(type="types_file", fields={"path": "db/types.ts"}),
            Fact(type="types_current", fields={"table": "tasks", "column": "due"}),
        ]
    )
    assert held_consequences(_rb(tmp_path), CHANGE, [repo]) == [
        (
            "types-follow-schema-changes",
            "generate-types",
            {"table": "tasks", "column": "due"},
            "types_current(table=tasks, column=due) already holds",
        )
    ]


def test_a_run_whose_not_condition_is_false_is_not_done(tmp_path: Path) -> None:
    repo = FactSet(
        [
            Fact(type="types_file", fields={"path": "db/types.ts"}),
            Fact(type="types_current", fields={"table": "tasks", "column": "other"}),
        ]
    )
    assert held_consequences(_rb(tmp_path), CHANGE, [repo]) == []


def test_every_positive_condition_must_match(tmp_path: Path) -> None:
    """Without a types file the rule does not apply at all, whatever the types say."""
    repo = FactSet([Fact(type="types_current", fields={"table": "tasks", "column": "due"})])
    assert held_consequences(_rb(tmp_path), CHANGE, [repo]) == []


def test_a_rule_without_a_not_condition_says_nothing(tmp_path: Path) -> None:
    service = [Fact(type="service", fields={"name": "billing"})]
    assert held_consequences(_rb(tmp_path), service, [FactSet()]) == []
