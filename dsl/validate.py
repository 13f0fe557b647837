"""Static validation of a rule base: everything that can be known wrong before anything runs.

The parser already rejects what one file can show on its own (syntax, unknown types, bad defaults); this
module checks what needs the whole rule base: references between scenarios, parameter bindings, dependency
cycles, and the variables used by templates — both the `{{ ... }}` strings in the DSL and the template files
on disk. Every problem is collected (never just the first) as a located `Diagnostic` with the source line and a caret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuous.common.errors import Diagnostic, DslError, UserError
from continuous.dsl import model as m
from continuous.dsl.sources import Source
from continuous.dsl.suggest import did_you_mean
from continuous.dsl.templating import BUILTIN_VARIABLES, TOO_DEEP

# Names a discover field may use besides the regex's named groups (see engine.discovery.path_context).
DISCOVER_PATH_VARIABLES = frozenset({"path", "dir", "stem", "name", "parts", "conventions"})

_SIMPLE_EXPR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*((?:\|\s*[A-Za-z_][A-Za-z0-9_]*\s*)*)\}\}")
_FILTER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TemplateInfo:
    """What a template uses: free variables, filters, and a syntax error if it does not parse."""

    variables: frozenset[str] = frozenset()
    filters: frozenset[str] = frozenset()
    error: str | None = None
    error_line: int | None = None
    includes: tuple[tuple[str, int], ...] = ()  # (quoted template name, line) of include/import/extends
    dynamic_include: int | None = None  # the line of an include whose name is an expression


_EMPTY = TemplateInfo()


@lru_cache(maxsize=65536)
def template_info(text: str) -> TemplateInfo:
    """Free variables and filters of a Jinja string; plain `{{ name | filter }}` forms skip Jinja entirely."""
    if "{" not in text:
        return _EMPTY
    if "{%" not in text and "{#" not in text:
        names: set[str] = set()
        filters: set[str] = set()
        for match in _SIMPLE_EXPR.finditer(text):
            names.add(match.group(1))
            filters.update(_FILTER_NAME.findall(match.group(2)))
        if "{{" not in _SIMPLE_EXPR.sub("", text):
            return TemplateInfo(frozenset(names), frozenset(filters))
    return _jinja_info(text)


def _jinja_info(text: str) -> TemplateInfo:
    from continuous.dsl.templating import environment
    from jinja2 import TemplateSyntaxError, meta, nodes

    try:
        ast = environment().parse(text)
        # A `{% set %}` inside one branch of an `if` is undeclared for Jinja; anything stored anywhere is local.
        stored = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
        try:
            undeclared = meta.find_undeclared_variables(ast)
        except TemplateSyntaxError:  # an unknown filter fails Jinja's analysis; it is reported on its own
            undeclared = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load"}
        filters = frozenset(f.name for f in ast.find_all(nodes.Filter))
        includes: list[tuple[str, int]] = []
        dynamic: int | None = None
        for node in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            target = node.template
            if isinstance(target, nodes.Const) and isinstance(target.value, str):
                includes.append((target.value, node.lineno))
            elif dynamic is None:
                dynamic = node.lineno
    except TemplateSyntaxError as exc:
        return TemplateInfo(error=exc.message or str(exc), error_line=exc.lineno)
    except RecursionError:
        return TemplateInfo(error=TOO_DEEP)
    return TemplateInfo(frozenset(undeclared - stored), filters, includes=tuple(includes), dynamic_include=dynamic)


@lru_cache(maxsize=1)
def known_filters() -> frozenset[str]:
    from continuous.dsl.templating import environment

    return frozenset(environment().filters)


@lru_cache(maxsize=4096)
def _template_file_info(path: str, mtime_ns: int) -> tuple[TemplateInfo, str]:
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return _jinja_info(text) if ("{" in text) else _EMPTY, text


# ---------------------------------------------------------------- source lines


class _Sources:
    """Source text by file name, read on first use, so diagnostics can show the offending line."""

    def __init__(self, given: Mapping[str, str] | None = None) -> None:
        self._lines: dict[str, list[str]] = {k: v.splitlines() for k, v in (given or {}).items()}

    def lines(self, file: str) -> list[str]:
        if file not in self._lines:
            try:
                self._lines[file] = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[file] = []
        return self._lines[file]

    def line(self, file: str, line: int) -> str:
        lines = self.lines(file)
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def find(self, loc: m.Location, pattern: re.Pattern[str], span: int = 12) -> tuple[int, int, int] | None:
        """(line, column, width) of the first match of `pattern` (group 1 if any) at or after `loc`."""
        lines = self.lines(loc.file)
        for number in range(loc.line, min(loc.line + span, len(lines) + 1)):
            text = lines[number - 1]
            start = loc.column - 1 if number == loc.line else 0
            match = pattern.search(text, start)
            if match:
                group = 1 if match.re.groups else 0
                return number, match.start(group) + 1, max(len(match.group(group)), 1)
        return None


@dataclass
class _Collector:
    sources: _Sources
    diagnostics: list[Diagnostic] = field(default_factory=list)
    templates: dict[tuple[str, str], tuple[Path, int | None]] = field(default_factory=dict)

    def add(
        self,
        loc: m.Location | None,
        message: str,
        hint: str | None = None,
        *,
        refine: re.Pattern[str] | None = None,
        width: int = 1,
    ) -> None:
        if loc is None:
            self.diagnostics.append(Diagnostic("<unknown>", 1, 1, message, "", hint, width))
            return
        line, column = loc.line, loc.column
        if refine is not None:
            found = self.sources.find(loc, refine)
            if found:
                line, column, width = found
        self.diagnostics.append(
            Diagnostic(loc.file, line, column, message, self.sources.line(loc.file, line), hint, width)
        )


# ---------------------------------------------------------------- entry points


def validate_rule_base(rule_base: m.RuleBase, *, sources: Mapping[str, str] | None = None) -> list[Diagnostic]:
    """Every static problem of a loaded rule base, sorted by file and position (empty when it is sound)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return _validate(rule_base, sources=sources)
    finally:
        if enabled:
            gc.enable()


