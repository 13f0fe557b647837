"""The library's dependencies and rules through the shared resolver, on facts discovered in the example."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from continuous.dsl import model as m
from continuous.engine.discovery import discover
from continuous.engine.facts import Fact
from continuous.engine.resolution import PlanRequest, resolve

HAS_RULES = importlib.util.find_spec("continuous.engine.dsl_rules") is not None


@pytest.fixture
def facts(rule_base: m.RuleBase, example_copy: Path) -> list[Fact]:
    return discover(rule_base, example_copy)


def plan(
    rule_base: m.RuleBase, facts: list[Fact], scenario: str, **params: Any
) -> list[tuple[str, dict[str, Any]]]:
    res = resolve(rule_base, [PlanRequest(scenario=scenario, params=params, reason="test")], facts)
    return [(i.scenario, dict(i.params)) for i in res.items]


def test_discovery_finds_the_example_objects(facts: list[Fact]) -> None:
    found = {(f.type, tuple(sorted(f.fields.items()))) for f in facts}

    def has(fact_type: str, **fields: Any) -> bool:
        return any(t == fact_type and set(fields.items()) <= set(fs) for t, fs in found)

    assert has("table", name="doc_files") and has("table", name="sys_table_definitions")
    assert has("view", name="doc_files_summary")
    assert has("rls_policy", table="doc_files", policy="Owners manage their documents")
    assert has("table_registered", name="command_tracking")
    assert has("types_generated", table="doc_files") and has("types_generated", table="doc_files_summary")
    assert has("app", name="dhg-hub") and has("app", name="dhg-admin-code")
    assert not has("app", name="dhg-improve-experts") and not has("app", name=".archived_apps")
    assert has("page", app="dhg-hub", name="Home") and has("page", app="dhg-hub", name="Settings")
    assert has("page", app="dhg-admin-code", name="Dashboard")
    assert has("service", name="supabase-client") and has("service", name="classify-service")
    assert not has("service", name="index")
    assert has("pipeline", name="document", wrapper="doc-cli.sh") and has("pipeline", name="google_sync")
    assert has("command", pipeline="document", name="classify-docs")
    assert has("command", pipeline="google_sync", name="list-files")
    assert not has("command", name="help")
    assert has("server", name="md-server", port="3001")
    assert has("port", number="3001", env="MD_SERVER_PORT")
    assert has("script", name="servers", command="node scripts/start-all-servers.js")
    assert has("component", area="theme", name="ThemeToggle")
    assert has("env_var", name="SUPABASE_URL")


def test_existing_objects_are_skipped(rule_base: m.RuleBase, facts: list[Fact]) -> None:
    assert plan(rule_base, facts, "create-table", name="doc_files") == []
    assert plan(rule_base, facts, "add-page", app="dhg-hub", name="Settings") == []
    assert plan(rule_base, facts, "create-service", name="formatter-service") == []
    assert plan(rule_base, facts, "create-service", name="tracking-service", type="utility") == []
    steps = [s for s, _ in plan(rule_base, facts, "modify-schema", table="doc_files", column="language")]
    assert steps[0] == "modify-schema" and "create-table" not in steps


def test_a_service_table_is_created_first_only_when_given(rule_base: m.RuleBase, facts: list[Fact]) -> None:
    with_table = plan(rule_base, facts, "create-service", name="prefs", table="user_prefs")
    steps = [s for s, _ in with_table]
    assert steps.index("create-table") < steps.index("create-service")
    assert (
        "create-table",
        {"name": "user_prefs", "columns": "", "access": "authenticated_read", "description": ""},
    ) in with_table
    existing = plan(rule_base, facts, "create-service", name="prefs", table="doc_files")
    assert "create-table" not in [s for s, _ in existing]
    assert "create-table" not in [s for s, _ in plan(rule_base, facts, "create-service", name="prefs")]


def test_missing_objects_are_created_first(rule_base: m.RuleBase, facts: list[Fact]) -> None:
    steps = [
        s for s, _ in plan(rule_base, facts, "add-page", app="dhg-admin-preferences", name="UserPreferences")
    ]
    assert steps.index("create-app") < steps.index("add-page")
    steps = [
        s
        for s, _ in plan(
            rule_base,
            facts,
            "create-proxy-endpoint",
            proxy="preferences-proxy",
            method="GET",
            path="/api/preferences",
        )
    ]
    assert steps.index("create-proxy-server") < steps.index("add-proxy-endpoint")
    items = plan(
        rule_base,
        facts,
        "integrate-service",
        app="dhg-hub",
        service="user-preferences",
        table="user_preferences",
    )
    service = next(p for s, p in items if s == "create-service")
    assert service["table"] == "user_preferences" and service["name"] == "user-preferences"
    steps = [s for s, _ in plan(rule_base, facts, "setup-monitoring", target="md-server", port=3001)]
    assert steps.index("create-table") < steps.index("setup-monitoring")
    assert steps.index("create-cli-pipeline") < steps.index("setup-monitoring")


@pytest.mark.skipif(not HAS_RULES, reason="the DSL rule adapter (engine.dsl_rules) is not installed yet")
def test_rules_add_types_tables_and_tests(rule_base: m.RuleBase, facts: list[Fact]) -> None:
    items = plan(
        rule_base, facts, "create-service", name="user-preferences", type="business", table="user_preferences"
    )
    steps = [s for s, _ in items]
    assert {"create-table", "generate-types", "add-tests"} <= set(steps)
    assert steps.index("create-table") < steps.index("generate-types")
    assert len(steps) == len(set((s, tuple(sorted(p.items()))) for s, p in items))
    steps = [s for s, _ in plan(rule_base, facts, "create-table", name="doc_notes")]
    assert steps == ["create-table", "generate-types"]
