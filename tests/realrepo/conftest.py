"""The real-repository tier: every test here runs on a fresh git copy of a real monorepo snapshot.

The snapshot is `../shared/fixtures/dhg-mono` beside the repository (CONTINUOUS_REALREPO_FIXTURE points
elsewhere). Without it the tier is skipped with one line saying why; under CONTINUOUS_REQUIRE_REALREPO=1 (set by
.ci/run) its absence fails every test instead. Tests use the snapshot as a new user would: no `.continuous.toml`,
the built-in library, a per-test SQLite tracking database.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURE = REPO_ROOT.parent / "shared" / "fixtures" / "dhg-mono"
EXE = str(Path(sys.executable).parent / "continuous")


def fixture_path() -> Path:
    return Path(os.environ.get("CONTINUOUS_REALREPO_FIXTURE") or DEFAULT_FIXTURE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.realrepo)


def require_fixture() -> Path:
    path = fixture_path()
    if (path / "package.json").is_file():
        return path
    message = (
        f"real-repository fixture not found at {path} "
        "(set CONTINUOUS_REALREPO_FIXTURE to a copy of the dhg-mono snapshot)"
    )
    if os.environ.get("CONTINUOUS_REQUIRE_REALREPO") == "1":
        pytest.fail(message)
    pytest.skip(message)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="session")
def pristine_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One committed git copy of the snapshot per session; tests copy it, never change it."""
    source = require_fixture()
    root = tmp_path_factory.mktemp("realrepo") / "dhg-mono"
    shutil.copytree(source, root, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".git"))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "snapshot")
    return root


@pytest.fixture
def real_repo(pristine_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh copy of the snapshot (with its git history of one commit) and its own tracking database."""
    root = tmp_path / "dhg-mono"
    shutil.copytree(pristine_repo, root, symlinks=True)
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", f"sqlite:///{tmp_path}/tracking.db")
    monkeypatch.setenv("CONTINUOUS_NO_DAEMON", "1")
    monkeypatch.delenv("CONTINUOUS_TARGET_DATABASE_URL", raising=False)
    yield root


def cli(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The real `continuous` program in a subprocess, run inside `root`."""
    return subprocess.run(
        [EXE, *args],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root except .git and node_modules: content and mode, for byte-for-byte comparisons."""
    out: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", "node_modules")]
        for name in filenames:
            full = Path(dirpath) / name
            if full.is_symlink():
                out[str(full.relative_to(root))] = (os.readlink(full).encode(), 0)
                continue
            out[str(full.relative_to(root))] = (full.read_bytes(), stat.S_IMODE(full.stat().st_mode))
    return out