def _validate(rule_base: m.RuleBase, *, sources: Mapping[str, str] | None = None) -> list[Diagnostic]:
    """The checks themselves (see validate_rule_base)."""
    out = _Collector(_Sources(sources))
    known = sorted({*rule_base.scenarios, *rule_base.aliases})
    _check_aliases(rule_base, known, out)
    for scenario in rule_base.scenarios.values():
        _check_scenario(rule_base, scenario, known, out)
    for rule in rule_base.rules.values():
        _check_rule(rule_base, rule, known, out)
    for standard in rule_base.standards.values():
        if standard.fix is not None:
            _check_call(
                rule_base,
                standard.fix.scenario,
                standard.fix.bindings,
                standard.fix.loc,
                known,
                out,
                f"standard {standard.id} fixes with",
            )
    for schedule in rule_base.schedules.values():
        if schedule.run is not None:
            _check_call(
                rule_base,
                schedule.run.scenario,
                schedule.run.bindings,
                schedule.run.loc,
                known,
                out,
                f"schedule {schedule.id} runs",
            )
    for discover in rule_base.discovers:
        _check_discover(discover, out)
    _check_cycles(rule_base, out)
    _check_fact_types(rule_base, out)
    return sorted(set(out.diagnostics), key=lambda d: (d.file, d.line, d.column, d.message))


def warnings(rule_base: m.RuleBase) -> list[Diagnostic]:
    """Problems that do not stop a rule base from loading but leave part of it unused: a scenario without
    `examples` cannot be suggested from free text (the planner's intent model learns each scenario from its
    examples)."""
    sources = _Sources(None)
    out = _Collector(sources)
    for s in rule_base.scenarios.values():
        if not s.examples:
            out.add(
                s.loc,
                f"scenario {s.id} has no examples, so `continuous suggest` can hardly recognise a request for it",
                'add a line like: examples "what someone would type to ask for it", "another way to say it"',
                width=len(s.id),
                refine=re.compile(r"\b" + re.escape(s.id) + r"\b"),
            )
    return sorted(set(out.diagnostics), key=lambda d: (d.file, d.line, d.column, d.message))


