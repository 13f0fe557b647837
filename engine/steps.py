"""Step runners: one per step kind of the DSL.

File-changing steps (render, edit, doc, insert) are pure functions from the current content of the worktree to
a list of `FileChange`s. A real run writes those changes; a dry-run applies them to an in-memory overlay and moves on,
so the dry-run predicts exactly the files (and bytes) the real run writes, with the same code. Steps that act outside
the file system (run, sql) are described in a dry-run and executed in a real run.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

from continuous.common.errors import RunFailed, UserError
from continuous.dsl import model as m
from continuous.dsl.params import NAME_MAX, PATH_MAX, control_problem, is_git_dir_name
from continuous.dsl.templating import builtin_context, render_string, render_template
from continuous.engine.facts import FactQuery

DEFAULT_TIMEOUT = 600
MAX_OUTPUT = 64 * 1024
_SIMPLE_VAR = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


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
        raise UserError(
            f"the {what} {raw!r} leaves the worktree through a symbolic link (it resolves to {resolved})"
        )
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
            if path.startswith(prefix) and "/" not in path[len(prefix):]:
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
            lines = (mask_env_line(line) if line[:1] in (" ", "-") and not line.startswith("---") else line
                     for line in lines)
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
        )


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


def describe(step: m.Step, ctx: StepContext) -> str:
    """One line saying what a step does, with its templates rendered."""
    if isinstance(step, m.RenderStep):
        return f"render {step.template} to {ctx.path(step.to, 'target path')}"
    if isinstance(step, m.EditStep):
        value = "" if step.op == "delete" else f" = {_edit_value(step, ctx)!r}"
        key = ctx.render(step.key, "key")
        return f"edit {step.format} {ctx.path(step.file, 'file')}: {step.op} {key}{value}"
    if isinstance(step, m.RunStep):
        argv = " ".join(_quote(a) for a in render_argv(step.argv, ctx))
        cwd = f" in {ctx.path(step.cwd, 'cwd')}" if step.cwd else ""
        return f"run {argv}{cwd}"
    if isinstance(step, m.SqlStep):
        return describe_sql(step, ctx)
    if isinstance(step, m.DocStep):
        return f"append to {ctx.path(step.file, 'file')}"
    if isinstance(step, m.InsertStep):
        return f"insert into {ctx.path(step.file, 'file')} {step.where} {ctx.render(step.anchor, 'anchor')!r}"
    if isinstance(step, m.CommandStep):
        return (
            f"dispatch command {ctx.render(step.command, 'command')!r} in {ctx.path(step.file, 'file')} "
            f"(runs {ctx.render(step.runs, 'command line')})"
        )
    if isinstance(step, m.EntryStep):
        return f"add an entry to {ctx.render(step.array, 'array')} in {ctx.path(step.file, 'file')}"
    if isinstance(step, m.RowStep):
        return f"add a table row to {ctx.path(step.file, 'file')}"
    if isinstance(step, m.RouteStep):
        return (
            f"route {ctx.render(step.path, 'route path')} to {ctx.render(step.component, 'component')} "
            f"in {ctx.path(step.file, 'file')}"
        )
    if isinstance(step, m.ImportStep):
        return (
            f"import {ctx.render(step.names, 'imported names')} from {ctx.render(step.module, 'module')!r} "
            f"in {ctx.path(step.file, 'file')}"
        )
    if isinstance(step, m.MoveStep):
        return f"move {ctx.path(step.source, 'source path')} to {ctx.path(step.to, 'target path')}"
    if isinstance(step, m.ForwardStep):
        return (
            f"forward what {ctx.path(step.file, 'file')} does not route to port {ctx.render(step.port, 'port')} "
            f"(or ${ctx.render(step.env, 'port variable')})"
        )
    if isinstance(step, m.EndpointStep):
        return (
            f"add route {ctx.render(step.method, 'method')} {ctx.render(step.path, 'route path')} "
            f"to {ctx.path(step.file, 'file')}"
        )
    raise AssertionError(step)


def expression_unmet(rendered: str, template: str) -> str | None:
    """None when an `if "{{ ... }}"` condition rendered true; else why not: what it rendered, when that is a
    sentence (`no test runner in apps/x/package.json`), or the condition itself."""
    text = rendered.strip()
    if text.lower() in ("true", "yes", "1"):
        return None
    return f"if {template}" if text.lower() in ("false", "no", "0", "", "none") else text


def unmet_conditions(step: m.Step | m.Validation, ctx: StepContext, fs: VirtualFS) -> list[str]:
    """The `when` conditions of a step or validation that do not hold (it is then skipped), in words."""
    from continuous.engine.resolution import render_pattern

    out: list[str] = []
    for cond in step.when:
        if cond.pattern is not None:
            rendered = render_pattern(cond.pattern, ctx.variables)
            holds = rendered is not None and ctx.facts is not None and ctx.facts.has(rendered[0], **rendered[1])
            if rendered is None:
                rendered = (cond.pattern.type, {})
            if holds != (cond.kind == "fact"):
                args = ", ".join(f"{k}: {v!r}" for k, v in rendered[1].items())
                out.append(f"{'' if cond.kind == 'fact' else 'not '}{rendered[0]}({args})")
        elif cond.kind == "expr" and cond.path is not None:
            reason = expression_unmet(ctx.render(cond.path, "condition"), cond.path)
            if reason:
                out.append(reason)
        elif cond.path is not None:
            rel = ctx.path(cond.path, "condition path")
            exists = fs.read(rel) is not None or (ctx.root / rel).exists()
            if exists != (cond.kind == "exists"):
                out.append(f"{cond.kind} {rel}")
    return out


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[A-Za-z0-9_./:=@%+-]+", arg) else json.dumps(arg)


def render_argv(argv: tuple[str, ...], ctx: StepContext) -> list[str]:
    return [ctx.render(a, "argument") for a in argv]


FILE_STEPS = (
    m.RenderStep,
    m.EditStep,
    m.DocStep,
    m.InsertStep,
    m.CommandStep,
    m.EntryStep,
    m.RowStep,
    m.RouteStep,
    m.ImportStep,
    m.MoveStep,
    m.EndpointStep,
    m.ForwardStep,
)


def is_file_step(step: m.Step) -> bool:
    if isinstance(step, m.SqlStep):
        return step.action == "types"
    return isinstance(step, FILE_STEPS)


def file_changes(step: m.Step, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    """The changes a file step makes on top of `fs`; empty when the step is already done."""
    if isinstance(step, m.RenderStep):
        rel = ctx.path(step.to, "target path")
        template = ctx.render(step.template, "template name")
        content = render_template(ctx.scenario, template, ctx.variables).encode()
        return _change(rel, fs.read(rel), content)
    if isinstance(step, m.EditStep):
        return _edit(step, ctx, fs)
    if isinstance(step, m.DocStep):
        rel = ctx.path(step.file, "file")
        text = ctx.render(step.text, "text")
        before = fs.read_text(rel)
        if before is not None and text.strip() and text.strip() in before:
            return []
        body = before or ""
        if body and not body.endswith("\n"):
            body += "\n"
        if not text.endswith("\n"):
            text += "\n"
        return _change(rel, fs.read(rel), (body + text).encode())
    if isinstance(step, m.InsertStep):
        return _insert(step, ctx, fs)
    if isinstance(step, m.MoveStep):
        return _move(step, ctx, fs)
    if isinstance(
        step, m.CommandStep | m.EntryStep | m.RowStep | m.RouteStep | m.ImportStep | m.EndpointStep | m.ForwardStep
    ):
        return _structural(step, ctx, fs)
    if isinstance(step, m.SqlStep) and step.action == "types":
        return types_changes(step, ctx, fs)
    raise AssertionError(f"{type(step).__name__} is not a file step")


def _structural(
    step: m.CommandStep | m.EntryStep | m.RowStep | m.RouteStep | m.ImportStep | m.EndpointStep | m.ForwardStep,
    ctx: StepContext,
    fs: VirtualFS,
) -> list[FileChange]:
    """Edits that read the file's structure and write like its neighbours; a file they cannot read stops the run
    before anything changes (the dry-run names the file and what it expected)."""
    from continuous.engine import jsedit, mdtable, shellwrap

    rel = ctx.path(step.file, "file")
    before = fs.read_text(rel)
    if before is None:
        raise StepError(f"step {step.name!r}: {rel} does not exist")
    try:
        if isinstance(step, m.CommandStep):
            cmd = shellwrap.NewCommand(
                ctx.render(step.command, "command"),
                ctx.render(step.runs, "command line"),
                ctx.render(step.help, "help text").strip(),
            )
            after = shellwrap.add_command(before, cmd, rel)
        elif isinstance(step, m.EntryStep):
            values = {k: ctx.render(v, f"value {k}") for k, v in step.values.items()}
            after = jsedit.add_entry(before, ctx.render(step.array, "array"), values)
        elif isinstance(step, m.RowStep):
            values = {k: ctx.render(v, f"value {k}") for k, v in step.values.items()}
            after = mdtable.add_row(before, values)
        elif isinstance(step, m.ForwardStep):
            after = jsedit.add_forward(
                before, ctx.render(step.port, "port").strip(), ctx.render(step.env, "port variable").strip()
            )
        elif isinstance(step, m.EndpointStep):
            after = jsedit.add_endpoint(
                before, ctx.render(step.method, "method").upper(), ctx.render(step.path, "route path")
            )
        elif isinstance(step, m.RouteStep):
            after = jsedit.add_route(
                before, ctx.render(step.path, "route path"), ctx.render(step.component, "component")
            )
        else:
            after = jsedit.add_import(
                before, ctx.render(step.names, "imported names"), ctx.render(step.module, "module")
            )
    except (shellwrap.ShellFormError, jsedit.JsEditError, mdtable.TableError) as exc:
        message = str(exc)
        if not message.startswith(rel):
            message = f"{rel}: {message}"
        raise StepError(
            f"step {step.name!r}: {message}",
            hint="the file does not have the structure this step edits; make the change by hand or adapt the file",
        ) from None
    if after is None:
        return []
    return _change(rel, fs.read(rel), after.encode())


_MODULE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


def _move(step: m.MoveStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    """Delete the source and write the target; a module's relative imports are rewritten for its new folder.
    A folder moves file by file, so the dry-run shows every file and rollback restores each one, git-ignored
    destinations included."""
    source = ctx.path(step.source, "source path")
    target = ctx.path(step.to, "target path")
    files = _folder_files(ctx.root, source, fs) if fs.read(source) is None else None
    if files:
        if target == source or target.startswith(source.rstrip("/") + "/"):
            raise StepError(f"step {step.name!r}: cannot move {source} into itself ({target})")
        changes: list[FileChange] = []
        for rel in files:
            inner = rel[len(source.rstrip("/")) + 1:]
            changes += _move_file(step, ctx, fs, rel, f"{target.rstrip('/')}/{inner}")
        return changes
    return _move_file(step, ctx, fs, source, target)


def _folder_files(root: Path, folder: str, fs: VirtualFS) -> list[str]:
    """Every file under `folder` as the overlay leaves it; a symbolic link cannot be moved by content."""
    base = root / folder
    prefix = folder.rstrip("/") + "/"
    found: set[str] = set()
    if base.is_dir() and not base.is_symlink():
        for dirpath, dirnames, filenames in os.walk(base):
            for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                if full.is_symlink():
                    raise StepError(
                        f"cannot move {folder}: {rel} is a symbolic link",
                        hint="move the folder with a `run` step, or replace the link first",
                    )
                found.add(rel)
    for path, content in fs.overlay.items():
        if path.startswith(prefix):
            if content is None:
                found.discard(path)
            else:
                found.add(path)
    return sorted(found)


def _move_file(step: m.MoveStep, ctx: StepContext, fs: VirtualFS, source: str, target: str) -> list[FileChange]:
    data = fs.read(source)
    if data is None:
        if fs.read(target) is not None:
            return []
        raise StepError(f"step {step.name!r}: cannot move {source}: the file does not exist")
    if fs.read(target) is not None:
        raise StepError(f"step {step.name!r}: cannot move {source} to {target}: the target exists")
    if target.endswith(_MODULE_SUFFIXES):
        from continuous.engine.jsedit import move_module

        text = data.decode("utf-8", "surrogateescape")
        data = move_module(text, source, target).encode("utf-8", "surrogateescape")
    disk = ctx.root / source
    mode = disk.stat().st_mode & 0o7777 if source not in fs.overlay and disk.is_file() else None
    return [FileChange(source, fs.read(source), None), FileChange(target, None, data, mode)]


def _change(rel: str, before: bytes | None, after: bytes | None) -> list[FileChange]:
    return [] if before == after else [FileChange(rel, before, after)]


def _insert(step: m.InsertStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    rel = ctx.path(step.file, "file")
    text = ctx.render(step.text, "text")
    anchor = ctx.render(step.anchor, "anchor")
    before = fs.read_text(rel)
    if before is None:
        raise StepError(f"step {step.name!r}: cannot insert into {rel}: the file does not exist")
    if text.strip() and text.strip() in before:
        return []
    if not text.endswith("\n"):
        text += "\n"
    lines = before.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if anchor in line:
            if step.where == "before":
                lines.insert(i, text)
            else:
                if not line.endswith("\n"):
                    lines[i] = line + "\n"
                lines.insert(i + 1, text)
            return _change(rel, fs.read(rel), "".join(lines).encode())
    raise StepError(
        f"step {step.name!r}: anchor {anchor!r} not found in {rel}",
        hint="the file does not look the way the scenario expects; check it or the scenario",
    )


# ---------------------------------------------------------------- structured edits


def _edit_value(step: m.EditStep, ctx: StepContext) -> Any:
    value = step.value
    if isinstance(value, str):
        simple = _SIMPLE_VAR.match(value)
        if (
            simple
            and simple.group(1) in ctx.variables
            and not isinstance(ctx.variables[simple.group(1)], str)
        ):
            return ctx.variables[simple.group(1)]
        return ctx.render(value, "value")
    return value


def split_key(key: str) -> list[str]:
    """A dotted key; `\\.` keeps a literal dot (`dependencies.@dhg/shared`, `scripts.dev\\.app`)."""
    parts = re.split(r"(?<!\\)\.", key)
    return [p.replace("\\.", ".") for p in parts if p != ""]


def _edit(step: m.EditStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    rel = ctx.path(step.file, "file")
    raw = fs.read_text(rel)
    keys = split_key(ctx.render(step.key, "key"))
    if not keys:
        raise UserError(f"step {step.name!r} of {ctx.scenario.id}: empty key")
    value = None if step.op == "delete" else _edit_value(step, ctx)
    if step.format == "json":
        # In place: blank separator lines, key order, comment keys and indentation outside the change stay.
        from continuous.engine import jsonedit

        try:
            text = jsonedit.edit(raw or "", keys, step.op, value)
        except jsonedit.JsonEditError as exc:
            raise StepError(f"step {step.name!r}: cannot edit {rel}: {exc}") from None
        if text is None:
            return []
        if raw is None and not text.endswith("\n"):
            text += "\n"
        return _change(rel, fs.read(rel), text.encode())
    import yaml

    try:
        data = yaml.safe_load(raw) if raw is not None and raw.strip() else {}
    except yaml.YAMLError as exc:
        raise StepError(f"step {step.name!r}: {rel} is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    changed = _apply_edit(data, keys, step.op, value, step.name, rel)
    if not changed:
        return []
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return _change(rel, fs.read(rel), text.encode())


def _apply_edit(data: Any, keys: list[str], op: str, value: Any, name: str, rel: str) -> bool:
    node = data
    for i, key in enumerate(keys[:-1]):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
            continue
        if not isinstance(node, dict):
            raise StepError(f"step {name!r}: {'.'.join(keys[:i])} in {rel} is not an object")
        if key not in node:
            if op == "delete":
                return False
            node[key] = {}
        node = node[key]
    last = keys[-1]
    if isinstance(node, list) and last.isdigit():
        idx = int(last)
        if op == "delete":
            if idx >= len(node):
                return False
            del node[idx]
            return True
        if op == "set":
            if idx >= len(node):
                raise StepError(f"step {name!r}: index {idx} is past the end of the list in {rel}")
            if node[idx] == value:
                return False
            node[idx] = value
            return True
        node = node[idx]
        last = ""
    if not isinstance(node, dict) and last:
        raise StepError(f"step {name!r}: {'.'.join(keys[:-1]) or 'the document'} in {rel} is not an object")
    if op == "set":
        if node.get(last, object()) == value and last in node:
            return False
        node[last] = value
        return True
    if op == "delete":
        if last not in node:
            return False
        del node[last]
        return True
    target = node if not last else node.setdefault(last, [])
    if not isinstance(target, list):
        raise StepError(f"step {name!r}: {'.'.join(keys)} in {rel} is not a list, cannot append")
    if value in target:
        return False
    target.append(value)
    return True


# ---------------------------------------------------------------- commands


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int
    output: str
    seconds: float


def run_command(argv: list[str], cwd: Path, timeout: int | None, *, name: str) -> CommandResult:
    """Run an argument list (never a shell); non-zero exit, missing program or timeout raise StepError."""
    import time

    start = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            shell=False,
            timeout=timeout or DEFAULT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise StepError(
            f"step {name!r}: program {argv[0]!r} not found", hint="install it or put it on PATH"
        ) from None
    except subprocess.TimeoutExpired as exc:
        out = (exc.output or b"").decode("utf-8", "replace")[-MAX_OUTPUT:]
        raise StepError(
            f"step {name!r}: {' '.join(argv)} timed out after {timeout or DEFAULT_TIMEOUT}s\n{out}"
        ) from None
    output = proc.stdout.decode("utf-8", "replace")
    if len(output) > MAX_OUTPUT:
        output = "[... output truncated ...]\n" + output[-MAX_OUTPUT:]
    result = CommandResult(argv, proc.returncode, output, time.monotonic() - start)
    if proc.returncode != 0:
        raise StepError(
            f"step {name!r}: {' '.join(_quote(a) for a in argv)} exited with {proc.returncode}"
            + (f"\n{output.rstrip()}" if output.strip() else "")
        )
    return result


def missing_program(step: m.RunStep, ctx: StepContext) -> str | None:
    """A problem for the dry-run when the step's program is not installed (nothing has run yet)."""
    import shutil

    program = ctx.render(step.argv[0], "argument")
    if "/" in program or shutil.which(program) is not None:
        return None
    return f"program {program!r} is not on PATH; install it (or put it on PATH) before running this scenario"


