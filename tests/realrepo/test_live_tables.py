"""Defect 3: the live database (supabase/types.ts) is read first, migrations second; legacy names are no facts.

create-service over a live table used to write a create-table migration whose down migration dropped the table
with its data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from continuous.common.tstypes import read_types

from .conftest import cli


def facts(root: Path, fact_type: str) -> list[dict[str, object]]:
    proc = cli(root, "facts", "--type", fact_type, "--json")
    assert proc.returncode == 0, proc.stderr
    return [f["fields"] for f in json.loads(proc.stdout)]


def test_every_live_table_view_function_and_enum_is_a_fact(real_repo: Path) -> None:
    db = read_types((real_repo / "supabase/types.ts").read_text())
    assert {f["name"] for f in facts(real_repo, "table")} >= set(db.names("Tables"))
    assert {f["name"] for f in facts(real_repo, "view")} >= set(db.names("Views"))
    assert {f["name"] for f in facts(real_repo, "function")} >= set(db.names("Functions"))
    assert {f["name"] for f in facts(real_repo, "enum")} >= set(db.names("Enums"))
    assert "email_messages" in set(db.names("Tables"))


def test_a_name_a_later_migration_renamed_is_not_a_fact(real_repo: Path) -> None:
    renames = []
    for path in (real_repo / "supabase/migrations").glob("*.sql"):
        if path.name.endswith("_down.sql"):
            continue
        text = re.sub(r"--[^\n]*", "", path.read_text())
        renames += re.findall(r"ALTER TABLE (\w+) RENAME TO (\w+);", text)
    assert renames, "the snapshot renames tables in its migrations"
    tables = {f["name"] for f in facts(real_repo, "table")}
    for old, new in renames:
        assert old not in tables, old
        assert new in tables, new


def test_create_service_over_a_live_table_writes_no_migration(real_repo: Path) -> None:
    dry = cli(
        real_repo,
        "run-scenario",
        "create-service",
        "email-digest-service",
        "business",
        "--param=table=email_messages",
        "--dry-run",
        "--json",
    )
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert "create-table" not in [i["scenario"] for i in report["items"]]
    assert not [f["path"] for f in report["files"] if f["path"].startswith("supabase/migrations/")]
    assert any(s["scenario"] == "create-table" and "email_messages" in s["reason"] for s in report["skipped"]) or (
        "create-table" not in json.dumps(report["items"])
    )


def test_tables_only_the_migration_history_creates_are_known_tables(real_repo: Path) -> None:
    history = {f["name"]: f for f in facts(real_repo, "migrated_table")}
    live = {f["name"] for f in facts(real_repo, "table")}
    only_history = sorted(set(history) - live)
    assert only_history, "the snapshot has migrated tables its types.ts lacks"
    assert {f["name"] for f in facts(real_repo, "known_table")} >= live | set(history)
    assert all(f["migration"].startswith("supabase/migrations/") for f in history.values())


def test_setup_monitoring_keeps_a_monitoring_table_of_another_shape_and_says_so(real_repo: Path) -> None:
    dry = cli(
        real_repo,
        "run-scenario",
        "setup-monitoring",
        "simple-md-server",
        "server",
        "--param=port=3001",
        "--dry-run",
        "--json",
    )
    assert dry.returncode == 0, dry.stdout + dry.stderr
    report = json.loads(dry.stdout)
    assert [i["scenario"] for i in report["items"]] == ["setup-monitoring"]
    assert not [f["path"] for f in report["files"] if f["path"].startswith("supabase/")]
    history = {f["name"]: f for f in facts(real_repo, "migrated_table")}
    runs = history["sys_monitoring_runs"]
    required = [c for c in str(runs["required"]).split(",") if c]
    assert any("sys_monitoring_runs exists" in n and all(c in n for c in required) for n in report["notes"])


def test_a_column_the_live_database_has_leaves_out_its_types_merge_too(real_repo: Path) -> None:
    """Asking for a column the live database already has: modify-schema holds, and the types merge that follows
    every schema change is reported as done because types.ts already has the column, not silently dropped."""
    db = read_types((real_repo / "supabase/types.ts").read_text())
    table = next(t for t in sorted(db.names("Tables")) if "_" in t and len(db.columns(t)) > 3)
    column = sorted(db.columns(table))[1]
    dry = cli(real_repo, "run-scenario", "modify-schema", table, column, "text", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["items"] == []
    skipped = {s["scenario"]: s["reason"] for s in report["skipped"]}
    assert f"column(table={table}, name={column}) already holds" in skipped["modify-schema"]
    assert f"types_current(table={table}, column={column}) already holds" in skipped["generate-types"]