def check_files(
    files: Sequence[Path] | Sequence[Source],
) -> tuple[m.RuleBase | None, list[Diagnostic]]:
    """Load and validate DSL files (or sources), collecting parse errors of every file, duplicates and semantic
    problems.

    Semantic checks run only when every file parsed: with a file missing, its scenarios would show up as bogus
    "unknown scenario" errors elsewhere.
    """
    from continuous.dsl.loader import build_rule_base, collect_rule_base

    try:
        rule_base = build_rule_base(files)
    except DslError as exc:
        lenient, _, parsed = collect_rule_base(files, lenient=True)
        if not parsed:
            return None, sorted(exc.diagnostics, key=lambda d: (d.file, d.line, d.column))
        return lenient, sorted(
            {*exc.diagnostics, *validate_rule_base(lenient)},
            key=lambda d: (d.file, d.line, d.column, d.message),
        )
    return rule_base, validate_rule_base(rule_base)


# ---------------------------------------------------------------- references


def _check_aliases(rule_base: m.RuleBase, known: list[str], out: _Collector) -> None:
    for alias, target in rule_base.aliases.items():
        if target in rule_base.scenarios:
            continue
        loc = _alias_location(rule_base, alias, out.sources)
        pool = [k for k in known if k != alias]
        what = (
            f"alias {alias} points to another alias"
            if target in rule_base.aliases
            else (f"alias {alias} points to unknown scenario {target!r}")
        )
        out.add(
            loc,
            what,
            did_you_mean(target, rule_base.scenarios)
            or ("an alias must name a scenario" if target in rule_base.aliases else _known_hint(pool)),
            refine=re.compile(r"=\s*(" + re.escape(target) + r")\b"),
        )


def _alias_location(rule_base: m.RuleBase, alias: str, sources: _Sources) -> m.Location | None:
    pattern = re.compile(r"^\s*alias\s+(" + re.escape(alias) + r")\s*=")
    for file in rule_base.files:
        for number, text in enumerate(sources.lines(file), start=1):
            match = pattern.match(text)
            if match:
                return m.Location(file=file, line=number, column=match.start(1) + 1)
    return None


def _known_hint(known: Iterable[str]) -> str:
    names = sorted(known)
    if not names:
        return "no scenarios are defined"
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return f"known scenarios: {shown} (`continuous scenarios list` shows all)"


def _check_call(
    rule_base: m.RuleBase,
    target_id: str,
    bindings: Mapping[str, m.Term],
    loc: m.Location | None,
    known: list[str],
    out: _Collector,
    where: str,
) -> m.Scenario | None:
    """A reference with parameter bindings: the scenario exists and has every bound parameter."""
    target = rule_base.scenario(target_id)
    if target is None:
        out.add(
            loc,
            f"{where} unknown scenario {target_id!r}",
            did_you_mean(target_id, known) or _known_hint(known),
            width=len(target_id),
        )
        return None
    names = [p.name for p in target.params]
    for name, term in bindings.items():
        param = target.param(name)
        if param is None:
            listing = ", ".join(names) if names else "none"
            hint = did_you_mean(name, names, quote="'") or f"bind one of: {listing}"
            replaced = next((o for o in rule_base.overrides if o.kind == "scenario" and o.id == target.id), None)
            if replaced is not None:
                hint += (
                    f"; {target.id} is the {replaced.origin}'s override of the {replaced.replaced} scenario, "
                    "which other scenarios call: keep the parameters they bind"
                )
            out.add(
                loc,
                f"{target.id} has no parameter {name!r} (its parameters: {listing})",
                hint,
                refine=re.compile(r"[(,]\s*(" + re.escape(name) + r")\s*:"),
            )
            continue
        if isinstance(term, m.Value) and not (isinstance(term.value, str) and "{" in term.value):
            from continuous.dsl.params import coerce

            try:
                coerce(param, term.value)
            except UserError as exc:
                out.add(
                    loc,
                    f"value for {target.id}({name}) is wrong: {exc.message.removeprefix(f'parameter {name}: ')}",
                    exc.hint or _type_hint(param, target.id),
                    refine=re.compile(r"[(,]\s*" + re.escape(name) + r"\s*:\s*([^,)]+)"),
                )
    return target


