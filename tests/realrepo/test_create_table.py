"""Defect 2: create-table follows the registry's real shape, and `sql test` really applies the migration pair.

The registry's unique key and columns are read here straight from the snapshot's migration (independently of the
library's SQL reader), and the generated insert must use exactly that key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .checks import sql_round_trip
from .conftest import cli, git

NOW = {"CONTINUOUS_NOW": "2025-06-10T12:00:00+00:00"}


def registry_shape(root: Path) -> tuple[list[str], list[str]]:
    """(columns, unique key) of sys_table_definitions as its CREATE TABLE migration declares them."""
    for path in sorted((root / "supabase/migrations").glob("*.sql")):
        text = path.read_text()
        m = re.search(r"CREATE TABLE IF NOT EXISTS sys_table_definitions \((.*?)\n\);", text, re.S)
        if m:
            body = m.group(1)
            columns = re.findall(r"^\s+([a-z_]+) [a-z]", body, re.M)
            key = re.search(r"UNIQUE\(([^)]*)\)", body)
            assert key, "the snapshot's registry declares a unique key"
            return columns, [k.strip() for k in key.group(1).split(",")]
    raise AssertionError("the snapshot has no registry migration")


def new_migration(root: Path, name: str) -> Path:
    found = sorted((root / "supabase/migrations").glob(f"*_{name}.sql"))
    assert len(found) == 1, found
    return found[0]


def step_output(root: Path, execution: str, step: str) -> str:
    status = json.loads(cli(root, "scenario-status", execution, "--json").stdout)
    found = [
        s.get("output") or ""
        for child in [status, *status.get("children", [])]
        for s in child.get("steps", [])
        if s.get("step_name") == step
    ]
    assert found, status
    return "\n".join(found)


def test_registry_insert_uses_the_registry_key_and_columns(real_repo: Path) -> None:
    columns, key = registry_shape(real_repo)
    run = cli(
        real_repo, "run-scenario", "create-table", "doc_notes", "--param=description=Notes on docs", "--yes", env=NOW
    )
    assert run.returncode == 0, run.stderr
    sql = new_migration(real_repo, "create_doc_notes").read_text()
    insert = re.search(r"INSERT INTO sys_table_definitions \(([^)]*)\)", sql)
    assert insert is not None
    inserted = [c.strip() for c in insert.group(1).split(",")]
    assert set(inserted) <= set(columns) and {"table_schema", "table_name"} <= set(inserted)
    conflict = re.search(r"ON CONFLICT \(([^)]*)\)", sql)
    assert conflict is not None and [c.strip() for c in conflict.group(1).split(",")] == key


@pytest.mark.postgres
def test_sql_test_applies_the_pair_on_the_scratch_database(real_repo: Path, scratch_db: str) -> None:
    with_db = {**NOW, "CONTINUOUS_TEST_DATABASE_URL": scratch_db}
    run = cli(real_repo, "run-scenario", "create-table", "doc_notes", "--yes", "--json", env=with_db)
    assert run.returncode == 0, run.stderr
    output = step_output(real_repo, json.loads(run.stdout)["execution_id"], "test migration")
    assert "applied on the scratch database" in output and "rolled back" in output, output
    assert "dropped nothing that existed before" in output
    up = new_migration(real_repo, "create_doc_notes")
    error, gone, left = sql_round_trip(scratch_db, up.read_text(), up.with_name(up.stem + "_down.sql").read_text())
    assert (error, gone, left) == (None, [], [])


def test_without_a_scratch_database_the_step_says_so(real_repo: Path) -> None:
    dry = cli(real_repo, "run-scenario", "create-table", "doc_notes", "--dry-run", "--no-diff", env=NOW)
    assert "not applied: no scratch database" in dry.stdout
    run = cli(real_repo, "run-scenario", "create-table", "doc_notes", "--yes", "--json", env=NOW)
    assert "not applied: no scratch database" in step_output(
        real_repo, json.loads(run.stdout)["execution_id"], "test migration"
    )


@pytest.mark.postgres
def test_a_down_migration_that_drops_what_existed_fails_the_test(real_repo: Path, scratch_db: str) -> None:
    """A hand-written pair whose down migration drops a live table: `sql test` refuses it."""
    scn = real_repo / "check.scn"
    scn.write_text(
        'scenario test-pair {\n  object database\n  summary "test a migration pair"\n'
        '  step "test" sql test "supabase/migrations/20250610000000_drop_emails.sql"\n'
        '  validate file "supabase/migrations/20250610000000_drop_emails.sql" exists\n}\n'
    )
    (real_repo / ".continuous.toml").write_text(f'test_database_url = "{scratch_db}"\nscenario_paths = ["check.scn"]\n')
    (real_repo / "supabase/migrations/20250610000000_drop_emails.sql").write_text(
        "ALTER TABLE email_messages ADD COLUMN IF NOT EXISTS flagged boolean;\n"
    )
    (real_repo / "supabase/migrations/20250610000000_drop_emails_down.sql").write_text("DROP TABLE email_messages;\n")
    git(real_repo, "add", "-A")
    git(real_repo, "commit", "-q", "-m", "a bad pair")
    run = cli(real_repo, "run-scenario", "test-pair", "--yes", env=NOW)
    assert run.returncode == 1
    assert "drops what existed before" in run.stdout + run.stderr
    assert "existed before supabase/migrations/20250610000000_drop_emails.sql ran: relation public.email_messages" in (
        run.stdout + run.stderr
    )


def test_the_scratch_database_is_never_the_tracking_database(real_repo: Path, tmp_path: Path) -> None:
    tracking = f"sqlite:///{tmp_path}/tracking.db"
    dry = cli(
        real_repo,
        "run-scenario",
        "create-table",
        "doc_notes",
        "--dry-run",
        env={**NOW, "CONTINUOUS_DATABASE_URL": tracking, "CONTINUOUS_TEST_DATABASE_URL": tracking},
    )
    assert dry.returncode == 2 and "also the tracking database" in dry.stderr + dry.stdout
    live = "postgresql://db.example.com/live"
    dry = cli(
        real_repo,
        "run-scenario",
        "create-table",
        "doc_notes",
        "--dry-run",
        env={**NOW, "CONTINUOUS_TARGET_DATABASE_URL": live, "CONTINUOUS_TEST_DATABASE_URL": live},
    )
    assert dry.returncode == 2 and "is the target database" in dry.stderr + dry.stdout
