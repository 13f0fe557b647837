"""Step runners: one per step kind of the DSL.

File-changing steps (render, edit, doc, insert) are pure functions from the current content of the worktree to
a list of `FileChange`s. A real run writes those changes; a dry-run applies them to an in-memory overlay and moves on,
so the dry-run predicts exactly the files (and bytes) the real run writes, with the same code. Steps that act outside
the file system (run, sql) are described in a dry-run and executed in a real run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from functools import singledispatch
from pathlib import Path
from typing import Any

from continuous.common.errors import UserError
from continuous.dsl import model as m
from continuous.dsl.templating import SIMPLE_VARIABLE, render_template
from continuous.engine.sqlsteps import SUPABASE_STANDINS as SUPABASE_STANDINS
from continuous.engine.sqlsteps import describe_sql, types_changes
from continuous.engine.sqlsteps import sql_step as sql_step
from continuous.engine.stepcore import DEFAULT_TIMEOUT, MAX_OUTPUT, one_change
from continuous.engine.stepcore import FileChange as FileChange
from continuous.engine.stepcore import StepContext as StepContext
from continuous.engine.stepcore import StepError as StepError
from continuous.engine.stepcore import VirtualFS as VirtualFS
from continuous.engine.stepcore import check_path_params as check_path_params
from continuous.engine.stepcore import is_env_file as is_env_file
from continuous.engine.stepcore import mask_env_line as mask_env_line
from continuous.engine.stepcore import safe_path as safe_path
from continuous.engine.stepcore import write_changes as write_changes


@singledispatch
def describe(step: m.Step, ctx: StepContext) -> str:
    """One line saying what a step does, with its templates rendered (one registration per step kind)."""
    raise AssertionError(f"{type(step).__name__} has no description")


@describe.register
def _(step: m.RenderStep, ctx: StepContext) -> str:
    return f"render {step.template} to {ctx.path(step.to, 'target path')}"


@describe.register
def _(step: m.EditStep, ctx: StepContext) -> str:
    value = "" if step.op == "delete" else f" = {_edit_value(step, ctx)!r}"
    key = ctx.render(step.key, "key")
    return f"edit {step.format} {ctx.path(step.file, 'file')}: {step.op} {key}{value}"


@describe.register
def _(step: m.RunStep, ctx: StepContext) -> str:
    argv = " ".join(_quote(a) for a in render_argv(step.argv, ctx))
    cwd = f" in {ctx.path(step.cwd, 'cwd')}" if step.cwd else ""
    return f"run {argv}{cwd}"


@describe.register
def _(step: m.SqlStep, ctx: StepContext) -> str:
    return describe_sql(step, ctx)


@describe.register
def _(step: m.DocStep, ctx: StepContext) -> str:
    return f"append to {ctx.path(step.file, 'file')}"


@describe.register
def _(step: m.InsertStep, ctx: StepContext) -> str:
    return f"insert into {ctx.path(step.file, 'file')} {step.where} {ctx.render(step.anchor, 'anchor')!r}"


@describe.register
def _(step: m.CommandStep, ctx: StepContext) -> str:
    return (
        f"dispatch command {ctx.render(step.command, 'command')!r} in {ctx.path(step.file, 'file')} "
        f"(runs {ctx.render(step.runs, 'command line')})"
    )


@describe.register
def _(step: m.EntryStep, ctx: StepContext) -> str:
    return f"add an entry to {ctx.render(step.array, 'array')} in {ctx.path(step.file, 'file')}"


@describe.register
def _(step: m.RowStep, ctx: StepContext) -> str:
    return f"add a table row to {ctx.path(step.file, 'file')}"


@describe.register
def _(step: m.RouteStep, ctx: StepContext) -> str:
    return (
        f"route {ctx.render(step.path, 'route path')} to {ctx.render(step.component, 'component')} "
        f"in {ctx.path(step.file, 'file')}"
    )


@describe.register
def _(step: m.ImportStep, ctx: StepContext) -> str:
    return (
        f"import {ctx.render(step.names, 'imported names')} from {ctx.render(step.module, 'module')!r} "
        f"in {ctx.path(step.file, 'file')}"
    )


@describe.register
def _(step: m.MoveStep, ctx: StepContext) -> str:
    return f"move {ctx.path(step.source, 'source path')} to {ctx.path(step.to, 'target path')}"


@describe.register
def _(step: m.ForwardStep, ctx: StepContext) -> str:
    return (
        f"forward what {ctx.path(step.file, 'file')} does not route to port {ctx.render(step.port, 'port')} "
        f"(or ${ctx.render(step.env, 'port variable')})"
    )


@describe.register
def _(step: m.EndpointStep, ctx: StepContext) -> str:
    return (
        f"add route {ctx.render(step.method, 'method')} {ctx.render(step.path, 'route path')} "
        f"to {ctx.path(step.file, 'file')}"
    )


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


def is_file_step(step: m.Step) -> bool:
    """A step whose effect is a set of file changes known before it runs: it has a `file_changes` registration."""
    if isinstance(step, m.SqlStep):
        return step.action == "types"
    return file_changes.dispatch(type(step)) is not file_changes.dispatch(object)


@singledispatch
def file_changes(step: m.Step, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    """The changes a file step makes on top of `fs`; empty when the step is already done (one registration per
    file step kind)."""
    raise AssertionError(f"{type(step).__name__} is not a file step")


@file_changes.register
def _(step: m.RenderStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    rel = ctx.path(step.to, "target path")
    template = ctx.render(step.template, "template name")
    content = render_template(ctx.scenario, template, ctx.variables).encode()
    return one_change(rel, fs.read(rel), content)


@file_changes.register
def _(step: m.DocStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
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
    return one_change(rel, fs.read(rel), (body + text).encode())


@file_changes.register
def _(step: m.SqlStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    if step.action != "types":
        raise AssertionError(f"sql {step.action} is not a file step")
    return types_changes(step, ctx, fs)


@file_changes.register
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
    return one_change(rel, fs.read(rel), after.encode())


_MODULE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


@file_changes.register
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
            inner = rel[len(source.rstrip("/")) + 1 :]
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


@file_changes.register
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
            return one_change(rel, fs.read(rel), "".join(lines).encode())
    raise StepError(
        f"step {step.name!r}: anchor {anchor!r} not found in {rel}",
        hint="the file does not look the way the scenario expects; check it or the scenario",
    )


# ---------------------------------------------------------------- structured edits


def _edit_value(step: m.EditStep, ctx: StepContext) -> Any:
    value = step.value
    if isinstance(value, str):
        simple = SIMPLE_VARIABLE.match(value)
        if simple and simple.group(1) in ctx.variables and not isinstance(ctx.variables[simple.group(1)], str):
            return ctx.variables[simple.group(1)]
        return ctx.render(value, "value")
    return value


def split_key(key: str) -> list[str]:
    """A dotted key; `\\.` keeps a literal dot (`dependencies.@dhg/shared`, `scripts.dev\\.app`)."""
    parts = re.split(r"(?<!\\)\.", key)
    return [p.replace("\\.", ".") for p in parts if p != ""]


@file_changes.register
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
        return one_change(rel, fs.read(rel), text.encode())
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
    return one_change(rel, fs.read(rel), text.encode())


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
        raise StepError(f"step {name!r}: program {argv[0]!r} not found", hint="install it or put it on PATH") from None
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
