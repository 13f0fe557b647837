"""Fixtures for the operations tests: a committed copy of the built-in example monorepo, CLI helpers."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..conftest import REPO_ROOT, cli, commit_all, init_repo

EXAMPLE = REPO_ROOT / "scenarios" / "example-monorepo"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def example_repo(tmp_path: Path) -> Iterator[Path]:
    """The example monorepo as its own git repository (one commit), with its own SQLite store in .git/."""
    repo = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("node_modules", ".git"))
    yield init_repo(repo, "example monorepo")


Invoke = Callable[..., tuple[int, str]]


@pytest.fixture
def invoke() -> Invoke:
    """Run a `continuous` command in-process (typer's CliRunner); returns (exit code, stdout+stderr)."""
    from continuous.cli.main import app
    from typer.testing import CliRunner

    runner = CliRunner()

    def _invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    return _invoke


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `continuous` as a subprocess (without CONTINUOUS_DATABASE_URL: the autouse fixture removes it)."""
    return cli


@pytest.fixture
def commit() -> Callable[[Path, str], None]:
    return commit_all
