"""Where we are in git: worktree root, common directory (shared by all worktrees), branch.

Uses the git program directly (no GitPython) because it is needed on fast paths such as locating the database.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from continuous.common.errors import UserError


def git(args: list[str], cwd: Path, *, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise UserError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()}")
    return proc.stdout.strip()


@dataclass(frozen=True)
class GitLocation:
    worktree: Path
    common_dir: Path
    git_dir: Path
    branch: str | None


def locate(start: Path | None = None) -> GitLocation:
    """The git worktree containing `start`; a clear UserError outside any repository."""
    start = (start or Path.cwd()).resolve()
    if not start.exists():
        raise UserError(f"{start}: no such directory")
    proc = subprocess.run(
        ["git", "rev-parse", "--show-toplevel", "--git-common-dir", "--git-dir"],
        cwd=start,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise UserError(
            f"{start} is not inside a git repository",
            hint="run continuous inside a git worktree (git init creates one)",
        )
    top, common, gitdir = proc.stdout.strip().splitlines()[:3]
    common_path = Path(common) if Path(common).is_absolute() else (start / common)
    git_dir = Path(gitdir) if Path(gitdir).is_absolute() else (start / gitdir)
    branch_proc = subprocess.run(
        ["git", "symbolic-ref", "--quiet", "--short", "HEAD"],
        cwd=start,
        capture_output=True,
        text=True,
        check=False,
    )
    branch = branch_proc.stdout.strip() or None
    return GitLocation(Path(top).resolve(), common_path.resolve(), git_dir.resolve(), branch)
