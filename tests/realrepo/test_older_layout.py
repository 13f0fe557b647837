"""An older layout of the same monorepo: no sys_table_definitions, no types.ts. Database scenarios adapt, and the
dry-run says what is missing before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import cli, git

NOW = {"CONTINUOUS_NOW": "2025-06-10T12:00:00+00:00"}


def without_registry(root: Path) -> None:
    for path in (root / "supabase/migrations").glob("*.sql"):
        if "sys_table_definitions" in path.read_text():
            path.unlink()
    types = root / "supabase/types.ts"
    text = types.read_text()
    start = text.index("      sys_table_definitions: {")
    end = text.index("\n      }\n", start) + len("\n      }\n")
    types.write_text(text[:start] + text[end:])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "an older layout: no table registry")


def test_create_table_without_a_registry_registers_nothing_and_says_so(real_repo: Path) -> None:
    without_registry(real_repo)
    dry = cli(real_repo, "run-scenario", "create-table", "doc_notes", "--dry-run", "--json", env=NOW)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert any("no sys_table_definitions table" in n for n in report["notes"])
    sql = next(f["diff"] for f in report["files"] if f["path"].endswith("_create_doc_notes.sql"))
    assert "sys_table_definitions" not in sql
    down = next(f["diff"] for f in report["files"] if f["path"].endswith("_create_doc_notes_down.sql"))
    assert "sys_table_definitions" not in down
    run = cli(real_repo, "run-scenario", "create-table", "doc_notes", "--yes", env=NOW)
    assert run.returncode == 0, run.stderr


def test_without_types_ts_no_types_are_merged_and_the_dry_run_says_so(real_repo: Path) -> None:
    (real_repo / "supabase/types.ts").unlink()
    git(real_repo, "commit", "-qam", "an older layout: no generated types")
    dry = cli(real_repo, "run-scenario", "create-table", "doc_notes", "--dry-run", "--json", env=NOW)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert [i["scenario"] for i in report["items"]] == ["create-table"]
    assert any("keeps no supabase/types.ts" in n for n in report["notes"])
    asked = cli(real_repo, "run-scenario", "generate-types", "--dry-run")
    assert asked.returncode != 0 and "exists supabase/types.ts" in asked.stdout + asked.stderr
    # the registry is still found in the migrations
    sql = next(f["diff"] for f in report["files"] if f["path"].endswith("_create_doc_notes.sql"))
    assert "ON CONFLICT (table_schema, table_name)" in sql
    run = cli(real_repo, "run-scenario", "create-table", "doc_notes", "--yes", env=NOW)
    assert run.returncode == 0, run.stderr
    assert not (real_repo / "supabase/types.ts").exists()
