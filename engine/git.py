"""The one way the engine runs git: plumbing commands as argument lists, no shell, bytes in and out.

Every call goes through `run`, so the environment (a private index, the checkpoint identity), the error text and
the fault points are handled once, whatever the command.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from continuous.common import faults
from continuous.common.errors import RunFailed


def run(
    root: Path,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    index: Path | None = None,
    check: bool = False,
    what: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """`git args...` in `root`; with `check`, a non-zero exit raises RunFailed ("cannot <what>: <stderr>")."""
    extra: dict[str, str] = dict(env or {})
    if index is not None:
        extra["GIT_INDEX_FILE"] = str(index)
    proc = subprocess.run(
        ["git", *args],
        cwd=root,
        input=input,
        capture_output=True,
        check=False,
        env={**os.environ, **extra} if extra else None,
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or f"git {args[0]} exited {proc.returncode}"
        raise RunFailed(f"cannot {what or 'run git ' + args[0]}: {message}")
    return proc


def text(root: Path, *args: str, **kwargs: Any) -> str:
    """The decoded, stripped standard output of a git command."""
    return run(root, *args, **kwargs).stdout.decode("utf-8", "surrogateescape").strip()


def untracked_dirs(root: Path) -> list[str]:
    """Untracked, not ignored folders at their topmost level (empty ones included), without the slash."""
    proc = run(root, "ls-files", "-z", "--others", "--directory", "--exclude-standard")
    entries = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted(e.rstrip("/") for e in entries if e.endswith("/"))


def set_index(root: Path, entries: dict[str, str | None]) -> None:
    """Set index entries ("mode blob", or None: absent), in one git call."""
    if not entries:
        return
    records = "".join(f"0 {'0' * 40}\t{p}\0" if e is None else f"{e}\t{p}\0" for p, e in sorted(entries.items()))
    with faults.around("git.update-index"):
        run(root, "update-index", "-z", "--index-info", input=records.encode("utf-8", "surrogateescape"))


def tree_blobs(root: Path, commit: str, paths: list[str]) -> dict[str, str]:
    """path → blob id in `commit` (absent paths left out), in one git call per 500 paths."""
    out: dict[str, str] = {}
    for chunk in chunks(paths):
        for meta, path in _records(run(root, "ls-tree", "-z", commit, "--", *chunk).stdout):
            out[path] = meta.split()[2]
    return out


def head_blob(root: Path, path: str) -> str | None:
    return text(root, "rev-parse", "-q", "--verify", f"HEAD:{path}") or None


def index_entries(root: Path, paths: list[str]) -> dict[str, str]:
    """path → "mode blob" in the user's index (read-only)."""
    return _entries(root, paths, ["ls-files", "-s", "-z"], lambda meta: (meta[0], meta[1]))


def head_entries(root: Path, paths: list[str]) -> dict[str, str]:
    """path → "mode blob" in HEAD's tree."""
    return _entries(root, paths, ["ls-tree", "-z", "HEAD"], lambda meta: (meta[0], meta[2]))


def _entries(
    root: Path, paths: list[str], command: list[str], mode_blob: Callable[[list[str]], tuple[str, str]]
) -> dict[str, str]:
    if not paths:
        return {}
    out: dict[str, str] = {}
    for meta, path in _records(run(root, *command, "--", *paths).stdout):
        mode, blob = mode_blob(meta.split())
        out[path] = f"{mode} {blob}"
    return out


def _records(stdout: bytes) -> list[tuple[str, str]]:
    """(meta, path) of each NUL-terminated `meta<TAB>path` record (ls-tree, ls-files -s)."""
    out = []
    for rec in stdout.decode("utf-8", "surrogateescape").split("\0"):
        if "\t" in rec:
            meta, path = rec.split("\t", 1)
            out.append((meta, path))
    return out


def chunks(paths: list[str], size: int = 500) -> list[list[str]]:
    """Argument lists stay far below the OS limit however many files an execution touches."""
    return [paths[i : i + size] for i in range(0, len(paths), size)]


# Folders of installed dependencies: reproducible, and far too many files to journal one by one.
_UNJOURNALED = frozenset({"node_modules", ".venv", "__pycache__"})


def ignored_entries(root: Path) -> list[str]:
    """Ignored files and topmost wholly ignored folders (with a slash), as git lists them without entering them."""
    proc = run(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
    return sorted(e for e in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if e)


def ignored_files(root: Path, limit: int = 20_000) -> list[str]:
    """Every file git ignores, folders of installed dependencies aside (at most `limit`): a command's files in an
    ignored archive folder are undone like any other."""
    out: list[str] = []
    for entry in ignored_entries(root):
        if any(part in _UNJOURNALED for part in entry.rstrip("/").split("/")):
            continue
        full = root / entry.rstrip("/")
        if entry.endswith("/"):
            for dirpath, dirnames, filenames in os.walk(full):
                dirnames[:] = [d for d in dirnames if d not in _UNJOURNALED]
                out += [(Path(dirpath) / f).relative_to(root).as_posix() for f in filenames]
                if len(out) > limit:
                    return sorted(out)
        else:
            out.append(entry)
    return sorted(out)
