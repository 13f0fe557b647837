"""The repository's discovered facts, cached between `suggest` runs while the worktree does not change.

Discovery walks the repository (a third of a cold `suggest` in a large monorepo). Its result only changes when
the files change, and git says when they do: the cache key is the HEAD commit, `git status` (every modified,
added, deleted or untracked file, and every ignored file outside an ignored folder — discovery reads ignored
files its globs name, such as `.env.example` — each with its size and modification time), the DSL files the
discovery rules come from and the code that discovers (the engine's and the DSL's modules). Anything else — no
git, an unreadable cache — just discovers again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

_VERSION = 2
_PACKAGE = Path(__file__).resolve().parent.parent


def _state(root: Path, dsl_files: list[str]) -> str | None:
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
    h = hashlib.sha256(f"v{_VERSION}\0{root}\0".encode())
    h.update(proc.stdout)
    # a changed file's stamp tells a second edit from the first
    for path in _paths(proc.stdout):
        _stamp(h, path, root / path)
    code = [
        str(p) for sub in ("engine", "dsl") for pattern in ("*.py", "data/*") for p in (_PACKAGE / sub).glob(pattern)
    ]
    for f in sorted(dsl_files) + sorted(code):
        _stamp(h, f, Path(f))
    return h.hexdigest()


def _stamp(h: Any, label: str, path: Path) -> None:
    """A file's size and modification time into the key (or that it is gone)."""
    try:
        st = os.stat(path)
        h.update(f"{label}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    except OSError:
        h.update(f"{label}\0gone\0".encode())


# porcelain v2: the path follows 8 fields in an ordinary entry, 9 in a rename or copy, 10 in a conflict
_FIELDS = {b"1": 8, b"2": 9, b"u": 10}


def _paths(status: bytes) -> list[str]:
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


def cached(root: Path, dsl_files: list[str], cache_dir: Path, discover: Callable[[], list[Any]]) -> list[Any]:
    """The facts of `root`: from the cache when the worktree is as it was, else `discover()` (and cached)."""
    key = _state(root, dsl_files)
    if key is None:
        return discover()
    path = cache_dir / "facts" / (hashlib.sha256(str(root).encode()).hexdigest()[:16] + ".pickle")
    try:
        with path.open("rb") as fh:
            entry = pickle.load(fh)
        if entry.get("key") == key:
            from continuous.engine.facts import Fact

            return [Fact.model_construct(type=t, fields=f, source=s) for t, f, s in entry["facts"]]
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, KeyError, TypeError):
        pass
    facts = discover()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            rows = [(f.type, dict(f.fields), f.source) for f in facts]
            pickle.dump({"key": key, "facts": rows}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
    return facts