def run_step(step: m.RunStep | m.CommandSucceeds, ctx: StepContext, name: str) -> CommandResult:
    argv = render_argv(step.argv, ctx)
    cwd = ctx.root / ctx.path(step.cwd, "cwd") if step.cwd else ctx.root
    if not cwd.is_dir():
        raise StepError(f"step {name!r}: working directory {cwd.relative_to(ctx.root)} does not exist")
    return run_command(argv, cwd, step.timeout_seconds, name=name)


# ---------------------------------------------------------------- SQL


_SQL_START = frozenset(
    [
        "create",
        "alter",
        "drop",
        "insert",
        "update",
        "delete",
        "select",
        "with",
        "grant",
        "revoke",
        "comment",
        "begin",
        "commit",
        "rollback",
        "do",
        "set",
        "truncate",
        "reset",
        "analyze",
        "vacuum",
        "refresh",
        "notify",
        "lock",
        "savepoint",
        "release",
        "explain",
        "copy",
        "call",
        "values",
        "declare",
        "security",
    ]
)


def split_sql(text: str) -> list[str]:
    """Split SQL into statements, honouring quotes, dollar quotes and comments (ValueError if unbalanced)."""
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    depth = 0
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j == -1 else j + 1
            buf.append("\n")
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j == -1:
                raise ValueError("unterminated /* comment")
            i = j + 2
            buf.append(" ")
            continue
        if c in "'\"":
            j = i + 1
            while True:
                j = text.find(c, j)
                if j == -1:
                    raise ValueError(f"unterminated {c} quote")
                if text.startswith(c * 2, j):
                    j += 2
                    continue
                break
            buf.append(text[i : j + 1])
            i = j + 1
            continue
        if c == "$":
            tag = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if tag:
                end = text.find(tag.group(0), i + len(tag.group(0)))
                if end == -1:
                    raise ValueError(f"unterminated dollar quote {tag.group(0)}")
                end += len(tag.group(0))
                buf.append(text[i:end])
                i = end
                continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced ')'")
        if c == ";" and depth == 0:
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
        else:
            buf.append(c)
        i += 1
    if depth != 0:
        raise ValueError("unbalanced '('")
    stmt = "".join(buf).strip()
    if stmt:
        out.append(stmt)
    return out


