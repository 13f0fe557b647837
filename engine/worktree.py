"""The worktree a run happens in: where it is, whether it is in a state we may change, and its run lock.

Locks live in the worktree's own git directory (`.git` for the main worktree, `.git/worktrees/<name>` for a
linked one), so runs in different worktrees of one repository never block each other while two runs in one worktree do.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from continuous.common.errors import UserError
from continuous.common.gitinfo import GitLocation, locate
from continuous.dsl.model import RuleBase

STATE_DIR = "continuous"


@dataclass(frozen=True)
class Workspace:
    location: GitLocation

    @property
    def root(self) -> Path:
        return self.location.worktree

    @property
    def git_dir(self) -> Path:
        return self.location.git_dir

    @property
    def branch(self) -> str | None:
        return self.location.branch

    @property
    def state_dir(self) -> Path:
        return self.location.git_dir / STATE_DIR

    def head(self) -> str | None:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() or None


def open_workspace(repo: Path | str | None = None) -> Workspace:
    return Workspace(locate(Path(repo) if repo is not None else None))


def load_repo_rule_base(root: Path) -> RuleBase:
    from continuous.common.config import load_config
    from continuous.dsl.loader import load_config_rule_base

    return load_config_rule_base(load_config(root))


def check_runnable(ws: Workspace) -> None:
    """Refuse, before any change, a worktree we must not run in."""
    if ws.head() is None:
        raise UserError(f"{ws.root} has no commit yet", hint="make a first commit, then run the scenario")
    if ws.branch is None:
        raise UserError(
            f"{ws.root} is on a detached HEAD",
            hint="check out a branch first (git switch -c my-branch) so the run has a home",
        )
    g = ws.git_dir
    for marker, what in (
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase or am"),
        ("MERGE_HEAD", "a merge"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
        ("BISECT_LOG", "a bisect"),
    ):
        if (g / marker).exists():
            raise UserError(
                f"{what} is in progress in {ws.root}",
                hint="finish or abort it (e.g. git rebase --abort / git merge --abort) first",
            )


def dirty_paths(root: Path) -> dict[str, str]:
    """Paths that differ from HEAD (staged, unstaged or untracked) → their two-letter status. Read-only."""
    proc = subprocess.run(
        ["git", "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise UserError(f"git status failed in {root}: {proc.stderr.decode(errors='replace').strip()}")
    out: dict[str, str] = {}
    entries = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        out[path] = status
        if status[0] in "RC":
            if i < len(entries) and entries[i]:
                out[entries[i]] = "D "
            i += 1
    return out


# ---------------------------------------------------------------- the run lock


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class RunLock:
    """An exclusive lock file naming the execution and its process; stale once that process died."""

    def __init__(self, ws: Workspace) -> None:
        self.path = ws.state_dir / "run.lock"

    def holder(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def acquire(self, execution_id: str, *, takeover: str | None = None) -> None:
        """Take the lock; `takeover` names an interrupted execution whose stale lock may be replaced."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"execution_id": execution_id, "pid": os.getpid()}).encode()
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                held = self.holder() or {}
                pid = int(str(held.get("pid", 0)) or 0)
                other = str(held.get("execution_id", "?"))
                if pid_alive(pid):
                    raise UserError(
                        f"another run ({other}, pid {pid}) is active in this worktree",
                        hint="wait for it to finish, or use another worktree (git worktree add)",
                    ) from None
                if other.startswith("starting-") or (takeover is not None and other in (takeover, "?")):
                    self.path.unlink(missing_ok=True)
                    continue
                raise UserError(
                    f"run {other} was interrupted in this worktree and still owns it",
                    hint=f"`continuous resume {other}` finishes it, `continuous rollback {other}` undoes it",
                ) from None
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            return
        raise UserError(f"cannot take the run lock {self.path}")

    def release(self, execution_id: str) -> None:
        held = self.holder()
        if held is not None and held.get("execution_id") == execution_id:
            self.path.unlink(missing_ok=True)
