"""`continuous analytics ...` through typer's CliRunner and as a real subprocess, in a git repository whose
default SQLite store holds the hand-made history."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.cli.main import app
from typer.testing import CliRunner

from .conftest import EXECUTIONS as DATA
from .conftest import load_known_history

runner = CliRunner()


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from continuous.store import open_store

    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.chdir(git_repo)
    store = open_store(repo=git_repo)
    try:
        load_known_history(store)
    finally:
        store.close()
    return git_repo


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_export_then_every_query(repo: Path, tmp_path: Path) -> None:
    out = _ok(["analytics", "export"])
    assert "exported" in out and "sys_scenario_executions: +11 rows" in out
    assert (repo / ".git" / "continuous" / "analytics" / "manifest.json").exists()
    assert "nothing new to export" in _ok(["analytics", "export"])

    trends = json.loads(_ok(["analytics", "trends", "--json"]))
    assert [r["executions"] for r in trends["rows"]] == [4, 6]
    assert "Trends per week" in _ok(["analytics", "trends", "--by", "week"])
    impact = json.loads(_ok(["analytics", "impact", "--json", "--object-type", "ui"]))
    assert [r["scenario_id"] for r in impact["rows"]] == ["add-page"]
    health = json.loads(_ok(["analytics", "health", "--json"]))
    assert {r["object_type"] for r in health["rows"]} == {"database", "service", "ui"}
    failures = json.loads(_ok(["analytics", "failures", "--json", "--scenario", "add-page"]))
    assert failures["rows"][0]["error"] == "Error: cannot write <path> (id <hex>)"
    slowest = json.loads(_ok(["analytics", "slowest", "--json", "--limit", "1"]))
    assert slowest["scenarios"]["rows"][0]["scenario_id"] == "add-page"
    metrics = json.loads(_ok(["analytics", "metrics", "--json"]))
    assert metrics["metrics"]["executions"] == 10 and metrics["metrics"]["standards_compliance_rate"] is None
    query = json.loads(_ok(["analytics", "query", "--json", "SELECT count(*) AS n FROM sys_scenario_executions"]))
    assert query["rows"] == [{"n": len(DATA)}]
    assert "Success metrics" in _ok(["analytics", "metrics"])


def test_chart_and_report_files(repo: Path, tmp_path: Path) -> None:
    _ok(["analytics", "export"])
    chart = tmp_path / "trends.png"
    _ok(["analytics", "trends", "--chart", str(chart)])
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    report = tmp_path / "report.html"
    assert "report written to" in _ok(["analytics", "report", "--out", str(report)])
    text = report.read_text()
    assert text.count("<svg") == 4 and "Top failures" in text and "render page" in text
    assert not re.search(r"""(src|href)=["']https?://""", text) and "<script" not in text  # standalone


def test_bad_input_is_one_message_exit_2(repo: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analytics", "trends", "--dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no analytics export in" in result.output and "continuous analytics export" in result.output
    _ok(["analytics", "export"])
    for args, message in [
        (["analytics", "query", "DELETE FROM sys_scenarios"], "read-only queries are allowed, not DELETE"),
        (["analytics", "query", "SELECT * FROM nope"], "available tables: "),
        (["analytics", "trends", "--since", "soon"], "--since 'soon': not a date"),
        (["analytics", "trends", "--since", "2026-02-01", "--until", "2026-01-01"], "--since must be before"),
        (["analytics", "trends", "--by", "year"], "expected one of day, week, month"),
        (["analytics", "failures", "--scenario", "nope"], "no executions match"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_subprocess_without_export(git_repo: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CONTINUOUS_DATABASE_URL"}
    exe = Path(sys.executable).parent / "continuous"
    proc = subprocess.run(
        [str(exe), "analytics", "trends"], cwd=git_repo, capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no tracking database yet")  # nothing to refresh the export from
    proc = subprocess.run(
        [str(exe), "analytics", "export"], cwd=git_repo, capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 2 and "no tracking database yet" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_refresh_exports_before_querying(repo: Path) -> None:
    data = json.loads(_ok(["analytics", "health", "--refresh", "--json"]))
    assert {r["object_type"] for r in data["rows"]} == {"database", "service", "ui"}
    assert (repo / ".git" / "continuous" / "analytics" / "manifest.json").exists()
