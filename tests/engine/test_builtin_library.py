"""Every built-in scenario runs for real on the example monorepo, and its dry-run predicts the files it
changes.

File steps are predicted exactly (same paths, same bytes). Files written by commands (`run` steps) cannot be
predicted; the dry-run marks those steps, and the real run must only add files on top of the prediction there.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from continuous.dsl.loader import load_rule_base

from ..conftest import SPEC_SCENARIOS, SUPABASE_STUB, migrations_in

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "example-monorepo"
NODE_TOOLS = Path(__file__).resolve().parents[2] / ".cache" / "node-tools"

SAMPLES: dict[str, dict[str, Any]] = {
    "create-table": {"name": "doc_notes", "columns": "title:text,body:text,done:boolean"},
    "modify-schema": {"table": "doc_files", "column": "due_on", "type": "date"},
    "create-view": {"name": "recent_doc_files", "source": "doc_files", "kind": "summary"},
    "add-rls-policy": {"table": "command_tracking"},
    "generate-types": {"table": "doc_files"},
    "create-service": {"name": "notes", "type": "business", "table": "doc_notes"},
    "refactor-service": {"name": "classify-service"},
    "deprecate-service": {"name": "formatter-service"},
    "test-service": {"name": "formatter-service"},
    "fix-service-index": {"service": "notes-service"},
    "create-app": {"name": "dhg-notes"},
    "add-page": {"app": "dhg-hub", "name": "Notes"},
    "add-shared-component": {"name": "NoteCard"},
    "integrate-service": {"app": "dhg-hub", "service": "formatter-service"},
    "create-cli-pipeline": {"name": "notes"},
    "add-cli-command": {"pipeline": "document", "name": "list-notes", "wrapper": "doc-cli.sh"},
    "migrate-cli-script": {"script": "scripts/root/notes.ts", "pipeline": "google_sync", "name": "notes"},
    "consolidate-pipelines": {"source": "database", "target": "google_sync"},
    "create-proxy-server": {"name": "notes-proxy", "port": 3020},
    "add-proxy-endpoint": {"proxy": "notes-proxy", "method": "POST", "path": "/api/notes"},
    "consolidate-proxies": {"source": "old-proxy", "target": "notes-proxy", "source_port": 3021},
    "add-pnpm-script": {"name": "notes", "command": "./scripts/cli-pipeline/document/doc-cli.sh"},
    "configure-environment": {"name": "NOTES_API_KEY"},
    "setup-monitoring": {"target": "notes-proxy", "port": 3020},
    "add-tests": {"target": "ThemeToggle", "kind": "component"},
    "archive-path": {"path": "scripts/start-all-servers.js", "to": ".archived/start-all-servers.js"},
    "archive-table": {"table": "doc_files"},
}
# Scenarios that need the network or a package manager.
NOT_RUN_HERE = {"update-dependencies": "runs pnpm add (network)"}
# Scenarios that undo another one: that one runs (and is committed) first.
SETUP_RUNS: dict[str, tuple[str, dict[str, Any]]] = {
    "restore-archived": ("archive-path", SAMPLES["archive-path"]),
    "restore-table": ("archive-table", SAMPLES["archive-table"]),
}
SAMPLES["restore-archived"] = {"path": ".archived/start-all-servers.js", "to": "scripts/start-all-servers.js"}
SAMPLES["restore-table"] = {"table": "doc_files"}


def _library_ids() -> list[str]:
    if not EXAMPLE.is_dir():
        return []
    return sorted(load_rule_base().scenarios)


@pytest.fixture
def example(tmp_path: Path, db_url: str) -> Path:
    from continuous.common.example_repo import create_example

    return create_example(tmp_path / "example").path


@pytest.mark.slow
@pytest.mark.parametrize("scenario_id", _library_ids())
def test_builtin_scenario_runs_and_dry_run_predicts_it(example: Path, scenario_id: str, h) -> None:
    from continuous.engine.api import ScenarioExecutor

    if scenario_id in NOT_RUN_HERE:
        pytest.skip(NOT_RUN_HERE[scenario_id])
    assert scenario_id in SAMPLES, f"add sample parameters for the new built-in scenario {scenario_id}"
    params = SAMPLES[scenario_id]
    setup = {
        "migrate-cli-script": ("scripts/root/notes.ts", "console.log('notes');\n"),
        "fix-service-index": (
            "packages/shared/services/notes-service/notes-service.ts",
            "export class NotesService {}\nexport const notesService = new NotesService();\n",
        ),
    }
    if scenario_id in setup:
        h.write(example, *setup[scenario_id])
        h.git(example, "add", "-A")
        h.git(example, "commit", "-qm", "setup")
    ex = ScenarioExecutor(example)
    if scenario_id in SETUP_RUNS:
        first = ex.execute(*SETUP_RUNS[scenario_id], commit=True)
        assert first.ok and first.commit, first.error
    report = ex.plan(scenario_id, params)
    assert not report.problems, report.problems
    before = h.snapshot(example)
    result = ex.execute(scenario_id, params)
    assert result.ok, result.error
    real = {p: "created" for p in result.artifacts.created}
    real |= {p: "modified" for p in result.artifacts.modified}
    real |= {p: "deleted" for p in result.artifacts.deleted}
    by_commands = {f for i in result.items for step in i.steps if step.kind == "run" for f in step.files}
    predicted = report.files_changed()
    if not any(s.kind == "run" for s in report.steps):
        assert not by_commands
    # every file step's effect is predicted: same paths, same kind of change, same bytes
    assert {p: c for p, c in predicted.items() if p not in by_commands} == {
        p: c for p, c in real.items() if p not in by_commands
    }
    for effect in report.files:
        if effect.path in by_commands:
            continue
        full = example / effect.path
        actual = hashlib.sha256(full.read_bytes()).hexdigest() if full.exists() else None
        assert actual == effect.sha256, effect.path
    # and rollback restores the example byte for byte
    ex.rollback(result.execution_id)
    assert h.snapshot(example) == before
    status = subprocess.run(["git", "status", "--porcelain"], cwd=example, capture_output=True, text=True)
    assert status.stdout == ""


FEATURE = [
    ("create-table", {"name": "user_preferences", "columns": "theme:text,font_size:integer,owner_id:uuid"}),
    ("modify-schema", {"table": "user_preferences", "column": "language", "type": "text"}),
    ("create-view", {"name": "user_preferences_summary", "source": "user_preferences", "kind": "summary"}),
    ("add-rls-policy", {"table": "user_preferences"}),
    ("create-service", {"name": "user-preferences", "table": "user_preferences"}),
    ("create-app", {"name": "dhg-preferences", "port": 5190}),
    ("add-page", {"app": "dhg-preferences", "name": "Preferences"}),
    (
        "integrate-service",
        {"app": "dhg-preferences", "service": "user-preferences", "table": "user_preferences"},
    ),
    ("add-shared-component", {"name": "PreferenceToggle", "area": "profile"}),
    ("create-proxy-server", {"name": "preferences-proxy"}),
    ("add-proxy-endpoint", {"proxy": "preferences-proxy", "method": "GET", "path": "/api/preferences"}),
    ("create-cli-pipeline", {"name": "preferences"}),
    ("add-cli-command", {"pipeline": "preferences", "name": "list-preferences"}),
    ("configure-environment", {"name": "PREFERENCES_API_KEY", "scope": "server"}),
    (
        "add-pnpm-script",
        {"name": "prefs", "command": "./scripts/cli-pipeline/preferences/preferences-cli.sh"},
    ),
]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_feature_built_by_the_executor_type_checks_and_migrates(example: Path, pg_url: str) -> None:
    """The spec's automation example, run for real: the TypeScript compiles and every migration applies."""
    from continuous.engine.api import ScenarioExecutor

    ex = ScenarioExecutor(example)
    for scenario_id, params in FEATURE:
        result = ex.execute(scenario_id, params)
        assert result.ok, f"{scenario_id}: {result.error}"
    tables = _typecheck_and_migrate(example, pg_url)
    assert {"user_preferences", "user_preferences_summary"} <= tables