def _bad_regex(pattern: str) -> bool:
    from continuous.dsl.parser import _bad_regex as bad

    return bad(pattern)


def _type_hint(param: m.Param, scenario_id: str) -> str:
    declared = f"enum({', '.join(param.choices)})" if param.type == "enum" else param.type
    if param.type in m.NUMBER_TYPES:
        kind = "an int" if param.type == "int" else "a port"
        return f"{param.name} is {kind} in {scenario_id}: write a whole number{param.range_text()} without quotes"
    if param.type == "bool":
        return f"{param.name} is a bool in {scenario_id}: write true or false without quotes"
    return f"{param.name} is declared as {declared} in {scenario_id}"


# ---------------------------------------------------------------- scenarios


def _check_scenario(rule_base: m.RuleBase, s: m.Scenario, known: list[str], out: _Collector) -> None:
    allowed = frozenset({p.name for p in s.params}) | BUILTIN_VARIABLES
    for p in s.params:
        if p.default is not None and not (p.pattern is not None and _bad_regex(p.pattern)):
            from continuous.dsl.params import check_value
            from continuous.dsl.parser import _default_hint

            problem = check_value(p, p.default)
            if problem:
                out.add(
                    p.loc,
                    f"default of parameter {p.name} is wrong: {problem}",
                    _default_hint(p),
                    width=len(p.name),
                )
        if p.type == "enum" and len(set(p.choices)) != len(p.choices):
            out.add(p.loc, f"enum of parameter {p.name} lists a value twice", width=len(p.name))
    for dep in s.dependencies:
        target = _check_call(rule_base, dep.scenario, dep.bindings, dep.loc, known, out, f"scenario {s.id} requires")
        for term in dep.bindings.values():
            _check_term(term, dep.loc, allowed, out, f"binding of requires {dep.scenario}")
        if dep.unless:
            dep_allowed = allowed | ({p.name for p in target.params} if target else set())
            for pattern in dep.unless:
                _check_pattern(pattern, dep_allowed, out, f"unless of requires {dep.scenario}", dep.loc)
    for pattern in (*s.unless, *s.provides):
        _check_pattern(pattern, allowed, out, f"fact {pattern.type}", pattern.loc)
    for pre in s.preconditions:
        if pre.pattern is not None:
            _check_pattern(pre.pattern, allowed, out, "precondition", pre.loc)
        if pre.path is not None:
            _check_string(pre.path, pre.loc, allowed, out, "precondition path")
            _check_path(pre.path, pre.loc, "precondition path", out)
    for step in s.rollback_finally:
        if not isinstance(step, m.RunStep | m.SqlStep):
            out.add(
                step.loc,
                f"step {step.name!r} of scenario {s.id}: `rollback finally` runs after the files are restored, "
                f"so it may only run a command or SQL, not a {step.kind} step",
                "use `rollback step` for a step that changes files",
            )
    for step in (*s.steps, *s.rollback, *s.rollback_finally):
        _check_step(s, step, allowed, out)
        for cond in step.when:
            if cond.pattern is not None:
                _check_pattern(cond.pattern, allowed, out, f"condition of step {step.name!r}", cond.loc)
            if cond.path is not None:
                _check_string(cond.path, cond.loc, allowed, out, f"condition path of step {step.name!r}")
    for v in s.validations:
        for text, what in _validation_strings(v):
            _check_string(text, v.loc, allowed, out, what)
            if what in _PATH_WHATS:
                _check_path(text, v.loc, what, out)
        for cond in v.when:
            if cond.pattern is not None:
                _check_pattern(cond.pattern, allowed, out, "condition of validate", cond.loc)
            if cond.path is not None:
                _check_string(cond.path, cond.loc, allowed, out, "condition path of validate")
        if isinstance(v, m.FactHolds):
            _check_pattern(v.pattern, allowed, out, "validate fact", v.loc)


def _validation_strings(v: Any) -> Iterator[tuple[str, str]]:
    if isinstance(v, m.FileExists):
        yield v.glob, "validate file"
    elif isinstance(v, m.FileContains):
        yield v.glob, "validate file"
        yield v.text, "validate text"
    elif isinstance(v, m.CommandSucceeds):
        for arg in v.argv:
            yield arg, "validate command"
        if v.cwd:
            yield v.cwd, "validate directory"