def check_sql(text: str, rel: str) -> list[str]:
    try:
        statements = split_sql(text)
    except ValueError as exc:
        raise StepError(f"{rel}: not valid SQL: {exc}") from None
    if not statements:
        raise StepError(f"{rel}: contains no SQL statement")
    for stmt in statements:
        word = stmt.split(None, 1)[0].lower()
        if word not in _SQL_START:
            raise StepError(f"{rel}: statement does not start with an SQL keyword: {stmt[:60]!r}")
    return statements


# Minimal Supabase stand-ins, so a migration written for Supabase applies to a plain PostgreSQL: its three API
# roles and `auth.uid()`. Created only where missing (a local Supabase has the real ones), inside the test's
# transaction, so they vanish with it.
SUPABASE_STANDINS = """
DO $standins$ DECLARE r text; BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
  CREATE SCHEMA IF NOT EXISTS auth;
  IF to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
      $uid$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $uid$;
  END IF;
END $standins$;
"""

# Everything a down migration could take away: relations, columns, functions, triggers, policies, types,
# schemas and constraints, outside PostgreSQL's own schemas.
_CATALOG = """
SELECT 'relation ' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND n.nspname NOT LIKE 'pg_temp%'
UNION ALL
SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'trigger ' || t.tgname || ' on ' || c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  WHERE NOT t.tgisinternal
UNION ALL
SELECT 'policy ' || p.polname || ' on ' || c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
UNION ALL
SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'schema ' || nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_%'
UNION ALL
SELECT 'constraint ' || conname || ' on ' || c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
UNION ALL
SELECT 'row security on ' || n.nspname || '.' || c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity
"""


