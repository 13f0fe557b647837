"""Defect 10: create-view's summary columns, and add-rls-policy reading the table's existing policies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .checks import sql_round_trip
from .conftest import cli

NOW = {"CONTINUOUS_NOW": "2025-06-10T12:00:00+00:00"}


def migration(root: Path, pattern: str) -> str:
    found = sorted((root / "supabase/migrations").glob(pattern))
    assert len(found) == 1, found
    return found[0].read_text()


def test_summary_view_names_match_what_they_compute(real_repo: Path) -> None:
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
    sql = migration(real_repo, "*_create_email_messages_summary_view.sql")
    columns = dict((alias, expr) for expr, alias in re.findall(r"(\w+\([^)]*\)) AS (\w+)", sql))
    assert columns["first_created_at"] == "min(created_at)"
    assert columns["last_created_at"] == "max(created_at)"
    assert columns["last_updated_at"] == "max(updated_at)"


def per_command_owner_table(root: Path) -> str:
    """A live table whose migrations give the owner SELECT, INSERT, UPDATE and DELETE in four policies."""
    for path in sorted((root / "supabase/migrations").glob("*.sql")):
        text = path.read_text()
        for table in set(re.findall(r"CREATE POLICY \"[^\"]+\" ON (?:public\.)?(\w+)", text)):
            commands = set(
                re.findall(
                    rf"CREATE POLICY \"[^\"]+\" ON (?:public\.)?{table}\s+FOR (SELECT|INSERT|UPDATE|DELETE)"
                    rf"[^;]*auth\.uid\(\) = \w+",
                    text,
                )
            )
            if commands == {"SELECT", "INSERT", "UPDATE", "DELETE"}:
                return table
    raise AssertionError("the snapshot has a table with four per-command owner policies")


def test_owner_policy_is_not_added_beside_per_command_owner_policies(real_repo: Path) -> None:
    table = per_command_owner_table(real_repo)
    dry = cli(real_repo, "run-scenario", "add-rls-policy", table, "owner", "--dry-run", "--json", env=NOW)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["items"] == [] and report["files"] == []
    assert report["skipped"] and f"{table}_owner" in report["skipped"][0]["reason"]


@pytest.mark.postgres
def test_owner_policy_completes_partial_coverage_with_the_tables_owner_column(real_repo: Path, scratch_db: str) -> None:
    """A table whose owner policies cover some commands gets policies for the others, on the same column."""
    facts = json.loads(cli(real_repo, "facts", "--type", "rls_policy", "--json").stdout)
    partial: dict[str, set[str]] = {}
    owner: dict[str, str] = {}
    for f in facts:
        fields = f["fields"]
        if fields.get("owner_column") and fields.get("command"):
            partial.setdefault(fields["table"], set()).add(fields["command"])
            owner.setdefault(fields["table"], fields["owner_column"])
    live = {f["fields"]["name"] for f in json.loads(cli(real_repo, "facts", "--type", "table", "--json").stdout)}
    candidates = sorted(t for t, c in partial.items() if t in live and "ALL" not in c and len(c) < 4)
    assert candidates, "the snapshot has a live table with owner policies for some commands only"
    table = candidates[0]
    run = cli(real_repo, "run-scenario", "add-rls-policy", table, "owner", "--yes", env=NOW)
    assert run.returncode == 0, run.stderr
    sql = migration(real_repo, f"*_add_owner_policy_to_{table}.sql")
    added = set(re.findall(r"FOR (SELECT|INSERT|UPDATE|DELETE) TO", sql))
    assert added == {"SELECT", "INSERT", "UPDATE", "DELETE"} - partial[table]
    assert "FOR ALL" not in sql and f"{owner[table]} = auth.uid()" in sql and "ADD COLUMN" not in sql
    down = migration(real_repo, f"*_add_owner_policy_to_{table}_down.sql")
    assert sql_round_trip(scratch_db, sql, down) == (None, [], [])
