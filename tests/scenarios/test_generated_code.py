"""The generated code is real: every built-in scenario applied to the example monorepo leaves TypeScript
that type-checks with `tsc --noEmit`, SQL migrations that apply to PostgreSQL (and whose _down.sql files
revert them), shell wrappers that run, and generated types that match the migrations.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from continuous.dsl import model as m

from ..conftest import SUPABASE_STUB, migrations_in
from .conftest import Applied, clock, tsc_path

# Every built-in scenario at least once, in an order a plan would run them (dependencies first).
PLAN: list[tuple[str, dict[str, Any]]] = [
    (
        "create-table",
        {
            "name": "user_preferences",
            "columns": "theme:text,language:text,settings:jsonb",
            "access": "owner",
            "description": "Per-user UI preferences",
        },
    ),
    ("generate-types", {"table": "user_preferences"}),
    (
        "modify-schema",
        {
            "table": "user_preferences",
            "column": "font_size",
            "type": "integer",
            "nullable": False,
            "default_value": "14",
        },
    ),
    ("generate-types", {"table": "user_preferences", "column": "font_size"}),
    ("create-view", {"name": "user_preferences_summary", "source": "user_preferences", "kind": "summary"}),
    ("create-view", {"name": "recent_doc_files", "source": "doc_files", "kind": "recent"}),
    ("create-view", {"name": "doc_titles_list", "source": "doc_files", "columns": "id, title, file_path"}),
    ("add-rls-policy", {"table": "doc_files", "policy": "authenticated_read"}),
    ("add-rls-policy", {"table": "command_tracking", "policy": "owner", "owner_column": "created_by"}),
    (
        "create-table",
        {
            "name": "sys_monitoring_runs",
            "access": "service_role",
            "columns": "target:text,kind:text,status:text,duration_ms:integer,details:jsonb",
        },
    ),
    ("generate-types", {}),
    ("create-service", {"name": "user-preferences", "type": "business", "table": "user_preferences"}),
    ("create-service", {"name": "audit", "type": "business"}),
    ("create-service", {"name": "text-tools", "type": "utility"}),
    ("create-service", {"name": "anthropic-api", "type": "integration", "description": "Claude API client"}),
    ("add-tests", {"target": "user-preferences"}),
    ("add-tests", {"target": "supabase-client"}),
    ("test-service", {"name": "user-preferences", "table": "user_preferences"}),
    ("test-service", {"name": "supabase-client"}),
    ("refactor-service", {"name": "classify-service"}),
    ("add-tests", {"target": "classify-service"}),
    (
        "deprecate-service",
        {
            "name": "formatter-service",
            "replacement": "text-tools",
            "reason": "merged into text tools",
        },
    ),
    ("create-app", {"name": "dhg-preferences", "title": "Preferences", "port": 5181}),
    ("add-page", {"app": "dhg-hub", "name": "UserPreferences"}),
    ("add-page", {"app": "dhg-preferences", "name": "settings-overview", "route": "/settings/overview"}),
    ("add-page", {"app": "dhg-admin-code", "name": "Reports"}),
    ("add-tests", {"target": "UserPreferences", "kind": "page", "app": "dhg-hub"}),
    ("add-tests", {"target": "Home", "kind": "page", "app": "dhg-preferences"}),
    ("add-shared-component", {"name": "PreferenceCard", "area": "profile"}),
    ("add-shared-component", {"name": "ThemeBadge", "area": "theme"}),
    ("add-tests", {"target": "PreferenceCard", "kind": "component", "area": "profile"}),
    (
        "integrate-service",
        {"app": "dhg-hub", "service": "user-preferences", "table": "user_preferences"},
    ),
    ("integrate-service", {"app": "dhg-preferences", "service": "text-tools", "kind": "utility"}),
    ("integrate-service", {"app": "dhg-admin-code", "service": "audit"}),
    (
        "integrate-service",
        {"app": "dhg-preferences", "service": "anthropic-api", "kind": "integration"},
    ),
    ("create-cli-pipeline", {"name": "email_processing", "description": "Fetch and classify email"}),
    (
        "add-cli-command",
        {"pipeline": "email_processing", "name": "fetch-inbox", "description": "Fetch new mail"},
    ),
    ("add-cli-command", {"pipeline": "document", "name": "link-check", "wrapper": "doc-cli.sh"}),
    (
        "migrate-cli-script",
        {
            "script": "scripts/cli-pipeline/google_sync/list-files.ts",
            "pipeline": "document",
            "name": "list-drive-files",
            "wrapper": "doc-cli.sh",
        },
    ),
    (
        "consolidate-pipelines",
        {"source": "google_sync", "target": "document", "target_wrapper": "doc-cli.sh"},
    ),
    ("create-proxy-server", {"name": "preferences-proxy", "port": 3010}),
    ("add-proxy-endpoint", {"proxy": "preferences-proxy", "method": "GET", "path": "/api/preferences"}),
    (
        "create-proxy-endpoint",
        {"proxy": "preferences-proxy", "method": "PATCH", "path": "/api/preferences/:id"},
    ),
    ("create-proxy-server", {"name": "audio-proxy", "port": 3011}),
    ("consolidate-proxies", {"source": "audio-proxy", "target": "preferences-proxy", "source_port": 3011}),
    (
        "add-pnpm-script",
        {"name": "types:check", "command": "node scripts/cli-pipeline/database/generate-types.mjs --check"},
    ),
    ("update-dependencies", {"package": "react", "version": "18.3.1", "filter": "dhg-hub"}),
    ("configure-environment", {"name": "OPENAI_API_KEY", "scope": "both", "description": "OpenAI access"}),
    ("create-cli-pipeline", {"name": "monitoring"}),
    ("setup-monitoring", {"target": "preferences-proxy", "kind": "server", "port": 3010}),
    ("setup-monitoring", {"target": "email_processing", "kind": "pipeline"}),
]


def test_plan_covers_every_builtin_scenario(rule_base: m.RuleBase) -> None:
    used = {rule_base.resolve_id(sid) for sid, _ in PLAN}
    builtin = {sid for sid, s in rule_base.scenarios.items() if Path(s.source).name in LIBRARY_FILES}
    assert builtin - used == set()


LIBRARY_FILES = {"services.scn", "cli.scn", "database.scn", "ui.scn", "proxy.scn", "infra.scn"}


def _apply_plan(root: Path, apply: Callable[..., Applied]) -> list[Applied]:
    tick = clock()
    return [apply(root, sid, tick(), **params) for sid, params in PLAN]


def _tsc(root: Path) -> subprocess.CompletedProcess[str]:
    tsc = tsc_path()
    if tsc is None:
        pytest.fail("TypeScript is not installed: run .ci/node-tools.sh (make test does)")
    link = root / "node_modules"
    if not link.exists():
        link.symlink_to(tsc.parent.parent, target_is_directory=True)
    return subprocess.run(
        [str(tsc), "--noEmit", "-p", str(root)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_example_repo_type_checks_as_shipped(example_copy: Path) -> None:
    proc = _tsc(example_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_every_scenario_generates_code_that_type_checks(
    example_copy: Path, apply: Callable[..., Applied]
) -> None:
    applied = _apply_plan(example_copy, apply)
    written = {f for a in applied for f in a.files}
    assert "packages/shared/services/user-preferences/user-preferences.ts" in written
    assert "apps/dhg-preferences/src/App.tsx" in written
    # the generated types follow the migrations
    check = subprocess.run(
        ["node", "scripts/cli-pipeline/database/generate-types.mjs", "--check"],
        cwd=example_copy,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    types = (example_copy / "supabase/types.ts").read_text()
    assert "      user_preferences: {" in types and "font_size: number" in types
    assert "      sys_monitoring_runs: {" in types and "      user_preferences_summary: {" in types
    # shell wrappers parse and answer --help; the new pipeline's health check passes
    for wrapper in example_copy.glob("scripts/cli-pipeline/*/*.sh"):
        syntax = subprocess.run(["bash", "-n", str(wrapper)], capture_output=True, text=True)
        assert syntax.returncode == 0, f"{wrapper}: {syntax.stderr}"
    helped = subprocess.run(
        ["bash", "scripts/cli-pipeline/document/doc-cli.sh", "--help"],
        cwd=example_copy,
        capture_output=True,
        text=True,
    )
    assert helped.returncode == 0 and "link-check" in helped.stdout and "list-drive-files" in helped.stdout
    monitors = subprocess.run(
        ["bash", "scripts/cli-pipeline/monitoring/monitoring-cli.sh", "--help"],
        cwd=example_copy,
        capture_output=True,
        text=True,
    )
    assert "monitor-preferences-proxy" in monitors.stdout and "monitor-email-processing" in monitors.stdout
    health = subprocess.run(
        ["bash", "scripts/cli-pipeline/email_processing/health-check.sh"],
        cwd=example_copy,
        capture_output=True,
        text=True,
    )
    assert health.returncode == 0, health.stdout + health.stderr
    node_check = subprocess.run(
        ["node", "--check", "scripts/start-all-servers.js"], cwd=example_copy, capture_output=True, text=True
    )
    assert node_check.returncode == 0, node_check.stderr
    proc = _tsc(example_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and the generated tests pass
    (example_copy / "vitest.config.mjs").write_text(VITEST_CONFIG)
    vitest = example_copy / "node_modules" / ".bin" / "vitest"
    run = subprocess.run(
        [str(vitest), "run", "--config", "vitest.config.mjs", "--reporter", "verbose"],
        cwd=example_copy,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CI": "1", "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Test Files  8 passed (8)" in run.stdout, run.stdout[-2000:]


VITEST_CONFIG = """export default {
  esbuild: { jsx: 'automatic' },
  test: { include: ['apps/*/src/**/*.test.{ts,tsx}', 'packages/shared/**/*.test.{ts,tsx}'] },
};
"""




@pytest.mark.slow
@pytest.mark.postgres
def test_every_generated_migration_applies_and_reverts(
    example_copy: Path, apply: Callable[..., Applied], pg_url: str
) -> None:
    import psycopg

    before = {p.name for p in migrations_in(example_copy)}
    _apply_plan(example_copy, apply)
    migrations = migrations_in(example_copy)
    generated = [p for p in migrations if p.name not in before]
    assert len(generated) >= 8
    schema = f"scn_{uuid.uuid4().hex[:12]}"
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
                        conn.execute(path.read_text())
                except psycopg.Error as exc:
                    pytest.fail(f"{path.name} does not apply: {exc}")
            tables = {
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
                )
            }
            assert {
                "user_preferences",
                "sys_monitoring_runs",
                "user_preferences_summary",
                "recent_doc_files",
                "doc_titles_list",
            } <= tables
            registered = {r[0] for r in conn.execute("SELECT table_name FROM sys_table_definitions")}
            assert {"user_preferences", "sys_monitoring_runs"} <= registered
            policies = {
                r[0]
                for r in conn.execute("SELECT policyname FROM pg_policies WHERE schemaname = %s", (schema,))
            }
            assert {
                "user_preferences_owner",
                "doc_files_authenticated_read",
                "command_tracking_owner",
                "sys_monitoring_runs_service_role",
            } <= policies
            _check_owner_policy(conn, schema)
            for path in reversed(generated):
                down = path.with_name(path.stem + "_down.sql")
                assert down.exists(), f"{path.name} has no _down.sql"
                try:
                    with conn.transaction():
                        conn.execute(down.read_text())
                except psycopg.Error as exc:
                    pytest.fail(f"{down.name} does not revert {path.name}: {exc}")
            left = {
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
                )
            }
            assert left == {"sys_table_definitions", "command_tracking", "doc_files", "doc_files_summary"}
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _check_owner_policy(conn: Any, schema: str) -> None:
    """The generated owner policy really isolates rows: each user sees only their own preferences."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    with conn.transaction():
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO authenticated")
        conn.execute("GRANT ALL ON user_preferences TO authenticated")
        for user in (alice, bob):
            conn.execute("INSERT INTO user_preferences (owner_id, theme) VALUES (%s, 'dark')", (user,))
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute("SELECT set_config('request.jwt.claim.sub', %s, true)", (str(alice),))
        seen = [r[0] for r in conn.execute("SELECT owner_id FROM user_preferences")]
        conn.execute("RESET ROLE")
        conn.execute("DELETE FROM user_preferences")
    assert seen == [alice]


def test_node_tools_env_points_at_typescript() -> None:
    tsc = tsc_path()
    if os.environ.get("CONTINUOUS_TEST_NODE_TOOLS") and tsc is None:
        pytest.fail("CONTINUOUS_TEST_NODE_TOOLS is set but holds no TypeScript")