def target_database_url() -> str | None:
    return os.environ.get("CONTINUOUS_TARGET_DATABASE_URL") or None


def scratch_database_url(root: Path) -> str | None:
    """The scratch PostgreSQL for `sql test` (CONTINUOUS_TEST_DATABASE_URL, else `test_database_url`).

    Refused when it is the tracking database or the target (live) database: a test must never touch either."""
    from continuous.common.config import load_config
    from continuous.common.errors import mask_url

    config = load_config(root)
    url = config.test_database_url
    if not url:
        return None
    if config.database_url and _plain_url(config.database_url) == _plain_url(url):
        raise UserError(
            f"the scratch database {mask_url(url)} is also the tracking database",
            hint="point test_database_url (or CONTINUOUS_TEST_DATABASE_URL) at a database used for nothing else",
        )
    target = target_database_url()
    if target and _plain_url(target) == _plain_url(url):
        raise UserError(
            f"the scratch database {mask_url(url)} is the target database (CONTINUOUS_TARGET_DATABASE_URL)",
            hint="a migration test never runs on a live database; create a scratch database for it",
        )
    if not url.startswith(("postgresql:", "postgresql+psycopg:", "postgres:")):
        raise UserError(
            f"the scratch database {mask_url(url)} is not PostgreSQL",
            hint="test_database_url takes a postgresql:// URL (migrations are tested with the Supabase stand-ins)",
        )
    return url


