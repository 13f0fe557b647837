"""Defect 1: generate-types merges what a migration adds into supabase/types.ts and leaves every other byte.

types.ts is the repository's record of the live database (tables, views and ~90 functions no migration
describes), so rebuilding it from the migrations destroyed it. Merging is checked against the file itself: the
only differences are inserted lines, and every table, view, function and enum is still there.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from continuous.common.tstypes import read_types

from .checks import new_type_errors
from .conftest import cli

NOW = {"CONTINUOUS_NOW": "2025-06-10T12:00:00+00:00"}


def only_insertions(before: str, after: str) -> list[str]:
    """The inserted lines, asserting that nothing else changed."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    inserted: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), f"{op} of {a[i1:i2]!r} -> {b[j1:j2]!r}"
        if op == "insert":
            inserted += b[j1:j2]
    return inserted


def inventory(text: str) -> dict[str, set[str]]:
    db = read_types(text)
    return {s: set(db.names(s)) for s in ("Tables", "Views", "Functions", "Enums")}


def test_create_table_merges_one_table_and_keeps_the_rest(real_repo: Path) -> None:
    types = real_repo / "supabase/types.ts"
    before = types.read_text()
    dry = cli(
        real_repo,
        "run-scenario",
        "create-table",
        "doc_notes",
        "--param=columns=title:text,doc_file_id:uuid",
        "--dry-run",
        "--json",
        env=NOW,
    )
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)["items"]
    assert plan[1]["scenario"] == "generate-types"
    assert plan[1]["reason"] == "rule types-follow-tables: follows create-table"
    run = cli(
        real_repo,
        "run-scenario",
        "create-table",
        "doc_notes",
        "--param=columns=title:text,doc_file_id:uuid",
        "--yes",
        env=NOW,
    )
    assert run.returncode == 0, run.stderr
    after = types.read_text()
    inserted = only_insertions(before, after)
    assert "      doc_notes: {\n" in inserted
    assert "          doc_file_id: string | null\n" in inserted
    old, new = inventory(before), inventory(after)
    assert new["Tables"] == old["Tables"] | {"doc_notes"}
    assert {k: v for k, v in new.items() if k != "Tables"} == {k: v for k, v in old.items() if k != "Tables"}
    assert len(old["Functions"]) >= 90 and len(old["Tables"]) >= 70


def test_modify_schema_adds_the_column_to_row_insert_and_update_only(real_repo: Path) -> None:
    types = real_repo / "supabase/types.ts"
    before = types.read_text()
    run = cli(
        real_repo,
        "run-scenario",
        "modify-schema",
        "email_messages",
        "is_archived",
        "boolean",
        "--param=nullable=false",
        "--param=default_value=false",
        "--yes",
        env=NOW,
    )
    assert run.returncode == 0, run.stderr
    inserted = only_insertions(before, types.read_text())
    assert [line.strip() for line in inserted] == [
        "is_archived: boolean",
        "is_archived?: boolean",
        "is_archived?: boolean",
    ]
    assert read_types(types.read_text()).columns("email_messages")["is_archived"] == "boolean"


def test_generate_types_alone_changes_nothing_when_the_file_is_current(real_repo: Path) -> None:
    run = cli(real_repo, "run-scenario", "generate-types", "--yes", env=NOW)
    assert run.returncode == 0, run.stderr
    assert json.loads(cli(real_repo, "run-scenario", "generate-types", "--dry-run", "--json").stdout)["files"] == []
    # a table the migrations once created but the live database renamed since is refused, not resurrected
    legacy = cli(real_repo, "run-scenario", "generate-types", "presentations", "--dry-run")
    assert legacy.returncode != 0 and "renamed or dropped in the live database" in legacy.stdout + legacy.stderr


@pytest.mark.slow
def test_merged_types_still_type_check_in_every_app_that_imports_them(real_repo: Path, pristine_repo: Path) -> None:
    run = cli(
        real_repo,
        "run-scenario",
        "create-view",
        "email_messages_summary",
        "email_messages",
        "--param=kind=summary",
        "--yes",
        env=NOW,
    )
    assert run.returncode == 0, run.stderr
    assert new_type_errors(real_repo, pristine_repo, ["supabase/types.ts"]) == []