def _step_strings(step: Any) -> Iterator[tuple[str, str]]:
    if isinstance(step, m.RenderStep):
        yield step.template, "template name"
        yield step.to, "target path"
    elif isinstance(step, m.EditStep):
        yield step.file, "file"
        yield step.key, "key"
        if isinstance(step.value, str):
            yield step.value, "value"
    elif isinstance(step, m.RunStep):
        for arg in step.argv:
            yield arg, "argument"
        if step.cwd:
            yield step.cwd, "directory"
        for path in step.changes:
            yield path, "changed file"
    elif isinstance(step, m.SqlStep):
        yield step.file, "file"
    elif isinstance(step, m.DocStep):
        yield step.file, "file"
        yield step.text, "text"
    elif isinstance(step, m.InsertStep):
        yield step.text, "text"
        yield step.file, "file"
        yield step.anchor, "anchor"
    elif isinstance(step, m.CommandStep):
        yield step.command, "command"
        yield step.file, "file"
        yield step.runs, "command line"
        yield step.help, "help text"
    elif isinstance(step, m.EntryStep | m.RowStep):
        for key, value in step.values.items():
            yield value, f"value {key}"
        yield step.file, "file"
        if isinstance(step, m.EntryStep):
            yield step.array, "array"
    elif isinstance(step, m.RouteStep):
        yield step.path, "route path"
        yield step.component, "component"
        yield step.file, "file"
    elif isinstance(step, m.ImportStep):
        yield step.names, "imported names"
        yield step.module, "module"
        yield step.file, "file"
    elif isinstance(step, m.EndpointStep):
        yield step.method, "method"
        yield step.path, "route path"
        yield step.file, "file"
    elif isinstance(step, m.ForwardStep):
        yield step.port, "port"
        yield step.env, "port variable"
        yield step.file, "file"
    elif isinstance(step, m.MoveStep):
        yield step.source, "source path"
        yield step.to, "target path"


_PATH_WHATS = frozenset(
    {"target path", "file", "directory", "validate file", "validate directory", "precondition path"}
)


def _check_path(text: str, loc: m.Location | None, what: str, out: _Collector) -> None:
    """A constant path (no template) that leaves the worktree or reaches .git can be known wrong right away."""
    if "{" in text:
        return
    from continuous.dsl.params import static_path_problem

    problem = static_path_problem(text.replace("*", "x").replace("?", "x"))
    if problem:
        out.add(
            loc,
            f"{what} {text!r} {problem}",
            "paths are relative to the worktree and stay inside it",
            refine=re.compile('("' + re.escape(text) + '")'),
        )


def _check_step(s: m.Scenario, step: Any, allowed: frozenset[str], out: _Collector) -> None:
    for text, what in _step_strings(step):
        _check_string(text, step.loc, allowed, out, f"{what} of step {step.name!r}")
        if what in _PATH_WHATS:
            _check_path(text, step.loc, f"{what} of step {step.name!r}", out)
    if isinstance(step, m.RenderStep) and "{" not in step.template:
        _check_template_file(s, step, allowed, out)


