"""The worktree a run happens in: where it is, whether it is in a state we may change, and its run lock.

Locks live in the worktree's own git directory (`.git` for the main worktree, `.git/worktrees/<name>` for a
linked one), so runs in different worktrees of one repository never block each other while two runs in one worktree do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from continuous.common import faults
from continuous.common.errors import UserError
from continuous.common.gitinfo import GitLocation, locate
from continuous.dsl.model import RuleBase
from continuous.engine import git

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
        return git.text(self.root, "rev-parse", "--verify", "-q", "HEAD") or None


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
    proc = git.run(root, "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all")
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


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), so a reused pid is not mistaken for the
    process that wrote a lock; None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int, start: str | None = None) -> bool:
    """Whether `pid` is a live process, and the same one that had start time `start` (when given)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[-1].split()
    except OSError:
        return True
    if fields and fields[0] == "Z":
        return False
    return start is None or (len(fields) > 19 and fields[19] == start)


Settled = Callable[[str], bool]


class RunLock:
    """The worktree's run lock: one run, resume or rollback at a time in a worktree.

    Two files in the worktree's git directory. `run.guard` is held with flock(2) by the live process, so the
    kernel releases it when that process dies, however it dies, and a reused pid can never look alive.
    `run.lock` names the execution that owns the worktree. It outlives its process on purpose: a run that was
    killed or interrupted still owns the worktree until it is resumed or rolled back. A lock whose owner has
    settled (succeeded or rolled back, as its journal says) is stale and is cleared by the next taker. The
    lock file also keeps the pid and its start time, for messages and where flock is not available.
    """

    def __init__(self, ws: Workspace) -> None:
        self.path = ws.state_dir / "run.lock"
        self.guard = ws.state_dir / "run.guard"
        self._fd: int | None = None

    def holder(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, execution_id: str, *, takeover: str | None = None, settled: Settled | None = None) -> None:
        """Take the worktree for `execution_id`. `takeover` names an interrupted execution whose ownership may
        be taken over (by its own resume or rollback); `settled(owner)` says whether an earlier owner has
        finished, so that its leftover lock may be cleared."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.guard, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            guarded = _try_flock(fd)
            if guarded is False:
                busy = self.holder() or {}
                raise UserError(
                    f"another run ({busy.get('execution_id', '?')}, pid {busy.get('pid', '?')}) is active in "
                    "this worktree",
                    hint="wait for it to finish, or use another worktree (git worktree add)",
                )
            held = self.holder()
            if held is not None:
                other = str(held.get("execution_id", "?"))
                if guarded is None and pid_alive(int(str(held.get("pid") or 0)), _str(held.get("start"))):
                    raise UserError(
                        f"another run ({other}, pid {held.get('pid')}) is active in this worktree",
                        hint="wait for it to finish, or use another worktree (git worktree add)",
                    )
                free = (
                    other in (execution_id, takeover)
                    or other.startswith("starting-")
                    or (settled is not None and settled(other))
                )
                if not free:
                    raise UserError(
                        f"run {other} was interrupted in this worktree and still owns it",
                        hint=f"`continuous resume {other}` finishes it, `continuous rollback {other}` undoes it",
                    )
            self._write(execution_id, os.getpid())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        faults.point("lock.acquire.after")

    def _write(self, execution_id: str, pid: int | None) -> None:
        data = {
            "execution_id": execution_id,
            "pid": pid,
            "start": process_start(pid) if pid else None,
            "state": "running" if pid else "interrupted",
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)

    def release(self, execution_id: str, *, keep_owner: bool = False) -> None:
        """Give the worktree back. With `keep_owner` the execution keeps owning it (interrupted, resumable) but
        no process holds it."""
        try:
            held = self.holder()
            if held is not None and held.get("execution_id") == execution_id:
                with faults.around("lock.release"):
                    if keep_owner:
                        self._write(execution_id, None)
                    else:
                        self.path.unlink(missing_ok=True)
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _try_flock(fd: int) -> bool | None:
    """Lock `fd` exclusively without waiting: False when a live process holds it, None where the file system
    has no flock (some network file systems; then the pid and its start time decide)."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True
