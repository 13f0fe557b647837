"""Load DSL files (following imports) into one RuleBase.

Parse errors of every file are collected before raising, and so are duplicate ids across files, so one run of
`continuous validate` shows everything that is wrong.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from continuous.common.errors import Diagnostic, DslError, UserError
from continuous.dsl import model as m
from continuous.dsl.parser import Alias, Import, parse_file

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUILTIN_LIBRARY = PACKAGE_ROOT / "scenarios"
P = ParamSpec("P")
R = TypeVar("R")
DSL_SUFFIX = ".scn"
_SKIP_DIRS = {"templates", "example-monorepo", "__pycache__"}


def library_files(directory: Path) -> list[Path]:
    """Every .scn file under a directory, in a stable order, skipping template and example folders."""
    out = []
    for path in sorted(directory.rglob(f"*{DSL_SUFFIX}")):
        if not any(part in _SKIP_DIRS for part in path.relative_to(directory).parts[:-1]):
            out.append(path)
    return out


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = library_files(p)
            if not found:
                raise UserError(
                    f"{p}: no .scn scenario file in this folder",
                    hint="scenario_paths and PATHS name DSL files or the folders that hold them",
                )
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise UserError(f"{p}: no such file or directory")
    return out


def load_rule_base(paths: Sequence[Path | str] | None = None, *, include_builtin: bool = True) -> m.RuleBase:
    """Parse the built-in library (unless excluded) plus the given files or directories."""
    roots: list[Path] = []
    if include_builtin:
        roots.extend(library_files(BUILTIN_LIBRARY))
    roots.extend(expand_paths(Path(p) for p in (paths or ())))
    return build_rule_base(roots)


def _without_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """Loading allocates many objects that all stay alive; cyclic GC passes over them only cost time."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


@_without_gc
def build_rule_base(files: Sequence[Path]) -> m.RuleBase:
    diagnostics: list[Diagnostic] = []
    items_by_file: dict[Path, list[Any]] = {}
    queue = [f.resolve() for f in files]
    while queue:
        path = queue.pop(0)
        if path in items_by_file:
            continue
        try:
            items = parse_file(path)
        except DslError as exc:
            diagnostics.extend(exc.diagnostics)
            items_by_file[path] = []
            continue
        items_by_file[path] = items
        for item in items:
            if isinstance(item, Import):
                target = (path.parent / item.path).resolve()
                if not target.exists():
                    diagnostics.append(_diag(item.loc, f"imported file {item.path!r} does not exist"))
                elif target.is_dir():
                    queue.extend(library_files(target))
                else:
                    queue.append(target)
    scenarios: dict[str, m.Scenario] = {}
    rules: dict[str, m.Rule] = {}
    standards: dict[str, m.Standard] = {}
    schedules: dict[str, m.Schedule] = {}
    aliases: dict[str, str] = {}
    alias_locs: dict[str, m.Location] = {}
    discovers: list[m.Discover] = []
    for items in items_by_file.values():
        for item in items:
            if isinstance(item, m.Scenario):
                _add_unique(scenarios, item.id, item, "scenario", diagnostics)
            elif isinstance(item, m.Rule):
                _add_unique(rules, item.id, item, "rule", diagnostics)
            elif isinstance(item, m.Standard):
                _add_unique(standards, item.id, item, "standard", diagnostics)
            elif isinstance(item, m.Schedule):
                _add_unique(schedules, item.id, item, "schedule", diagnostics)
            elif isinstance(item, m.Discover):
                discovers.append(item)
            elif isinstance(item, Alias):
                if item.alias in aliases:
                    first = alias_locs[item.alias]
                    diagnostics.append(
                        _diag(
                            item.loc,
                            f"alias {item.alias} is declared twice (first at {first.file}:{first.line})",
                        )
                    )
                aliases[item.alias] = item.target
                alias_locs[item.alias] = item.loc
    for alias, loc in alias_locs.items():
        if alias in scenarios:
            diagnostics.append(_diag(loc, f"alias {alias} has the same name as a scenario"))
    if diagnostics:
        raise DslError(diagnostics)
    return m.RuleBase(
        scenarios=scenarios,
        aliases=aliases,
        rules=rules,
        discovers=tuple(discovers),
        standards=standards,
        schedules=schedules,
        files=tuple(str(p) for p in items_by_file),
    )


def _add_unique(table: dict[str, Any], key: str, item: Any, what: str, diagnostics: list[Diagnostic]) -> None:
    if key in table:
        first = table[key].loc
        diagnostics.append(
            _diag(
                item.loc,
                f"duplicate {what} id {key!r} (first defined at {first.file}:{first.line})",
                hint=f"rename one of them or remove the duplicate {what}",
            )
        )
        return
    table[key] = item


def _diag(loc: m.Location | None, message: str, hint: str | None = None) -> Diagnostic:
    if loc is None:
        return Diagnostic("<unknown>", 1, 1, message, hint=hint)
    try:
        lines = Path(loc.file).read_text(encoding="utf-8").splitlines()
        source_line = lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""
    except OSError:
        source_line = ""
    return Diagnostic(loc.file, loc.line, loc.column, message, source_line, hint)
