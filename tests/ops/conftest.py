"""Fixtures for the operations tests: a committed copy of the built-in example monorepo, CLI helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "scenarios" / "example-monorepo"
CONTINUOUS = str(Path(sys.executable).parent / "continuous")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def example_repo(tmp_path: Path) -> Iterator[Path]:
    """The example monorepo as its own git repository (one commit), with its own SQLite store in .git/."""
    repo = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("node_modules", ".git"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "example monorepo")
    yield repo


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
    """Run `continuous` as a subprocess."""

    def _run(cwd: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if k != "CONTINUOUS_DATABASE_URL"}
        full_env.update(env or {})
        return subprocess.run([CONTINUOUS, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env=full_env, check=False)

    return _run


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def commit() -> Callable[[Path, str], None]:
    return commit_all