def _typecheck_and_migrate(example: Path, pg_url: str) -> set[str]:
    """tsc --noEmit over the whole repository, then every migration applied in order to a fresh schema."""
    import uuid

    import psycopg

    tsc = Path(os.environ.get("CONTINUOUS_TEST_NODE_TOOLS", str(NODE_TOOLS))) / "node_modules" / ".bin" / "tsc"
    assert tsc.exists(), f"TypeScript is not installed at {tsc}; run .ci/node-tools.sh"
    (example / "node_modules").symlink_to(tsc.parent.parent, target_is_directory=True)
    proc = subprocess.run([str(tsc), "--noEmit", "-p", str(example)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    migrations = migrations_in(example)
    schema = f"eng_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(4242)")
            conn.execute(SUPABASE_STUB)
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"SET search_path TO {schema}, public")
            for path in migrations:
                try:
                    with conn.transaction():
                        conn.execute(path.read_text().encode())
                except psycopg.Error as exc:
                    pytest.fail(f"{path.name} does not apply: {exc}")
            return {
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
                )
            }
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


# The rest of the library, run after FEATURE in the same repository, in an order a team would use them.
REST = [
    ("test-service", {"name": "formatter-service"}),
    ("refactor-service", {"name": "classify-service"}),
    ("setup-monitoring", {"target": "preferences-proxy", "port": 3020}),
    ("consolidate-proxies", {"source": "old-proxy", "target": "preferences-proxy", "source_port": 3021}),
    ("migrate-cli-script", {"script": "scripts/root/notes.ts", "pipeline": "google_sync", "name": "notes"}),
    ("consolidate-pipelines", {"source": "database", "target": "google_sync"}),
    ("add-tests", {"target": "ThemeToggle", "kind": "component", "area": "theme"}),
    ("generate-types", {"table": "doc_files"}),
    ("deprecate-service", {"name": "formatter-service"}),
]