def _check_template_file(s: m.Scenario, step: m.RenderStep, allowed: frozenset[str], out: _Collector) -> None:
    from continuous.dsl.templating import locate_template, template_folders, template_path

    if not s.source or s.source.startswith("<"):
        return
    key = (s.source, step.template)
    if key not in out.templates:
        try:
            path = template_path(s, step.template)
        except UserError as exc:
            out.add(
                step.loc,
                f"template of step {step.name!r}: {exc.message}",
                exc.hint,
                refine=re.compile(r'render\s+("[^"]*")'),
            )
            return
        try:
            out.templates[key] = (path, path.stat().st_mtime_ns)
        except OSError:
            out.templates[key] = (path, None)
    path, mtime = out.templates[key]
    if mtime is None:
        folder = path.parent
        base = Path(s.source).resolve().parent / "templates"
        existing = [str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()] if base.is_dir() else []
        same_dir = [e for e in existing if Path(e).parent == Path(step.template).parent]
        out.add(
            step.loc,
            f"template file {step.template!r} of step {step.name!r} does not exist (looked in {folder})",
            did_you_mean(step.template, same_dir, quote="'") or f"create {path}",
            refine=re.compile(r'render\s+("[^"]*")'),
        )
        return
    info, text = _template_file_info(str(path), mtime)
    where = f"step {step.name!r} at {step.loc.file}:{step.loc.line}" if step.loc else f"scenario {s.id}"
    if info.error:
        line = info.error_line or 1
        out.add(
            m.Location(file=str(path), line=line, column=1),
            f"template syntax error: {info.error}",
            f"used by {where}",
        )
        return
    lines = text.splitlines()
    for name, line in info.includes:
        try:
            locate_template(template_folders(s), name)
        except UserError as exc:
            out.add(m.Location(file=str(path), line=line, column=1), exc.message, exc.hint or f"used by {where}")
    if info.dynamic_include:
        out.add(
            m.Location(file=str(path), line=info.dynamic_include, column=1),
            "include, import and extends take a quoted template name",
            "a name computed at render time cannot be checked before the run",
        )
    for name in sorted(info.variables - allowed):
        line, column = _locate_in_template(lines, name)
        out.add(
            m.Location(file=str(path), line=line, column=column),
            f"template variable {name!r} is not a parameter of scenario {s.id} (rendered by {where})",
            _variable_hint(name, allowed),
            width=len(name),
        )
    for name in sorted(info.filters - known_filters()):
        line, column = _locate_in_template(lines, name)
        out.add(
            m.Location(file=str(path), line=line, column=column),
            f"unknown template filter {name!r}",
            did_you_mean(name, known_filters(), quote="'") or f"used by {where}",
            width=len(name),
        )


def _locate_in_template(lines: list[str], name: str) -> tuple[int, int]:
    pattern = re.compile(r"(?<![A-Za-z0-9_.])" + re.escape(name) + r"(?![A-Za-z0-9_])")
    for number, text in enumerate(lines, start=1):
        if "{" in text:
            for expr in re.finditer(r"\{[{%](.*?)[}%]\}", text):
                match = pattern.search(expr.group(1))
                if match:
                    return number, expr.start(1) + match.start() + 1
    return 1, 1


def _variable_hint(name: str, allowed: Iterable[str], where: str | None = None) -> str:
    params = sorted(set(allowed) - BUILTIN_VARIABLES)
    guess = did_you_mean(name, allowed, quote="'")
    if guess:
        return guess
    if not params:
        return f"declare it with `param {name}: string`; this scenario has no parameters yet"
    text = f"declare it with `param {name}: string` or use one of: {', '.join(params)}"
    return f"{text} (in {where})" if where else text


def _check_string(text: str, loc: m.Location | None, allowed: frozenset[str], out: _Collector, what: str) -> None:
    if "{" not in text:
        return
    info = template_info(text)
    if info.error:
        out.add(
            loc,
            f"invalid template in {what}: {info.error}",
            "templates look like {{ name }} or {{ name | snake }}",
        )
        return
    if info.variables <= allowed and (not info.filters or info.filters <= known_filters()):
        return
    for name in sorted(info.variables - allowed):
        out.add(
            loc,
            f"template variable {name!r} in {what} is not a parameter",
            _variable_hint(name, allowed),
            refine=re.compile(r"\{\{[^}]*?(?<![A-Za-z0-9_.])(" + re.escape(name) + r")(?![A-Za-z0-9_])"),
        )
    unknown = info.filters - known_filters()
    for name in sorted(unknown):
        out.add(
            loc,
            f"unknown template filter {name!r} in {what}",
            did_you_mean(name, known_filters(), quote="'")
            or "filters: snake, kebab, pascal, camel, title, upper_snake, singular, plural; escaping: comment, "
            "js_string, json_string, html, jsx_text, sql_literal, sql_ident, shell_word, md_text, one_line "
            "(and Jinja's own)",
            refine=re.compile(r"\|\s*(" + re.escape(name) + r")\b"),
        )


