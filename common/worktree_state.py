"""A key that changes whenever a worktree's files do, for caches of what is read from them (the planner's
discovered facts, the detected conventions). Standard library only.

git says when files change: the key is the HEAD commit and `git status` (every modified, added, deleted or
untracked file, and every ignored file outside an ignored folder — discovery reads ignored files its globs name,
such as `.env.example` — each with its size and modification time), plus the stamps of the code that reads them.
No git, or git failing, gives no key: the caller reads the files again.

Inside `memoised()` (the CLI opens one around each command, a server one around each request) git status runs
once per worktree and every cache keyed on it shares the answer; whatever in the process changes the worktree
says so with `forget` (the engine's runs, resumes and rollbacks, a saved plan). Outside it, each key reads git:
a library caller in a long-lived process never gets a stale key.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

# worktree -> its `git status` output (None: git could not say), inside `memoised`
_MEMO: ContextVar[dict[Path, bytes | None] | None] = ContextVar("continuous_worktree_status", default=None)


@contextmanager
def memoised(share: bool = True) -> Iterator[None]:
    """Inside the block each worktree's status is read once (a fresh memo, whatever was outside); with
    `share=False`, never shared (a server's own loop, whose requests each open their own block)."""
    token = _MEMO.set({} if share else None)
    try:
        yield
    finally:
        _MEMO.reset(token)


def forget(root: Path | None = None) -> None:
    """This process changed `root` (None: any worktree): the next key reads git again."""
    memo = _MEMO.get()
    if memo is None:
        return
    if root is None:
        memo.clear()
    else:
        memo.pop(Path(root).resolve(), None)


def _status(root: Path) -> bytes | None:
    memo = _MEMO.get()
    where = Path(root).resolve() if memo is not None else root
    if memo is not None and where in memo:
        return memo[where]
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all", "--ignored=matching"],
            cwd=root,
            capture_output=True,
            check=False,
            timeout=30,
        )
        out = proc.stdout if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        out = None
    if memo is not None:
        memo[where] = out
    return out


def state(root: Path, code: Iterable[str | Path], salt: str) -> str | None:
    """The key of `root` as it is now, for a cache whose reader is `code` (files stamped into the key) and whose
    format is `salt`; None when git cannot say."""
    status = _status(root)
    if status is None:
        return None
    h = hashlib.sha256(f"{salt}\0{root}\0".encode())
    h.update(status)
    # a changed file's stamp tells a second edit from the first (the stamps are read each time, never shared)
    for path in status_paths(status):
        stamp(h, path, root / path)
    for f in sorted(str(c) for c in code):
        stamp(h, f, Path(f))
    return h.hexdigest()


def stamp(h: Any, label: str, path: Path) -> None:
    """A file's size and modification time into the key (or that it is gone)."""
    try:
        st = os.stat(path)
        h.update(f"{label}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    except OSError:
        h.update(f"{label}\0gone\0".encode())


# porcelain v2: the path follows 8 fields in an ordinary entry, 9 in a rename or copy, 10 in a conflict
_FIELDS = {b"1": 8, b"2": 9, b"u": 10}


def status_paths(status: bytes) -> list[str]:
    """The paths of `git status --porcelain=v2 -z` entries (a path may contain spaces; a rename's original path
    comes as the next entry and is not the worktree's)."""
    out: list[str] = []
    entries = iter(status.split(b"\0"))
    for entry in entries:
        kind = entry[:1]
        if kind in (b"?", b"!"):
            path = entry[2:]
        elif kind in _FIELDS:
            parts = entry.split(b" ", _FIELDS[kind])
            path = parts[-1] if len(parts) > _FIELDS[kind] else b""
            if kind == b"2":
                next(entries, None)
        else:
            continue
        if path:
            out.append(path.decode("utf-8", "replace"))
    return out