def _plain_url(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url.strip()).rstrip("/")


def down_migration(rel: str) -> str:
    """The sibling down migration of `x.sql`: `x_down.sql`."""
    return rel[: -len(".sql")] + "_down.sql" if rel.endswith(".sql") else rel + "_down"


def describe_sql(step: m.SqlStep, ctx: StepContext) -> str:
    rel = ctx.path(step.file, "file")
    if step.action == "types":
        return f"merge what the migrations add (tables, views, enums, columns) into {rel}"
    if step.action == "test":
        if scratch_database_url(ctx.root) is None:
            return f"sql test {rel}: parse only; not applied: no scratch database"
        return f"sql test {rel} and its down migration on the scratch database (rolled back)"
    return f"sql {step.action} {rel}"


def sql_step(step: m.SqlStep, ctx: StepContext) -> tuple[str, bool]:
    """Run an sql step; returns (output, pending): without a target database `apply` stays pending."""
    rel = ctx.path(step.file, "file")
    full = ctx.root / rel
    if not full.is_file():
        raise StepError(f"step {step.name!r}: SQL file {rel} does not exist")
    text = full.read_text(encoding="utf-8")
    statements = check_sql(text, rel)
    from continuous.common.errors import mask_url

    if step.action == "test":
        url = scratch_database_url(ctx.root)
        down_rel = down_migration(rel)
        down_path = ctx.root / down_rel
        down_text = down_path.read_text(encoding="utf-8") if down_path.is_file() else None
        down_statements = check_sql(down_text, down_rel) if down_text is not None else []
        parsed = f"{rel}: {len(statements)} statement(s)" + (
            f", {down_rel}: {len(down_statements)} statement(s)" if down_text is not None else ""
        )
        if url is None:
            return (
                f"{parsed} parse; not applied: no scratch database (set test_database_url in .continuous.toml "
                "or CONTINUOUS_TEST_DATABASE_URL to a scratch PostgreSQL)",
                False,
            )
        dropped = _outermost(try_migration(url, text, rel, down_text, down_rel))
        if dropped:
            shown = ", ".join(dropped[:8]) + (f" and {len(dropped) - 8} more" if len(dropped) > 8 else "")
            raise StepError(
                f"{down_rel} drops what existed before {rel} ran: {shown}",
                hint="a down migration may only undo what its up migration created",
            )
        return (
            f"{parsed} applied on the scratch database {mask_url(url)} and rolled back"
            + ("; the down migration dropped nothing that existed before" if down_text is not None else ""),
            False,
        )
    url = target_database_url()
    if url is None:
        return (
            f"PENDING: {rel} was NOT applied: no target database is configured. Set "
            "CONTINUOUS_TARGET_DATABASE_URL and apply it; it is recorded as a pending migration",
            True,
        )
    _execute_sql(url, text, statements, commit=True, rel=rel)
    return (f"{rel}: {len(statements)} statement(s) applied to {mask_url(url)}", False)