@pytest.mark.slow
@pytest.mark.postgres
def test_the_whole_library_run_in_one_repository_type_checks_and_migrates(example: Path, pg_url: str, h) -> None:
    """Issue 4: after a run of all built-in scenarios (update-dependencies needs pnpm and the network) the TypeScript
    type-checks and the migrations apply."""
    from continuous.engine.api import ScenarioExecutor

    h.write(example, "scripts/root/notes.ts", "console.log('notes');\n")
    h.git(example, "add", "-A")
    h.git(example, "commit", "-qm", "a loose script to migrate")
    ex = ScenarioExecutor(example)
    ran = set()
    for scenario_id, params in FEATURE + REST:
        result = ex.execute(scenario_id, params)
        assert result.ok, f"{scenario_id}: {result.error}"
        ran |= {item.scenario for item in result.items}
    issue_ids = SPEC_SCENARIOS - set(NOT_RUN_HERE)
    assert issue_ids <= ran, sorted(issue_ids - ran)
    tables = _typecheck_and_migrate(example, pg_url)
    assert {"user_preferences", "user_preferences_summary"} <= tables


def test_update_dependencies_is_planned_even_where_it_cannot_run(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one scenario not run here (pnpm and the registry): its dry-run still plans exactly what it would do,
    and says before anything runs that pnpm is missing."""
    import shutil

    from continuous.engine.api import ScenarioExecutor

    git_dir = str(Path(shutil.which("git") or "/usr/bin/git").parent)
    monkeypatch.setenv("PATH", git_dir)
    assert shutil.which("pnpm") is None
    before = subprocess.run(["git", "status", "--porcelain"], cwd=example, capture_output=True, text=True).stdout
    report = ScenarioExecutor(example).plan("update-dependencies", {"package": "zod", "version": "3.23.8"})
    assert len(report.problems) == 1
    assert "program 'pnpm' is not on PATH" in report.problems[0]
    update = next(s for s in report.steps if s.kind == "run")
    assert "pnpm add zod@3.23.8 -w" in update.action
    assert update.predicted is False  # a command's file changes cannot be predicted, and the report says so
    assert any("cannot be predicted" in reason for reason in report.risk.reasons)
    assert "docs/continuously-updated/dependency-updates.md" in report.files_changed()
    after = subprocess.run(["git", "status", "--porcelain"], cwd=example, capture_output=True, text=True).stdout
    assert after == before  # a dry-run changes nothing
