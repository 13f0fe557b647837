"""The main job across every part, as a user runs it: example repo → plan → run → store → analytics."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import EXE as CONTINUOUS


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUOUS_NO_DAEMON": "1"}
    env.pop("CONTINUOUS_DATABASE_URL", None)
    return subprocess.run([CONTINUOUS, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)


@pytest.mark.slow
def test_plan_run_and_analyse(tmp_path: Path) -> None:
    repo = tmp_path / "mono"
    assert cli(tmp_path, "init", "--example", str(repo)).returncode == 0
    plan_file = tmp_path / "plan.json"
    planned = cli(repo, "plan", "a table for bookmarks plus a service to manage them", "--out", str(plan_file))
    assert planned.returncode == 0, planned.stderr
    saved = json.loads(plan_file.read_text())
    assert [i["scenario"] for i in saved["items"]][:3] == ["create-table", "generate-types", "create-service"]

    ran = cli(repo, "run-plan", str(plan_file), "--yes", "--json")
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["status"] == "success"
    created = result["artifacts"]["created"]
    assert any(p.endswith("_create_command_bookmarks.sql") for p in created)  # the domain the example uses

    status = json.loads(cli(repo, "scenario-status", result["execution_id"], "--json").stdout)
    assert status["status"] == "success"

    assert cli(repo, "analytics", "export").returncode == 0
    impact = json.loads(cli(repo, "analytics", "impact", "--json").stdout)
    rows = {r["scenario_id"]: r for r in (impact["rows"] if isinstance(impact, dict) else impact)}
    assert rows["create-table"]["total_executions"] == 1
    assert rows["create-table"]["avg_files_changed"] >= 3  # migration, its down migration, the tables doc
    trends = json.loads(cli(repo, "analytics", "trends", "--by", "day", "--json").stdout)
    periods = trends["rows"] if isinstance(trends, dict) else trends
    assert sum(p["files_changed"] for p in periods) >= len(created)


@pytest.mark.slow  # create-table runs generate-types with node
def test_a_run_registers_the_scenarios_it_uses_without_archiving_others(tmp_path: Path) -> None:
    repo = tmp_path / "mono"
    assert cli(tmp_path, "init", "--example", str(repo)).returncode == 0
    from continuous.store import open_store

    store = open_store(repo=repo)
    try:
        store.start_execution("gone-elsewhere", {}, worktree="other", branch=None, executed_by="x")
        ran = cli(repo, "run-scenario", "create-table", "bookmark_items", "--yes", "--json")
        assert ran.returncode == 0, ran.stderr
        rows = {r.scenario_id: r for r in store.list_scenarios()}
    finally:
        store.close()
    table = rows["create-table"]
    assert (table.object_type, table.automation_level > 0) == ("database", True)
    assert rows["generate-types"].object_type == "database"
    assert "gone-elsewhere" in rows  # another rule base's scenario is not archived by a run