def _outermost(objects: list[str]) -> list[str]:
    """Catalog entries without those that belong to a listed relation (its columns, constraints, policies...)."""
    relations = {o.split(" ", 1)[1] for o in objects if o.startswith("relation ")}
    names = {r.split(".", 1)[-1] for r in relations}
    out = []
    for o in objects:
        kind, _, rest = o.partition(" ")
        if kind == "column" and rest.rsplit(".", 1)[0] in relations:
            continue
        if " on " in rest and rest.rsplit(" on ", 1)[1].split(".")[-1] in names and kind != "relation":
            continue
        out.append(o)
    return sorted(out, key=lambda o: (not o.startswith("relation "), o))


def try_migration(url: str, up: str, rel: str, down: str | None, down_rel: str) -> list[str]:
    """Apply `up` then `down` on the scratch database in one transaction that is rolled back.

    Returns what existed before `up` and is gone after `down` (empty when the pair is a clean round trip)."""
    import psycopg
    from continuous.common.errors import mask_url

    try:
        conn = psycopg.connect(_plain_url(url), connect_timeout=10)
    except psycopg.Error as exc:
        raise StepError(f"cannot connect to the scratch database {mask_url(url)}: {str(exc).strip()}") from None
    try:
        db = cast(Any, conn)
        db.execute(SUPABASE_STANDINS.encode())
        before = {r[0] for r in db.execute(_CATALOG.encode()).fetchall()}
        try:
            db.execute(up.encode())  # bytes: sent as-is, no placeholder parsing
        except psycopg.Error as exc:
            raise StepError(f"{rel}: rejected by the scratch database: {str(exc).strip()}") from None
        if down is None:
            return []
        try:
            db.execute(down.encode())
        except psycopg.Error as exc:
            raise StepError(f"{down_rel}: rejected by the scratch database: {str(exc).strip()}") from None
        after = {r[0] for r in db.execute(_CATALOG.encode()).fetchall()}
        return sorted(before - after)
    finally:
        conn.rollback()
        conn.close()


