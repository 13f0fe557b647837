"""What every step runner shares: the step context (rendering, paths kept inside the worktree), the virtual file
system a dry-run applies changes to, the `FileChange` a file step produces and the writing of those changes."""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from continuous.common.errors import RunFailed, UserError
from continuous.dsl import model as m
from continuous.dsl.params import NAME_MAX, PATH_MAX, control_problem, is_git_dir_name
from continuous.dsl.templating import builtin_context, render_string
from continuous.engine.facts import FactQuery

DEFAULT_TIMEOUT = 600
MAX_OUTPUT = 64 * 1024


class StepError(RunFailed):
    """A step failed while running (a command exited non-zero, an anchor is missing, SQL is rejected...)."""


# ---------------------------------------------------------------- paths


def safe_path(root: Path, raw: str, *, what: str = "path") -> str:
    """`raw` as a POSIX path relative to `root`; refuses paths that leave the worktree or reach a `.git`.

    The path is resolved first (symbolic links followed), and both the written and the resolved path are
    checked, so a link to `.git` or a nested repository's `sub/.git/config` is refused like `.git` itself."""
    if not raw or not raw.strip():
        raise UserError(f"the {what} is empty")
    problem = control_problem(raw)
    if problem:
        raise UserError(f"the {what} {raw!r} {problem}", hint="paths are single-line text")
    text = raw.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise UserError(f"the {what} {raw!r} is absolute; scenario paths must stay inside the worktree")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UserError(f"the {what} {raw!r} leaves the worktree (..)")
    if not parts:
        raise UserError(f"the {what} {raw!r} names the worktree itself")
    long = next((p for p in parts if len(p.encode()) > NAME_MAX), None)
    if long is not None or len(text.encode()) > PATH_MAX:
        raise UserError(
            f"the {what} {raw[:60]!r}... is too long (at most {NAME_MAX} bytes per name, {PATH_MAX} in all)",
            hint="use a shorter name",
        )
    if any(is_git_dir_name(p) for p in parts):
        raise UserError(f"the {what} {raw!r} is inside .git", hint="scenarios never write into a git directory")
    real_root = root.resolve()
    try:
        resolved = (real_root / "/".join(parts)).resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic link loop
        raise UserError(f"the {what} {raw!r} cannot be resolved: {exc}") from None
    if resolved == real_root or not resolved.is_relative_to(real_root):
        raise UserError(f"the {what} {raw!r} leaves the worktree through a symbolic link (it resolves to {resolved})")
    if any(is_git_dir_name(p) for p in resolved.relative_to(real_root).parts):
        raise UserError(
            f"the {what} {raw!r} reaches .git through a symbolic link (it resolves to {resolved})",
            hint="scenarios never write into a git directory",
        )
    return "/".join(parts)


def check_path_params(root: Path, scenario: m.Scenario, params: Mapping[str, Any]) -> None:
    """`path` parameters against the worktree itself (symbolic links resolved), before anything runs: a path
    parameter may reach a command's argument list without ever passing through a file step."""
    for p in scenario.params:
        value = params.get(p.name)
        if p.type == "path" and isinstance(value, str) and value:
            safe_path(root, value, what=f"parameter {p.name} of {scenario.id}")


# ---------------------------------------------------------------- virtual file system


class VirtualFS:
    """The worktree as seen by a sequence of steps: disk content overlaid with changes not written yet."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.overlay: dict[str, bytes | None] = {}

    def read(self, rel: str) -> bytes | None:
        if rel in self.overlay:
            return self.overlay[rel]
        path = self.root / rel
        try:
            if path.is_file():
                return path.read_bytes()
        except OSError:
            return None
        return None

    def read_text(self, rel: str) -> str | None:
        data = self.read(rel)
        return None if data is None else data.decode("utf-8", "surrogateescape")

    def apply(self, changes: list[FileChange]) -> None:
        for ch in changes:
            self.overlay[ch.path] = ch.after

    def list(self, folder: str) -> list[str]:
        """Files directly in `folder` (POSIX, relative to the root), as the overlay leaves them."""
        prefix = folder.rstrip("/") + "/" if folder not in ("", ".") else ""
        found: set[str] = set()
        base = self.root / folder if prefix else self.root
        with contextlib.suppress(OSError):
            found.update(prefix + p.name for p in base.iterdir() if p.is_file())
        for path, content in self.overlay.items():
            if path.startswith(prefix) and "/" not in path[len(prefix) :]:
                if content is None:
                    found.discard(path)
                else:
                    found.add(path)
        return sorted(found)


@dataclass
class FileChange:
    path: str
    before: bytes | None
    after: bytes | None
    mode: int | None = None  # permission bits for a new file (a moved script stays executable)

    @property
    def kind(self) -> Literal["created", "modified", "deleted"]:
        if self.before is None:
            return "created"
        if self.after is None:
            return "deleted"
        return "modified"

    def diff(self) -> str:
        a = [] if self.before is None else self.before.decode("utf-8", "replace").splitlines(keepends=True)
        b = [] if self.after is None else self.after.decode("utf-8", "replace").splitlines(keepends=True)
        env = is_env_file(self.path)
        lines = difflib.unified_diff(
            a,
            b,
            "/dev/null" if self.before is None else f"a/{self.path}",
            "/dev/null" if self.after is None else f"b/{self.path}",
            n=0 if env else 3,
        )
        if env:
            lines = (
                mask_env_line(line) if line[:1] in (" ", "-") and not line.startswith("---") else line for line in lines
            )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


_ENV_FILE = re.compile(r"(?:^|/)\.env(?:\.[^/]*)?$")
_ENV_ASSIGNMENT = re.compile(r"^([ -]\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*)(\S.*?)(\r?\n?)$")


def is_env_file(path: str) -> bool:
    """`.env`, `.env.example`, `.env.local`, ...: files whose values may be secrets."""
    return bool(_ENV_FILE.search(path))


def mask_env_line(line: str) -> str:
    """An existing or removed assignment keeps its name and loses its value: a diff never prints a secret."""
    return _ENV_ASSIGNMENT.sub(r"\1***\3", line)


def _prune_empty(root: Path, folder: Path) -> None:
    """Folders a deletion leaves empty go too, as with `git rm` and `mv` (rollback recreates them)."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def write_changes(root: Path, changes: list[FileChange]) -> None:
    for ch in changes:
        target = root / ch.path
        if ch.after is None:
            target.unlink(missing_ok=True)
            _prune_empty(root, target.parent)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.continuous-tmp")
        tmp.write_bytes(ch.after)
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        elif ch.mode is not None:
            os.chmod(tmp, ch.mode)
        os.replace(tmp, target)


# ---------------------------------------------------------------- context


@dataclass
class StepContext:
    root: Path
    scenario: m.Scenario
    params: Mapping[str, Any]
    now: datetime | None = None
    facts: FactQuery | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.variables = {
            **builtin_context(self.now),
            "scenario_id": self.scenario.id,
            "worktree_name": self.root.name,
            "facts": self.facts if self.facts is not None else FactQuery(),
            "note": self._note,
            **self.params,
        }

    def _note(self, text: object) -> str:
        line = " ".join(str(text).split())
        if line and line not in self.notes:
            self.notes.append(line)
        return ""

    def render(self, text: str, where: str) -> str:
        return render_string(text, self.variables, where=f"{where} of {self.scenario.id}")

    def path(self, text: str, where: str) -> str:
        return safe_path(self.root, self.render(text, where), what=f"{where} of {self.scenario.id}")


def one_change(rel: str, before: bytes | None, after: bytes | None) -> list[FileChange]:
    return [] if before == after else [FileChange(rel, before, after)]