def _check_term(term: m.Term, loc: m.Location | None, allowed: frozenset[str], out: _Collector, what: str) -> None:
    if isinstance(term, m.Value) and isinstance(term.value, str):
        _check_string(term.value, loc, allowed, out, what)


def _check_pattern(
    pattern: m.FactPattern, allowed: frozenset[str], out: _Collector, what: str, loc: m.Location | None
) -> None:
    for name, term in pattern.fields.items():
        _check_term(term, pattern.loc or loc, allowed, out, f"{what} field {name!r}")


# ---------------------------------------------------------------- rules and discovery


def _check_rule(rule_base: m.RuleBase, rule: m.Rule, known: list[str], out: _Collector) -> None:
    bound = {t.var for p in rule.conditions if not p.negated for t in p.fields.values() if isinstance(t, m.Var)}
    allowed = frozenset(bound) | BUILTIN_VARIABLES
    for p in rule.conditions:
        _check_pattern(p, allowed, out, f"rule {rule.id}", p.loc)
    for action in rule.actions:
        if isinstance(action, m.RunAction):
            _check_call(rule_base, action.scenario, action.bindings, action.loc, known, out, f"rule {rule.id} runs")
            for term in action.bindings.values():
                _check_term(term, action.loc, allowed, out, f"rule {rule.id}")
        elif isinstance(action, m.AssertAction | m.RetractAction):
            _check_pattern(action.pattern, allowed, out, f"rule {rule.id}", action.loc)
        elif isinstance(action, m.TaskAction):
            _check_string(action.title, action.loc, allowed, out, f"task of rule {rule.id}")


def _check_discover(d: m.Discover, out: _Collector) -> None:
    if d.json_path is not None:
        return  # a JSON object's own keys are variables too: they are only known when the file is read
    if d.parser is not None:
        from continuous.dsl.readers import READERS

        if d.parser not in READERS:
            return  # the parser already reported the unknown reader
        names = frozenset(READERS.get(d.parser, ()))
        kind = f"a field of reader {d.parser}"
        listing = f"its fields: {', '.join(READERS.get(d.parser, ())) or 'none'}"
    elif d.regex is not None:
        try:
            names = frozenset(re.compile(d.regex).groupindex)
        except re.error:
            return  # the parser already reported it
        kind = "a named group of its regex"
        listing = f"named groups: {', '.join(sorted(names)) or 'none'}"
    else:
        names = frozenset()
        kind = "a path variable"
        listing = ""
    allowed = names | DISCOVER_PATH_VARIABLES
    checks = [(f"field {name}", template) for name, template in d.fields.items()]
    if d.where is not None:
        checks.append(("where", "{{ " + d.where + " }}"))
    for what, template in checks:
        info = template_info(template)
        for var in sorted(info.variables - allowed):
            out.add(
                d.loc,
                f"{what} of discover {d.fact_type} uses {var!r}, which is "
                + (f"neither {kind} nor a path variable" if kind != "a path variable" else "not a path variable"),
                did_you_mean(var, allowed, quote="'")
                or "; ".join(x for x in (listing, "path variables: path, dir, stem, name, parts") if x),
                refine=re.compile(r"\{\{[^}]*?\b(" + re.escape(var) + r")\b")
                if what != "where"
                else re.compile(r"\bwhere\s+\"[^\"]*?\b(" + re.escape(var) + r")\b"),
            )


# ---------------------------------------------------------------- cycles


def _check_cycles(rule_base: m.RuleBase, out: _Collector) -> None:
    edges: dict[str, list[tuple[str, m.Location | None]]] = {}
    for s in rule_base.scenarios.values():
        targets = []
        for dep in s.dependencies:
            target = rule_base.resolve_id(dep.scenario)
            if target in rule_base.scenarios:
                targets.append((target, dep.loc))
        edges[s.id] = targets
    reported: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(edges):
        if state.get(root):
            continue
        path: list[str] = [root]
        iters = [iter(edges[root])]
        state[root] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            target, _ = nxt
            mark = state.get(target)
            if mark == 1:
                cycle = path[path.index(target) :]
                start = cycle.index(min(cycle))
                cycle = cycle[start:] + cycle[:start]
                key = tuple(cycle)
                if key not in reported:
                    reported.add(key)
                    follower = cycle[1] if len(cycle) > 1 else cycle[0]
                    loc = next((loc for t, loc in edges[cycle[0]] if t == follower), None)
                    text = " -> ".join([*cycle, cycle[0]])
                    out.add(
                        loc,
                        f"dependency cycle: {text}",
                        "remove one of these requires; a scenario cannot (indirectly) require itself",
                        width=len(follower),
                    )
            elif mark is None:
                state[target] = 1
                path.append(target)
                iters.append(iter(edges[target]))


