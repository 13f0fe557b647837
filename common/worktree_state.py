"""A key that changes whenever a worktree's files do, for caches of what is read from them (the planner's
discovered facts, the detected conventions). Standard library only.

git says when files change: the key is the HEAD commit and `git status` (every modified, added, deleted or
untracked file, and every ignored file outside an ignored folder — discovery reads ignored files its globs name,
such as `.env.example` — each with its size and modification time), plus the stamps of the code that reads them.
No git, or git failing, gives no key: the caller reads the files again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def state(root: Path, code: Iterable[str | Path], salt: str) -> str | None:
    """The key of `root` as it is now, for a cache whose reader is `code` (files stamped into the key) and whose
    format is `salt`; None when git cannot say."""
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all", "--ignored=matching"],
            cwd=root,
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    h = hashlib.sha256(f"{salt}\0{root}\0".encode())
    h.update(proc.stdout)
    # a changed file's stamp tells a second edit from the first
    for path in status_paths(proc.stdout):
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