def _execute_sql(url: str, text: str, statements: list[str], *, commit: bool, rel: str) -> None:
    if url.startswith("sqlite"):
        import sqlite3

        path = url.split("///", 1)[-1] if "///" in url else ":memory:"
        lite = sqlite3.connect(path, isolation_level=None)
        try:
            lite.execute("BEGIN")
            for stmt in statements:
                lite.execute(stmt)
            lite.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error as exc:
            lite.execute("ROLLBACK")
            raise StepError(f"{rel}: rejected by the database: {exc}") from None
        finally:
            lite.close()
        return
    if not url.startswith("postgres"):
        raise UserError(
            f"CONTINUOUS_TARGET_DATABASE_URL: unsupported database {url.split(':', 1)[0]!r}",
            hint="use a postgresql:// or sqlite:/// URL",
        )
    import psycopg

    try:
        with psycopg.connect(_plain_url(url), connect_timeout=10) as pg:
            try:
                cast(Any, pg).execute(text.encode())  # bytes: sent as-is, no placeholder parsing
            except psycopg.Error as exc:
                pg.rollback()
                raise StepError(f"{rel}: rejected by the database: {str(exc).strip()}") from None
            if commit:
                pg.commit()
            else:
                pg.rollback()
    except psycopg.OperationalError as exc:
        from continuous.common.errors import mask_url

        raise StepError(f"cannot connect to the target database {mask_url(url)}: {exc}") from None