# ---------------------------------------------------------------- fact types


def _produced_facts(rule_base: m.RuleBase) -> dict[str, set[str] | None]:
    """Fact type -> the fields its producers give (None when some producer's fields are not known)."""
    out: dict[str, set[str] | None] = {}

    def add(fact_type: str, fields: Iterable[str] | None) -> None:
        if fact_type in out and out[fact_type] is None:
            return
        if fields is None:
            out[fact_type] = None
        else:
            out.setdefault(fact_type, set()).update(fields)  # type: ignore[union-attr]

    for d in rule_base.discovers:
        if d.fields:
            add(d.fact_type, d.fields)
        elif d.parser:
            from continuous.dsl.readers import READERS

            add(d.fact_type, [f for f in READERS.get(d.parser, ()) if f != "line"])
        elif d.regex and not d.json_path:
            try:
                add(d.fact_type, re.compile(d.regex).groupindex)
            except re.error:
                add(d.fact_type, None)
        elif d.parser:
            from continuous.dsl.readers import READERS

            add(d.fact_type, [f for f in READERS.get(d.parser, ()) if f != "line"])
        else:
            add(d.fact_type, None)
    for s in rule_base.scenarios.values():
        for p in s.provides:
            add(p.type, p.fields)
    for rule in rule_base.rules.values():
        for action in rule.actions:
            if isinstance(action, m.AssertAction):
                add(action.pattern.type, action.pattern.fields)
    return out


def _consumed_patterns(rule_base: m.RuleBase) -> Iterator[tuple[m.FactPattern, str]]:
    """Patterns that must match a fact to mean anything (negated ones may name facts nobody produces)."""
    for s in rule_base.scenarios.values():
        for p in s.unless:
            yield p, f"scenario {s.id}"
        for dep in s.dependencies:
            for p in dep.unless:
                yield p, f"scenario {s.id}"
        for pre in s.preconditions:
            if pre.kind == "fact" and pre.pattern is not None:
                yield pre.pattern, f"scenario {s.id}"
        for v in s.validations:
            if isinstance(v, m.FactHolds):
                yield v.pattern, f"scenario {s.id}"
        for guarded in (*s.steps, *s.rollback, *s.rollback_finally, *s.validations):
            for cond in guarded.when:
                if cond.kind == "fact" and cond.pattern is not None:
                    yield cond.pattern, f"scenario {s.id}"
    for rule in rule_base.rules.values():
        for p in rule.conditions:
            if not p.negated:
                yield p, f"rule {rule.id}"
    for std in rule_base.standards.values():
        for p in std.when:
            if not p.negated:
                yield p, f"standard {std.id}"


def _check_fact_types(rule_base: m.RuleBase, out: _Collector) -> None:
    produced = _produced_facts(rule_base)
    for pattern, where in _consumed_patterns(rule_base):
        fields = produced.get(pattern.type, set()) if pattern.type in produced else None
        if pattern.type not in produced:
            out.add(
                pattern.loc,
                f"{where} uses fact {pattern.type!r}, which no discover, provides or assert produces",
                did_you_mean(pattern.type, produced, quote="'")
                or "declare a `discover` for it or add it to a scenario's `provides`",
                width=len(pattern.type),
            )
            continue
        if fields is None:
            continue
        for name in pattern.fields:
            if name not in fields:
                known = ", ".join(sorted(fields)) or "none"
                out.add(
                    pattern.loc,
                    f"{where} matches field {name!r} of fact {pattern.type!r}, which its producers never set "
                    f"(fields: {known})",
                    did_you_mean(name, fields, quote="'"),
                    refine=re.compile(r"[(,]\s*(" + re.escape(name) + r")\s*:"),
                )
