"""Evaluate the DSL's `standard` declarations against a worktree.

A standard is checked from discovered facts (`when`, `unique`), from file contents or names (`files` with
`matching` / `lacking` / `named`) and from git history (`newer`). Every violation carries a `path:line`
location and the variables it bound, so its message and its auto-fix parameters can be rendered from the same
data, and so a `dev_tasks` row can be keyed on `standard:path:line`."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from continuous.common.errors import UserError
from continuous.dsl.model import FactPattern, RuleBase, Standard, Value, Var
from continuous.engine.facts import Fact, FactSet

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Violation:
    standard: str
    severity: str
    message: str
    path: str
    line: int
    variables: dict[str, Any] = field(default_factory=dict)
    fix_scenario: str | None = None
    fix_params: dict[str, Any] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.path else ""

    @property
    def dedup_key(self) -> str:
        """One open task per standard and place: running check twice must find the same key."""
        return f"{self.standard}:{self.location}"

    @property
    def fixable(self) -> bool:
        return self.fix_scenario is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "location": self.location,
            "fix": {"scenario": self.fix_scenario, "params": self.fix_params} if self.fix_scenario else None,
            "dedup_key": self.dedup_key,
        }


def select_standards(rule_base: RuleBase, only: Sequence[str] | None = None) -> list[Standard]:
    if not only:
        return [rule_base.standards[k] for k in sorted(rule_base.standards)]
    unknown = [s for s in only if s not in rule_base.standards]
    if unknown:
        raise UserError(
            f"unknown standard(s): {', '.join(unknown)}",
            hint=f"known standards: {', '.join(sorted(rule_base.standards)) or '(none)'}",
        )
    return [rule_base.standards[k] for k in sorted(set(only))]


def evaluate(
    rule_base: RuleBase,
    worktree: Path,
    *,
    only: Sequence[str] | None = None,
    facts: Iterable[Fact] | None = None,
    now: datetime | None = None,
    ignored: list[Violation] | None = None,
) -> list[Violation]:
    """Every violation of the selected standards in `worktree`, sorted by location, under the worktree's
    conventions (those active, else its own). A violation that a `continuous: ignore RULE` comment accepts is
    left out (and appended to `ignored` when given)."""
    from continuous.common.config import conventions_of

    with conventions_of(Path(worktree).resolve()):
        return _evaluate(rule_base, worktree, only=only, facts=facts, now=now, ignored=ignored)


def _evaluate(
    rule_base: RuleBase,
    worktree: Path,
    *,
    only: Sequence[str] | None,
    facts: Iterable[Fact] | None,
    now: datetime | None,
    ignored: list[Violation] | None,
) -> list[Violation]:
    from continuous.engine.discovery import discover, list_files

    worktree = Path(worktree).resolve()
    standards = select_standards(rule_base, only)
    files = list_files(worktree)
    fact_list = list(facts) if facts is not None else discover(rule_base, worktree, files=files)
    fact_set = FactSet(fact_list)
    ctx = _Context(worktree, files, fact_set, now or datetime.now(UTC))
    out: list[Violation] = []
    for std in standards:
        raw: list[tuple[str, int, dict[str, Any]]] = []
        if std.when:
            raw.extend(_when(std, ctx))
        if std.files:
            raw.extend(_files(std, ctx))
        if std.unique:
            raw.extend(_unique(std, ctx))
        if std.newer:
            raw.extend(_newer(std, ctx))
        seen: set[tuple[str, int]] = set()
        for path, line, variables in raw:
            if (path, line) in seen:
                continue
            seen.add((path, line))
            violation = _violation(std, path, line, variables)
            if ctx.ignores(violation):
                if ignored is not None:
                    ignored.append(violation)
                continue
            out.append(violation)
    if ignored is not None:
        ignored.sort(key=lambda v: (v.path, v.line, v.standard))
    out.sort(key=lambda v: (v.path, v.line, _SEVERITY_ORDER.get(v.severity, 9), v.standard))
    return out


class _Context:
    def __init__(self, worktree: Path, files: list[str], facts: FactSet, now: datetime) -> None:
        self.worktree = worktree
        self.files = files
        self.facts = facts
        self.now = now
        self._texts: dict[str, str | None] = {}
        self._markers: dict[str, IgnoreMarkers] = {}

    def ignores(self, v: Violation) -> bool:
        if not v.path:
            return False
        if v.path not in self._markers:
            text = self.text(v.path)
            self._markers[v.path] = ignore_markers(text) if text is not None else IgnoreMarkers()
        return self._markers[v.path].covers(v.standard, v.line)

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            try:
                self._texts[path] = (self.worktree / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._texts[path] = None
        return self._texts[path]


def _violation(std: Standard, path: str, line: int, variables: dict[str, Any]) -> Violation:
    from continuous.dsl.templating import render_string

    variables = {"path": path, "line": line, **variables}
    message = std.message or std.summary or std.id
    with contextlib.suppress(UserError):
        message = render_string(message, variables, where=f"message of standard {std.id}")
    fix_scenario = None
    fix_params: dict[str, Any] = {}
    if std.fix is not None:
        fix_scenario = std.fix.scenario
        for name, term in std.fix.bindings.items():
            if isinstance(term, Var):
                fix_params[name] = variables.get(term.var, "")
            else:
                value = term.value
                fix_params[name] = (
                    render_string(value, variables, where=f"fix of standard {std.id}")
                    if isinstance(value, str)
                    else value
                )
    return Violation(std.id, std.severity, message, path, line, variables, fix_scenario, fix_params)


# ---------------------------------------------------------------- `continuous: ignore RULE` comments

# The marker is found by its words, not by a comment syntax, so it works in every language's comments (`#`, `//`,
# `--`, `/* */`, `<!-- -->`, `;`, ...): `continuous: ignore RULE[, RULE...]` accepts the violations of those
# standards on its own line and on the next one; `continuous: ignore-file RULE[, RULE...]` anywhere in a file
# accepts them in the whole file. Words after the rule list are the reason, for readers.
_IGNORE = re.compile(
    r"continuous:[ \t]*ignore(?P<file>-file)?[ \t]+(?P<rules>[A-Za-z0-9_.-]+(?:[ \t]*,[ \t]*"
    r"[A-Za-z0-9_.-]+)*)"
)


@dataclass
class IgnoreMarkers:
    lines: dict[int, set[str]] = field(default_factory=dict)
    whole_file: set[str] = field(default_factory=set)

    def covers(self, standard: str, line: int) -> bool:
        if standard in self.whole_file:
            return True
        return standard in self.lines.get(line, ()) or standard in self.lines.get(line - 1, ())


def ignore_markers(text: str) -> IgnoreMarkers:
    markers = IgnoreMarkers()
    if "continuous:" not in text:
        return markers
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _IGNORE.finditer(line):
            rules = {r.strip() for r in match.group("rules").split(",") if r.strip()}
            if match.group("file"):
                markers.whole_file |= rules
            else:
                markers.lines.setdefault(number, set()).update(rules)
    return markers


# ---------------------------------------------------------------- when: a conjunction over facts


def _split_source(source: str | None) -> tuple[str, int]:
    if not source:
        return "", 0
    path, _, line = source.rpartition(":")
    if not path or not line.isdigit():
        return source, 1
    return path, int(line)


def _when(std: Standard, ctx: _Context) -> list[tuple[str, int, dict[str, Any]]]:
    results: dict[tuple[tuple[str, str], ...], tuple[str, int, dict[str, Any]]] = {}
    for bindings, first in _solve(list(std.when), ctx.facts, {}, None):
        key = tuple(sorted((k, str(v)) for k, v in bindings.items()))
        path, line = _split_source(first.source if first else None)
        candidate = (path, line, dict(bindings))
        if key not in results or (path, line) < results[key][:2]:
            results[key] = candidate
    return list(results.values())


def _solve(
    patterns: list[FactPattern], facts: FactSet, bindings: dict[str, Any], first: Fact | None
) -> Iterable[tuple[dict[str, Any], Fact | None]]:
    if not patterns:
        yield bindings, first
        return
    head, rest = patterns[0], patterns[1:]
    const, free = _pattern_fields(head, bindings)
    matches = facts.match(head.type, const)
    if head.negated:
        if not any(_agrees(f, free, bindings) for f in matches):
            yield from _solve(rest, facts, bindings, first)
        return
    for fact in sorted(matches, key=lambda f: f.source or ""):
        new = dict(bindings)
        ok = True
        for fname, var in free.items():
            if fname not in fact.fields:
                ok = False
                break
            value = fact.fields[fname]
            if var in new and str(new[var]) != str(value):
                ok = False
                break
            new[var] = value
        if ok:
            yield from _solve(rest, facts, new, first or fact)


def _pattern_fields(pattern: FactPattern, bindings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    from continuous.dsl.templating import render_string

    const: dict[str, Any] = {}
    free: dict[str, str] = {}
    for name, term in pattern.fields.items():
        if isinstance(term, Var):
            if term.var in bindings:
                const[name] = bindings[term.var]
            else:
                free[name] = term.var
        elif isinstance(term, Value):
            value = term.value
            const[name] = (
                render_string(value, bindings, where=f"pattern {pattern.type}") if isinstance(value, str) else value
            )
    return const, free


def _agrees(fact: Fact, free: Mapping[str, str], bindings: Mapping[str, Any]) -> bool:
    return all(fname in fact.fields for fname in free)


# ---------------------------------------------------------------- files: contents and names


def _glob_files(std: Standard, ctx: _Context) -> list[str]:
    from continuous.engine.discovery import glob_match, layout_glob

    assert std.files is not None
    files = layout_glob(std.files, f"standard {std.id}")
    excludes = [layout_glob(ex, f"standard {std.id}") for ex in std.excludes]
    out = []
    for path in ctx.files:
        if not glob_match(files, path):
            continue
        parts = path.split("/")
        if any(glob_match(ex, "/".join(parts[:k])) for ex in excludes for k in range(1, len(parts) + 1)):
            continue
        out.append(path)
    return sorted(out)


def _files(std: Standard, ctx: _Context) -> list[tuple[str, int, dict[str, Any]]]:
    out: list[tuple[str, int, dict[str, Any]]] = []
    for path in _glob_files(std, ctx):
        p = PurePosixPath(path)
        parent = str(p.parent) if str(p.parent) != "." else ""
        base: dict[str, Any] = {"name": p.name, "stem": p.stem, "dir": parent}
        if std.named is not None:
            problem = _name_problem(std.named, p.name, ctx.now)
            if problem:
                out.append((path, 1, {**base, "problem": problem}))
            continue
        if std.matching is None and std.lacking is None:
            out.append((path, 1, base))
            continue
        text = ctx.text(path)
        if text is None:
            continue
        if std.lacking is not None:
            if not re.search(std.lacking, text, re.MULTILINE):
                out.append((path, 1, base))
            continue
        assert std.matching is not None
        for match in re.finditer(std.matching, text, re.MULTILINE):
            line = text.count("\n", 0, match.start() + _leading_ws(match.group(0))) + 1
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            out.append((path, line, {**base, **groups}))
    return out


def _leading_ws(text: str) -> int:
    return len(text) - len(text.lstrip())


def _name_problem(pattern: str, name: str, now: datetime) -> str | None:
    match = re.fullmatch(pattern, name)
    if match is None:
        return f"does not match {pattern}"
    stamp = match.groupdict().get("timestamp")
    if stamp:
        try:
            when = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            return f"{stamp} is not a real date and time"
        if when > now + timedelta(days=1):
            return f"{stamp} is in the future"
    return None


# ---------------------------------------------------------------- unique: a field shared by facts of several


def _unique(std: Standard, ctx: _Context) -> list[tuple[str, int, dict[str, Any]]]:
    assert std.unique is not None
    fact_type, fname = std.unique
    groups: dict[str, list[Fact]] = {}
    for fact in ctx.facts.match(fact_type):
        if fname in fact.fields:
            groups.setdefault(str(fact.fields[fname]), []).append(fact)
    out: list[tuple[str, int, dict[str, Any]]] = []
    for value, members in groups.items():
        members.sort(key=lambda f: _split_source(f.source))
        if len({_split_source(f.source) for f in members}) < 2:
            continue
        first = members[0]
        for fact in members[1:]:
            path, line = _split_source(fact.source)
            out.append((path, line, {**fact.fields, fname: value, "first": first.source or ""}))
    return out


# ---------------------------------------------------------------- newer: generated file vs its inputs, by git


def _newer(std: Standard, ctx: _Context) -> list[tuple[str, int, dict[str, Any]]]:
    from continuous.engine.discovery import glob_match, layout_glob

    assert std.newer is not None
    target, inputs_glob = (layout_glob(g, f"standard {std.id}") for g in std.newer)
    inputs = sorted(p for p in ctx.files if glob_match(inputs_glob, p))
    if not inputs:
        return []
    if target not in ctx.files:
        newest = inputs[-1]
        return [(newest, 1, {"newest": PurePosixPath(newest).name, "target": target, "missing": True})]
    ranks = _file_ranks(ctx.worktree, [target, *inputs])
    newest = max(inputs, key=lambda p: (ranks[p], not p.endswith("_down.sql"), p))
    if ranks[newest] > ranks[target]:
        return [(target, 1, {"newest": PurePosixPath(newest).name, "target": target})]
    return []


def _file_ranks(worktree: Path, paths: list[str]) -> dict[str, tuple[int, float]]:
    """Order files by last change: uncommitted changes (by mtime) after every commit, commits by history.

    Git history rather than mtimes for committed files, because a checkout gives every file the same fresh
    mtime."""
    dirty = _dirty_paths(worktree)
    wanted = set(paths)
    proc = subprocess.run(
        ["git", "log", "--format=%x00%H", "--name-only", "--no-renames", "--", *sorted(wanted)],
        cwd=worktree,
        capture_output=True,
        text=True,
        check=False,
    )
    commit_index: dict[str, int] = {}
    if proc.returncode == 0:
        for index, chunk in enumerate(proc.stdout.split("\0")[1:], start=1):
            for name in chunk.splitlines()[1:]:
                name = name.strip()
                if name in wanted and name not in commit_index:
                    commit_index[name] = index
    ranks: dict[str, tuple[int, float]] = {}
    for path in paths:
        if path in dirty or path not in commit_index:
            try:
                ranks[path] = (1, os.stat(worktree / path).st_mtime)
            except OSError:
                ranks[path] = (1, 0.0)
        else:
            ranks[path] = (0, -float(commit_index[path]))
    return ranks


def _dirty_paths(worktree: Path) -> set[str]:
    proc = subprocess.run(
        ["git", "status", "--porcelain", "-z", "--untracked-files=all"],
        cwd=worktree,
        capture_output=True,
        text=True,
        check=False,
    )
    out: set[str] = set()
    if proc.returncode != 0:
        return out
    entries = proc.stdout.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        if len(entry) > 3:
            out.add(entry[3:])
            if entry[0] in "RC":
                i += 1
        i += 1
    return out
