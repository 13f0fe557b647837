"""The real-repository tier: every test here runs on a fresh git copy of a real monorepo snapshot.

The snapshot is `../shared/fixtures/dhg-mono` beside the repository (or beside its main worktree, for a linked git
worktree); CONTINUOUS_REALREPO_FIXTURE points elsewhere. Without it the whole tier is left out with one line saying
why; under CONTINUOUS_REQUIRE_REALREPO=1 (set by .ci/run) its absence fails every test instead. Tests use the
snapshot as a new user would: no `.continuous.toml`, the built-in library, a per-test SQLite tracking database.

The snapshot's npm dependencies are installed once into `.cache/realrepo/installed` (`make realrepo-deps`, run by
`make test`); each copy links its node_modules folders there, so the fixture's own tsc type-checks what a scenario
wrote. A scratch PostgreSQL database shaped like the snapshot's supabase/types.ts is created per session.
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

from ..conftest import require_postgres
from .checks import link_node_modules, scratch_database

REPO_ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).parent / "continuous")
INSTALLED = REPO_ROOT / ".cache" / "realrepo" / "installed"
_HERE = Path(__file__).parent


def _default_fixture() -> Path:
    """`../shared/fixtures/dhg-mono` beside this repository, else beside its main worktree."""
    candidates = [REPO_ROOT.parent / "shared" / "fixtures" / "dhg-mono"]
    proc = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        candidates.append(Path(proc.stdout.strip()).parent.parent / "shared" / "fixtures" / "dhg-mono")
    return next((c for c in candidates if (c / "package.json").is_file()), candidates[0])


def fixture_path() -> Path:
    return Path(os.environ.get("CONTINUOUS_REALREPO_FIXTURE") or _default_fixture())


def _missing_reason() -> str | None:
    path = fixture_path()
    if (path / "package.json").is_file():
        return None
    return (
        f"real-repository fixture not found at {path} "
        "(set CONTINUOUS_REALREPO_FIXTURE to a copy of the dhg-mono snapshot)"
    )


def _ours(item: pytest.Item) -> bool:
    return _HERE in Path(str(item.fspath)).parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if _ours(item)]
    for item in ours:
        item.add_marker(pytest.mark.realrepo)
    reason = _missing_reason()
    if reason is None or not ours or os.environ.get("CONTINUOUS_REQUIRE_REALREPO") == "1":
        return
    # One line for the whole tier, not one skip per test.
    items[:] = [item for item in items if not _ours(item)]
    config.hook.pytest_deselected(items=ours)
    config.stash[_SKIPPED] = f"real-repository tier skipped ({len(ours)} tests): {reason}"


_SKIPPED = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    line = config.stash.get(_SKIPPED, None)
    if line:
        terminalreporter.write_line(line)


def require_fixture() -> Path:
    path = fixture_path()
    reason = _missing_reason()
    if reason is None:
        return path
    if os.environ.get("CONTINUOUS_REQUIRE_REALREPO") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="session")
def installed_deps() -> Path:
    """The snapshot's npm dependencies (installed on first use; seconds when .cache/realrepo is current)."""
    require_fixture()
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / ".ci" / "realrepo-deps.py")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CONTINUOUS_REALREPO_FIXTURE": str(fixture_path())},
    )
    if proc.returncode != 0 or not (INSTALLED / ".complete").is_file():
        message = f"the fixture's npm dependencies could not be installed: {(proc.stderr or proc.stdout)[-800:]}"
        if os.environ.get("CONTINUOUS_REQUIRE_REALREPO") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return INSTALLED


@pytest.fixture(scope="session")
def pristine_repo(tmp_path_factory: pytest.TempPathFactory, installed_deps: Path) -> Path:
    """One committed git copy of the snapshot per session; tests copy it, never change it."""
    source = require_fixture()
    root = tmp_path_factory.mktemp("realrepo") / "dhg-mono"
    shutil.copytree(source, root, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".git"))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "snapshot")
    link_node_modules(root, installed_deps)
    return root


@pytest.fixture(scope="session")
def scratch_db(pristine_repo: Path) -> Iterator[str]:
    """A scratch PostgreSQL database shaped like the snapshot's live database (from its supabase/types.ts)."""
    server = require_postgres()
    with scratch_database(server, pristine_repo) as url:
        yield url


@pytest.fixture
def real_repo(pristine_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh copy of the snapshot (with its git history of one commit) and its own tracking database."""
    root = tmp_path / "dhg-mono"
    shutil.copytree(pristine_repo, root, symlinks=True)
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", f"sqlite:///{tmp_path}/tracking.db")
    monkeypatch.setenv("CONTINUOUS_NO_DAEMON", "1")
    monkeypatch.delenv("CONTINUOUS_TARGET_DATABASE_URL", raising=False)
    monkeypatch.delenv("CONTINUOUS_TEST_DATABASE_URL", raising=False)
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
            if name == "node_modules" and full.is_symlink():
                continue
            if full.is_symlink():
                out[str(full.relative_to(root))] = (os.readlink(full).encode(), 0)
                continue
            out[str(full.relative_to(root))] = (full.read_bytes(), stat.S_IMODE(full.stat().st_mode))
    return out
