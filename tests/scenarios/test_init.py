"""`continuous init` and `continuous init --example`, through typer's runner and as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from continuous.cli.main import app
from continuous.common.config import load_config
from typer.testing import CliRunner

from .conftest import EXAMPLE

runner = CliRunner()


def test_init_writes_a_config_that_loads(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (git_repo / "sub").mkdir()
    monkeypatch.chdir(git_repo / "sub")
    result = runner.invoke(app, ["init", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["config"] == str(git_repo / ".continuous.toml")
    data = tomllib.loads((git_repo / ".continuous.toml").read_text())
    assert data["scenario_paths"] == [] and set(data) == {"scenario_paths", "conventions"}
    # nothing of the monorepo's layout in a one-file repository: every convention is left to its default,
    # commented out so that it follows the repository once it shows one
    assert data["conventions"] == {}
    assert '# app_prefix = ""' in (git_repo / ".continuous.toml").read_text()
    assert load_config(git_repo).conventions.apps_dir == "apps"
    assert "# database_url = " in (git_repo / ".continuous.toml").read_text()
    config = load_config(git_repo)
    assert config.database_url is None or config.database_url == os.environ.get("CONTINUOUS_DATABASE_URL")
    assert config.scenario_paths == () and config.include_builtin


def test_init_refuses_to_overwrite(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(git_repo)
    (git_repo / ".continuous.toml").write_text('scenario_paths = ["mine"]\n')
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "Traceback" not in result.output
    assert (git_repo / ".continuous.toml").read_text() == 'scenario_paths = ["mine"]\n'


def test_init_outside_git_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr
    assert not (tmp_path / ".continuous.toml").exists()


def test_init_example_creates_a_committed_monorepo(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    result = runner.invoke(app, ["init", "--example", str(dest), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["created"] == str(dest.resolve()) and info["apps"] == ["dhg-admin-code", "dhg-hub"]
    shipped = {p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*") if p.is_file()}
    assert set(info["files"]) == shipped | {".continuous.toml"}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, capture_output=True, text=True, check=True)
    assert head.stdout.strip() == info["commit"]
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=dest, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
    tracked = subprocess.run(["git", "ls-files"], cwd=dest, capture_output=True, text=True, check=True)
    assert set(tracked.stdout.split()) == set(info["files"])
    assert os.access(dest / "scripts/cli-pipeline/document/doc-cli.sh", os.X_OK)


def test_init_example_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["init", "--example", str(dest)])
    assert result.exit_code == 2
    assert "not empty" in result.stderr
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_init_example_as_a_subprocess(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    cli = str(Path(sys.executable).parent / "continuous")
    proc = subprocess.run(
        [cli, "init", "--example", str(dest)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"Created the example monorepo in {dest.resolve()}" in proc.stdout
    assert "dhg-admin-code, dhg-hub" in proc.stdout
    again = subprocess.run([cli, "init", "--example", str(dest)], capture_output=True, text=True)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_a_failed_init_example_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # no git
    dest = tmp_path / "new"
    result = runner.invoke(app, ["init", "--example", str(dest)])
    assert result.exit_code == 2 and "git is not installed" in result.stderr
    assert not dest.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    result = runner.invoke(app, ["init", "--example", str(existing)])
    assert result.exit_code == 2 and list(existing.iterdir()) == []


def test_init_example_commits_without_a_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    dest = tmp_path / "anon"
    result = runner.invoke(app, ["init", "--example", str(dest), "--json"])
    assert result.exit_code == 0, result.output
    author = subprocess.run(["git", "log", "-1", "--format=%ae"], cwd=dest, capture_output=True, text=True)
    assert author.stdout.strip() == "continuous@localhost"
