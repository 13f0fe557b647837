"""The built-in library: it loads, has every scenario of the spec with the parameters users rely on, its
templates render, and its rules terminate."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from continuous.common.errors import UserError
from continuous.dsl import model as m
from continuous.dsl.params import bind_params
from continuous.dsl.templating import referenced_variables, render_file, template_path

from ..conftest import SPEC_SCENARIOS
from .conftest import EXAMPLE, LIBRARY

REQUIRED_IDS = SPEC_SCENARIOS
# Parameters users rely on, in positional order where the spec's examples pass them by position.
REQUIRED_PARAMS: dict[str, list[str]] = {
    "create-table": ["name"],
    "create-service": ["name", "type"],
    "create-app": ["name"],
    "add-page": ["app", "name"],
    "add-cli-command": ["pipeline", "name"],
    "create-cli-pipeline": ["name"],
    "create-proxy-server": ["name", "port"],
    "add-proxy-endpoint": ["proxy", "method", "path"],
    "add-rls-policy": ["table"],
    "modify-schema": ["table"],
    "create-view": ["name"],
    "add-pnpm-script": ["name", "command"],
}
LIBRARY_FILES = ("services.scn", "cli.scn", "database.scn", "ui.scn", "proxy.scn", "infra.scn")


def builtin(rule_base: m.RuleBase) -> dict[str, m.Scenario]:
    return {sid: s for sid, s in rule_base.scenarios.items() if Path(s.source).name in LIBRARY_FILES}


def test_every_required_scenario_exists_once(rule_base: m.RuleBase) -> None:
    assert set(builtin(rule_base)) == REQUIRED_IDS
    assert rule_base.resolve_id("create-proxy-endpoint") == "add-proxy-endpoint"
    assert rule_base.scenario("create-proxy-endpoint") is rule_base.scenarios["add-proxy-endpoint"]


@pytest.mark.parametrize("scenario_id", sorted(REQUIRED_PARAMS))
def test_parameters_users_rely_on(rule_base: m.RuleBase, scenario_id: str) -> None:
    scenario = rule_base.scenarios[scenario_id]
    positional = [p.name for p in scenario.positional_params()]
    assert positional[: len(REQUIRED_PARAMS[scenario_id])] == REQUIRED_PARAMS[scenario_id]


def test_spec_example_binds_by_position(rule_base: m.RuleBase) -> None:
    scenario = rule_base.scenarios["create-service"]
    assert bind_params(scenario, ["user-preferences", "business"]) == {
        "name": "user-preferences",
        "type": "business",
        "description": "",
    }
    with pytest.raises(UserError, match="not one of"):
        bind_params(scenario, ["user-preferences", "buisness"])
    with pytest.raises(UserError, match="kebab"):
        bind_params(scenario, ["User Preferences"])
    table = rule_base.scenarios["create-table"]
    with pytest.raises(UserError):
        bind_params(table, ["user_preferences"], {"columns": "theme:text; drop table x"})
    with pytest.raises(UserError, match="pattern"):
        bind_params(rule_base.scenarios["add-page"], ["dhg-hub", "SettingsPage"])


@pytest.mark.parametrize("scenario_id", sorted(REQUIRED_IDS))
def test_each_scenario_is_described_for_people_and_the_planner(rule_base: m.RuleBase, scenario_id: str) -> None:
    s = rule_base.scenarios[scenario_id]
    assert s.summary and len(s.description) > 80
    assert len(s.examples) >= 10
    assert len(s.aliases) >= 3
    assert 0 < s.automation <= 100
    assert s.estimate_seconds and s.manual_effort_seconds and s.manual_effort_seconds > s.estimate_seconds
    assert s.steps and s.provides and s.validations
    for p in s.params:
        if p.type == "string":
            assert p.pattern or p.default == "" or p.name in {"title", "description"}, (scenario_id, p.name)
    for dep in s.dependencies:
        assert dep.scenario in rule_base.scenarios, dep.scenario


def test_objects_that_exist_are_not_created_again(rule_base: m.RuleBase) -> None:
    creators = {
        "create-table": "table",
        "create-service": "service",
        "create-app": "app",
        "add-page": "page",
        "create-cli-pipeline": "pipeline",
        "add-cli-command": "command",
        "create-proxy-server": "server_name",  # any of a server's names: its script, its display name
        "add-proxy-endpoint": "endpoint",
        "add-pnpm-script": "script",
        "create-view": "view",
        "add-rls-policy": "rls_policy",
        "add-shared-component": "component",
        "add-tests": "tests",
    }
    for sid, fact in creators.items():
        s = rule_base.scenarios[sid]
        assert [u.type for u in s.unless] == [fact], sid
        assert fact in {p.type for p in s.provides}, sid


def test_dependencies_follow_the_spec(rule_base: m.RuleBase) -> None:
    deps = {sid: {d.scenario for d in s.dependencies} for sid, s in builtin(rule_base).items()}
    for sid in ("modify-schema", "create-view", "add-rls-policy", "setup-monitoring", "create-service"):
        assert "create-table" in deps[sid]
    assert {"create-app", "create-service"} <= deps["integrate-service"]
    assert "create-app" in deps["add-page"]
    assert "create-proxy-server" in deps["add-proxy-endpoint"]
    assert "create-cli-pipeline" in deps["add-cli-command"]
    proxy = rule_base.scenarios["create-proxy-server"]
    port = proxy.param("port")
    assert port is not None and port.type == "port" and port.range == (3000, 3099) and not port.required
    assert "health_check" in {p.type for p in proxy.provides}
    runs = {
        (r.conditions[0].type, a.scenario)
        for r in rule_base.rules.values()
        for a in r.actions
        if isinstance(a, m.RunAction)
    }
    assert {
        ("table", "generate-types"),
        ("view", "generate-types"),
        ("service", "add-tests"),
        ("page", "add-tests"),
        ("component", "add-tests"),
        ("service_table", "create-table"),
    } <= runs


def test_every_rule_run_provides_what_its_negation_waits_for(rule_base: m.RuleBase) -> None:
    """`when A(?x) and not B(?x) then run S(...)` terminates only if S provides B with the same fields."""
    for rule in rule_base.rules.values():
        negated = [p for p in rule.conditions if p.negated]
        for action in rule.actions:
            if not isinstance(action, m.RunAction):
                continue
            target = rule_base.scenario(action.scenario)
            assert target is not None, (rule.id, action.scenario)
            bindings = {k: v.var for k, v in action.bindings.items() if isinstance(v, m.Var)}
            for pattern in negated:
                provided = [p for p in target.provides if p.type == pattern.type]
                assert provided, f"rule {rule.id}: {target.id} never provides {pattern.type}"
                for field, term in pattern.fields.items():
                    assert isinstance(term, m.Var)
                    param = next(k for k, v in bindings.items() if v == term.var)
                    assert any(
                        isinstance(p.fields.get(field), m.Value) and p.fields[field].value == "{{ " + param + " }}"
                        for p in provided
                    ), (rule.id, field)


SAMPLES: dict[str, dict[str, Any]] = {
    "create-table": {"name": "doc_notes", "columns": "title:text,body:text,done:boolean"},
    "modify-schema": {"table": "doc_notes", "column": "due_on", "type": "date"},
    "create-view": {"name": "doc_notes_summary", "source": "doc_notes", "kind": "summary"},
    "add-rls-policy": {"table": "doc_notes"},
    "generate-types": {"table": "doc_notes"},
    "create-service": {"name": "notes", "type": "business", "table": "doc_notes"},
    "refactor-service": {"name": "classify-service"},
    "deprecate-service": {"name": "formatter-service"},
    "test-service": {"name": "notes", "table": "doc_notes"},
    "create-app": {"name": "dhg-notes"},
    "add-page": {"app": "dhg-notes", "name": "Notes"},
    "add-shared-component": {"name": "NoteCard"},
    "integrate-service": {"app": "dhg-notes", "service": "notes", "table": "doc_notes"},
    "create-cli-pipeline": {"name": "notes"},
    "add-cli-command": {"pipeline": "notes", "name": "list-notes"},
    "migrate-cli-script": {"script": "scripts/root/notes.ts", "pipeline": "notes", "name": "notes"},
    "consolidate-pipelines": {"source": "old_notes", "target": "notes"},
    "create-proxy-server": {"name": "notes-proxy", "port": 3020},
    "add-proxy-endpoint": {"proxy": "notes-proxy", "method": "POST", "path": "/api/notes"},
    "consolidate-proxies": {"source": "old-proxy", "target": "notes-proxy", "source_port": 3021},
    "add-pnpm-script": {"name": "notes", "command": "./scripts/cli-pipeline/notes/notes-cli.sh"},
    "update-dependencies": {"package": "@supabase/supabase-js", "version": "^2.45.0"},
    "configure-environment": {"name": "NOTES_API_KEY"},
    "setup-monitoring": {"target": "notes-proxy", "port": 3020},
    "add-tests": {"target": "NoteCard", "kind": "component"},
}


@pytest.mark.parametrize("scenario_id", sorted(REQUIRED_IDS))
def test_every_template_renders_and_names_only_parameters(rule_base: m.RuleBase, scenario_id: str) -> None:
    scenario = rule_base.scenarios[scenario_id]
    from continuous.engine.discovery import discover
    from continuous.engine.facts import FactQuery, FactSet
    from continuous.engine.steps import StepContext

    params = bind_params(scenario, named=SAMPLES[scenario_id])
    facts = FactQuery(lambda: FactSet(discover(rule_base, EXAMPLE)))
    context = StepContext(EXAMPLE, scenario, params, facts=facts).variables
    known = {p.name for p in scenario.params} | set(context) | {"conventions"}
    for step in (*scenario.steps, *scenario.rollback):
        if isinstance(step, m.RenderStep):
            path = template_path(scenario, step.template)
            source = path.read_text(encoding="utf-8")
            assert referenced_variables(source) <= known, (
                step.template,
                referenced_variables(source) - known,
            )
            text = render_file(path, context)
            assert text.strip() and "{{" not in text and "{%" not in text


def test_all_library_templates_are_used(rule_base: m.RuleBase) -> None:
    used = {
        (Path(s.source).parent / "templates" / st.template).resolve()
        for s in builtin(rule_base).values()
        for st in s.steps
        if isinstance(st, m.RenderStep)
    }
    mine = {p.resolve() for p in (LIBRARY / "templates").rglob("*") if p.is_file() and p.parent.name != "templates"}
    assert mine - used == set()


def test_example_repo_is_small_and_complete() -> None:
    files = [p for p in EXAMPLE.rglob("*") if p.is_file()]
    assert len(files) < 61  # 60 with the conventions the example states (.continuous.toml)
    names = {p.relative_to(EXAMPLE).as_posix() for p in files}
    for required in (
        "package.json",
        "pnpm-workspace.yaml",
        "tsconfig.json",
        ".env.example",
        "CLAUDE.md",
        "scripts/start-all-servers.js",
        "supabase/types.ts",
        "apps/dhg-hub/src/App.tsx",
        "packages/shared/services/index.ts",
        "packages/shared/services/classify-service.ts",
        "scripts/cli-pipeline/document/doc-cli.sh",
        "scripts/cli-pipeline/google_sync/google-sync-cli.sh",
    ):
        assert required in names, required
    migrations = [n for n in names if n.startswith("supabase/migrations/")]
    assert all(re.fullmatch(r"supabase/migrations/\d{14}_[a-z0-9_]+\.sql", n) for n in migrations)


def test_catalogue_documents_every_scenario(rule_base: m.RuleBase) -> None:
    text = (LIBRARY.parent / "docs" / "scenarios.md").read_text(encoding="utf-8")
    for sid, scenario in builtin(rule_base).items():
        assert f"### `{sid}` — {scenario.summary}" in text, sid
        section = text.split(f"### `{sid}` — ", 1)[1].split("\n### ", 1)[0]
        for p in scenario.params:
            assert f"`{p.name}`: " in section, (sid, p.name)
