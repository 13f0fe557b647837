"""The worktree's git status, read once per command and shared by the caches keyed on it (the conventions', the
facts'), read again after the command itself changes the worktree. Counted on real git processes: a wrapper on
PATH logs every git the command starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from continuous.common import worktree_state

from ..conftest import init_repo

REPO_ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).parent / "continuous")
STATUS = "status --porcelain=v2"


def _counting_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `git` logs its arguments, a line a call, then runs the real git."""
    real = shutil.which("git")
    assert real is not None
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    log = tmp_path / "git.log"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CONTINUOUS_NO_DAEMON": "1",
    }
    return env, log


def test_a_suggest_reads_the_worktree_s_git_status_once(tmp_path: Path) -> None:
    repo = tmp_path / "monorepo"
    shutil.copytree(REPO_ROOT / "scenarios" / "example-monorepo", repo)
    (repo / ".continuous.toml").unlink()  # the conventions are detected, and cached on the worktree's state
    init_repo(repo)
    env, log = _counting_git(tmp_path)
    for cache in ("cold", "warm"):
        log.unlink(missing_ok=True)
        proc = subprocess.run(
            [EXE, "suggest", "a table for bookmarks"], cwd=repo, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        calls = log.read_text().splitlines()
        assert sum(c.startswith(STATUS) for c in calls) == 1, (cache, calls)


def test_inside_a_command_the_status_is_shared_until_the_worktree_is_said_to_change(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    code: list[str] = []
    with worktree_state.memoised():
        before = worktree_state.state(repo, code, "a")
        (repo / "new.txt").write_text("x\n")
        assert worktree_state.state(repo, code, "a") == before  # the status is the command's first reading
        assert worktree_state.state(repo, code, "b") != before  # each cache's own salt, on the same status
        worktree_state.forget(repo)
        after = worktree_state.state(repo, code, "a")
        assert after != before
        with worktree_state.memoised(share=False):  # a server's loop: each read sees the worktree as it is
            (repo / "other.txt").write_text("y\n")
            assert worktree_state.state(repo, code, "a") != after
    # outside any command, every key reads git
    (repo / "third.txt").write_text("z\n")
    assert worktree_state.state(repo, code, "a") not in (before, after)