# ---------------------------------------------------------------- generated types


def types_changes(step: m.SqlStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    """`sql types FILE`: merge what the migrations add into the generated Database type, leaving other bytes.

    The file is the repository's record of the live database, so it is never rebuilt from the migrations: new
    tables, views and enums are inserted in their alphabetical place, new columns into their table. With a
    `table` (and `column`) parameter only that object is merged."""
    from continuous.engine.extractors import read_database
    from continuous.engine.tstypes import merge_types

    rel = ctx.path(step.file, "file")
    folder = str(PurePosixPath(rel).parent / "migrations")
    names = [p for p in fs.list(folder) if p.endswith(".sql") and not p.endswith("_down.sql")]
    files = []
    for path in names:
        text = fs.read_text(path)
        if text is not None:
            files.append((path, text))
    before = fs.read_text(rel)
    if before is None:
        raise StepError(
            f"step {step.name!r}: {rel} does not exist",
            hint="this merges into the generated types the repository keeps; generate the file first",
        )
    db = read_database([(rel, before), *files])
    schema = db.schema
    table = str(ctx.params.get("table") or "")
    column = str(ctx.params.get("column") or "")
    try:
        merged = merge_types(
            before,
            schema,
            tables=[table] if table else None,
            columns=[(table, column)] if table and column else None,
            pending={path for path in db.order if db.pending(path)},
        )
    except ValueError as exc:
        raise StepError(f"step {step.name!r}: cannot merge into {rel}: {exc}") from None
    if merged.missing:
        raise StepError(
            f"step {step.name!r}: {rel} has no {', '.join(merged.missing)}, and no pending migration in {folder} "
            "creates it",
            hint="write the migration first (create-table, create-view), or name a table the database has",
        )
    return _change(rel, fs.read(rel), merged.text.encode())

