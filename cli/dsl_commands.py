"""DSL commands: `validate`, `fmt`, `schema` and the `scenarios` catalogue (list, show, graph).

Only typer and the standard library at module level; the parser (lark, pydantic) loads inside the commands.
The rule base is the built-in library plus the current repository's `.continuous.toml` scenario_paths; PATHS
given on the command line replace the repository's paths.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from continuous.cli.output import command, count, print_json

if TYPE_CHECKING:
    from continuous.common.errors import Diagnostic
    from continuous.dsl.model import RuleBase
    from continuous.dsl.sources import Source

scenarios_app = typer.Typer(help="The scenario catalogue: list, show and graph scenarios.", no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Print the result as JSON.")
PATHS_ARG = typer.Argument(
    None, help="DSL files or folders (default: the repository's scenario_paths from .continuous.toml)."
)
NO_BUILTIN_OPT = typer.Option(False, "--no-builtin", help="Leave out the built-in scenario library.")


def register(app: typer.Typer) -> None:
    app.command("validate", help="Check DSL files: syntax, references, cycles, templates, parameter types.")(
        validate_cmd
    )
    app.command("fmt", help="Rewrite DSL files in the canonical layout (comments are kept).")(fmt_cmd)
    app.command("schema", help="Print the JSON Schema of the rule base (what the DSL parses into).")(schema_cmd)
    app.add_typer(scenarios_app, name="scenarios")


def _out(text: str = "") -> None:
    sys.stdout.write(text.rstrip("\n") + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


# ---------------------------------------------------------------- which files


def _repo_config() -> Any:
    """The repository's configuration, or None outside a git worktree."""
    from continuous.common.config import load_config
    from continuous.common.errors import UserError
    from continuous.common.gitinfo import locate

    try:
        root = locate(Path.cwd()).worktree
    except UserError:
        return None
    return load_config(root)


def dsl_sources(paths: list[Path] | None, *, no_builtin: bool = False) -> list[Source]:
    """Built-in library (unless excluded) plus PATHS; without PATHS, the repository's rule base (its packs and
    scenario_paths)."""
    from continuous.dsl.sources import builtin_source, config_sources, path_sources

    if paths:
        return path_sources(paths, include_builtin=not no_builtin)
    config = _repo_config()
    if config is None:
        return [] if no_builtin else [builtin_source()]
    return [s for s in config_sources(config) if not (no_builtin and s.kind == "builtin")]


def load(paths: list[Path] | None = None, *, no_builtin: bool = False) -> RuleBase:
    from continuous.dsl.loader import build_rule_base

    return build_rule_base(dsl_sources(paths, no_builtin=no_builtin))


def _relative(d: Diagnostic) -> Diagnostic:
    """Files below the current directory are named relative to it (shorter, and still clickable)."""
    import dataclasses

    try:
        rel = Path(d.file).resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return d
    return dataclasses.replace(d, file=str(rel))


def _diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "message": d.message,
        "hint": d.hint,
        "source_line": d.source_line,
    }


# ---------------------------------------------------------------- validate, fmt, schema


@command
def validate_cmd(
    paths: list[Path] | None = PATHS_ARG, no_builtin: bool = NO_BUILTIN_OPT, as_json: bool = JSON_OPT
) -> None:
    from continuous.dsl.validate import check_files, warnings

    sources = dsl_sources(paths, no_builtin=no_builtin)
    rule_base, diagnostics = check_files(sources)
    diagnostics = [_relative(d) for d in diagnostics]
    notes = [_relative(d) for d in warnings(rule_base)] if rule_base is not None else []
    counts = {
        "files": len(rule_base.files) if rule_base else sum(len(s.files) for s in sources),
        "scenarios": len(rule_base.scenarios) if rule_base else 0,
        "rules": len(rule_base.rules) if rule_base else 0,
        "aliases": len(rule_base.aliases) if rule_base else 0,
        "discovers": len(rule_base.discovers) if rule_base else 0,
        "standards": len(rule_base.standards) if rule_base else 0,
        "schedules": len(rule_base.schedules) if rule_base else 0,
    }
    if as_json:
        print_json(
            {
                "ok": not diagnostics,
                "counts": counts,
                "diagnostics": [_diagnostic_json(d) for d in diagnostics],
                "warnings": [_diagnostic_json(d) for d in notes],
                "overrides": [o.model_dump(mode="json") for o in rule_base.overrides] if rule_base else [],
            }
        )
    elif diagnostics:
        _err("\n".join(d.render() for d in [*diagnostics, *notes]))
        _err(f"{count(len(diagnostics), 'problem')} found")
    else:
        for line in override_notes(rule_base):
            _err(line)
        for d in notes:
            _err("warning: " + d.render())
        _out(
            f"ok: {counts['scenarios']} scenarios, {counts['rules']} rules, {counts['aliases']} aliases, "
            f"{counts['discovers']} discovers, {counts['standards']} standards, "
            f"{counts['schedules']} schedules "
            f"in {counts['files']} files"
        )
    if diagnostics:
        raise typer.Exit(2)


@command
def fmt_cmd(
    paths: list[Path] | None = PATHS_ARG,
    check: bool = typer.Option(False, "--check", help="Change nothing; exit 1 if a file is not formatted."),
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.common.errors import DslError, UserError
    from continuous.dsl.format import format_text
    from continuous.dsl.loader import expand_paths

    if not paths:
        config = _repo_config()
        paths = list(config.scenario_paths) if config is not None else []
        if not paths:
            raise UserError(
                "nothing to format",
                hint="give DSL files or folders, or set scenario_paths in .continuous.toml",
            )
    changed: list[str] = []
    unchanged: list[str] = []
    diagnostics = []
    for path in expand_paths(paths):
        text = path.read_text(encoding="utf-8")
        try:
            formatted = format_text(text, str(path))
        except DslError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        if formatted == text:
            unchanged.append(str(path))
            continue
        changed.append(str(path))
        if not check:
            path.write_text(formatted, encoding="utf-8")
    if as_json:
        print_json(
            {
                "check": check,
                "changed": changed,
                "unchanged": unchanged,
                "diagnostics": [_diagnostic_json(d) for d in diagnostics],
            }
        )
    else:
        for name in changed:
            (_err if check else _out)(f"{'would reformat' if check else 'reformatted'} {name}")
        if diagnostics:
            _err("\n".join(d.render() for d in diagnostics))
        verb = "would be reformatted" if check else "reformatted"
        _out(f"{count(len(changed), 'file')} {verb}, {len(unchanged)} already formatted")
    if diagnostics:
        raise typer.Exit(2)
    if check and changed:
        raise typer.Exit(1)


@command
def schema_cmd(as_json: bool = JSON_OPT) -> None:
    """The schema is JSON either way; --json is accepted for symmetry with every other command."""
    from continuous.dsl.model import RuleBase

    print_json(RuleBase.model_json_schema())


# ---------------------------------------------------------------- scenarios


def _duration(seconds: int | None) -> str:
    from continuous.common.humanize import duration

    return duration(seconds, missing="-")


def _at(loc: Any) -> str:
    if loc is None:
        return "?"
    try:
        file = str(Path(loc.file).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        file = loc.file
    return f"{file}:{loc.line}"


def override_notes(rule_base: RuleBase | None, scenarios: set[str] | None = None) -> list[str]:
    """One notice per definition that replaced another (repository over packs over built-in); with `scenarios`,
    only for those scenarios."""
    if rule_base is None:
        return []
    notes = []
    for o in rule_base.overrides:
        if scenarios is not None and (o.kind != "scenario" or o.id not in scenarios):
            continue
        if o.kind == "alias":
            notes.append(
                f"note: scenario {o.id} from the {o.origin} ({_at(o.loc)}) replaces the {o.replaced} alias "
                f"{o.id} ({_at(o.replaced_loc)})"
            )
        else:
            notes.append(
                f"note: {o.kind} {o.id} from the {o.origin} ({_at(o.loc)}) overrides the {o.replaced} one "
                f"({_at(o.replaced_loc)})"
            )
    return notes


@scenarios_app.command("list", help="List scenarios (optionally of one object type).")
@command
def list_cmd(
    object_type: str | None = typer.Option(
        None, "--object-type", "-t", help="service, cli, database, ui, proxy or infra."
    ),
    paths: list[Path] | None = PATHS_ARG,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.cli.operations import scenario_row, select_scenarios

    rule_base = load(paths)
    chosen = select_scenarios(rule_base, object_type)
    if as_json:
        print_json([scenario_row(rule_base, s) for s in chosen])
        return
    if not chosen:
        _out("no scenarios" + (f" of type {object_type}" if object_type else ""))
        return
    from continuous.cli.output import print_table

    origins = {s.id: _origin_text(rule_base, s.id) for s in chosen}
    show_origin = any(rule_base.origins.get(s.id, BUILTIN) != BUILTIN for s in chosen)
    headers = ["ID", "OBJECT", "AUTO", "EST", *(["FROM"] if show_origin else []), "SUMMARY"]
    rows = [
        [
            s.id,
            s.object_type,
            f"{s.automation}%",
            _duration(s.estimate_seconds),
            *([origins[s.id]] if show_origin else []),
            s.summary,
        ]
        for s in chosen
    ]
    print_table(headers, rows, wrap=("SUMMARY", "FROM"), right=("AUTO", "EST"))
    _out(count(len(chosen), "scenario"))


BUILTIN = "built-in"


def _origin_text(rule_base: RuleBase, scenario_id: str) -> str:
    from continuous.cli.operations import replaced_by

    origin = rule_base.origins.get(scenario_id, BUILTIN)
    replaced = replaced_by(rule_base, scenario_id)
    return f"{origin} (overrides {replaced.replaced})" if replaced else origin


def _term(term: Any) -> str:
    from continuous.dsl.model import Var

    if isinstance(term, Var):
        return f"?{term.var}"
    value = term.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else f'"{value}"'


def _pattern(p: Any) -> str:
    fields = ", ".join(f"{k}: {_term(v)}" for k, v in p.fields.items())
    return f"{'not ' if p.negated else ''}{p.type}({fields})"


def _step(step: Any) -> str:
    kind = step.kind
    if kind == "render":
        return f"render {step.template} -> {step.to}"
    if kind == "edit":
        value = "" if step.op == "delete" else f" {step.value!r}"
        return f"edit {step.format} {step.file}: {step.op} {step.key}{value}"
    if kind == "run":
        return "run " + " ".join(step.argv) + (f" (in {step.cwd})" if step.cwd else "")
    if kind == "sql":
        return f"sql {step.action} {step.file}"
    if kind == "doc":
        return f"doc append to {step.file}"
    if kind == "insert":
        return f"insert into {step.file} {step.where} {step.anchor!r}"
    if kind == "command":
        return f"command {step.command} in {step.file} (runs {step.runs})"
    if kind in ("entry", "row"):
        keys = ", ".join(step.values)
        where = f"{step.array} in {step.file}" if kind == "entry" else step.file
        return f"{kind} ({keys}) into {where}"
    if kind == "route":
        return f"route {step.path} to {step.component} in {step.file}"
    if kind == "import":
        return f"import {step.names} from {step.module!r} into {step.file}"
    if kind == "endpoint":
        return f"endpoint {step.method} {step.path} in {step.file}"
    if kind == "move":
        return f"move {step.source} -> {step.to}"
    if kind == "forward":
        return f"forward unrouted requests of {step.file} to port {step.port} ({step.env})"
    return kind


def _validation(v: Any) -> str:
    if v.kind == "file_exists":
        return f"file {v.glob} exists"
    if v.kind == "file_contains":
        return f"file {v.glob} {'lacks' if v.negated else 'contains'} {v.text!r}"
    if v.kind == "run":
        return "run " + " ".join(v.argv) + " succeeds"
    return f"fact {_pattern(v.pattern)} holds"


@scenarios_app.command("show", help="Show one scenario (an id or an alias): parameters, dependencies, steps.")
@command
def show_cmd(
    scenario_id: str = typer.Argument(..., metavar="ID", help="Scenario id or alias."),
    paths: list[Path] | None = PATHS_ARG,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.cli.operations import aliases_of, find_scenario, replaced_by, scenario_detail

    rule_base = load(paths)
    s = find_scenario(rule_base, scenario_id)
    if as_json:
        print_json(scenario_detail(rule_base, s))
        return
    where = f"{s.loc.file}:{s.loc.line}" if s.loc else s.source
    _out(f"{s.id} ({s.object_type}) — {s.summary}")
    if s.description:
        _out("")
        for line in s.description.strip().splitlines():
            _out(f"  {line}")
    _out("")
    aliases = aliases_of(rule_base, s.id)
    if aliases:
        _out(f"aliases:     {', '.join(aliases)}")
    _out(
        f"automation:  {s.automation}%    estimate: {_duration(s.estimate_seconds)}    "
        f"manual: {_duration(s.manual_effort_seconds)}"
    )
    _out(f"defined at:  {where}")
    _out(f"from:        {rule_base.origins.get(s.id, BUILTIN)}")
    replaced = replaced_by(rule_base, s.id)
    if replaced is not None:
        _out(f"overrides:   the {replaced.replaced} scenario at {_at(replaced.replaced_loc)}")
    if s.examples:
        _out("examples:")
        for e in s.examples:
            _out(f"  - {e}")
    _out("parameters:" if s.params else "parameters: none")
    for p in s.params:
        type_text = f"enum({', '.join(p.choices)})" if p.type == "enum" else p.type
        flags = []
        if p.position is not None:
            flags.append(f"position {p.position}")
        if p.required:
            flags.append("required")
        elif p.default is not None:
            flags.append(f"default {_term(_value(p.default))}")
        if p.pattern:
            flags.append(f"pattern {p.pattern}")
        _out(
            f"  {p.name}: {type_text}" + (f" ({', '.join(flags)})" if flags else "") + (f" — {p.doc}" if p.doc else "")
        )
    if s.dependencies:
        _out("requires:")
        for d in s.dependencies:
            args = ", ".join(f"{k}: {_term(v)}" for k, v in d.bindings.items())
            unless = f" unless {' and '.join(_pattern(p) for p in d.unless)}" if d.unless else ""
            _out(f"  {d.scenario}({args}){unless}")
    if s.unless:
        _out(f"skipped when: {' and '.join(_pattern(p) for p in s.unless)}")
    if s.preconditions:
        _out("preconditions:")
        for pre in s.preconditions:
            if pre.kind == "fact" or pre.kind == "no_fact":
                text = ("not " if pre.kind == "no_fact" else "") + _pattern(pre.pattern)
            elif pre.kind == "clean":
                text = "worktree clean"
            elif pre.kind == "expr":
                text = f"if {pre.path}"
            else:
                text = f"{pre.kind} {pre.path}"
            _out(f"  {text}")
    _out("steps:" if s.steps else "steps: none")
    for i, step in enumerate(s.steps, start=1):
        _out(f"  {i}. {step.name}: {_step(step)}{_guard(step.when)}")
    if s.provides:
        _out(f"provides:    {', '.join(_pattern(p) for p in s.provides)}")
    if s.validations:
        _out("validations:")
        for v in s.validations:
            _out(f"  {_validation(v)}{_guard(v.when)}")
    if s.rollback:
        _out("rollback:")
        for step in s.rollback:
            _out(f"  {step.name}: {_step(step)}")
    if s.rollback_finally:
        _out("rollback, after the files are restored:")
        for step in s.rollback_finally:
            _out(f"  {step.name}: {_step(step)}")


def _guard(conditions: Any) -> str:
    if not conditions:
        return ""
    parts = []
    for c in conditions:
        if c.kind in ("fact", "no_fact"):
            parts.append(("not " if c.kind == "no_fact" else "") + _pattern(c.pattern))
        elif c.kind == "expr":
            parts.append(f"if {c.path}")
        else:
            parts.append(f"{c.kind} {c.path}")
    return " (when " + " and ".join(parts) + ")"


def _value(v: Any) -> Any:
    from continuous.dsl.model import Value

    return Value(value=v)


@scenarios_app.command("graph", help="Print the dependency graph as Mermaid or Graphviz dot.")
@command
def graph_cmd(
    fmt: str = typer.Option("mermaid", "--format", "-f", help="mermaid or dot."),
    paths: list[Path] | None = PATHS_ARG,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.common.errors import UserError

    if fmt not in ("mermaid", "dot"):
        raise UserError(f"unknown graph format {fmt!r}; expected mermaid or dot")
    rule_base = load(paths)
    edges = graph_edges(rule_base)
    if as_json:
        print_json(
            {
                "nodes": [{"id": s.id, "object_type": s.object_type} for s in rule_base.scenarios.values()],
                "edges": [{"from": a, "to": b, "kind": k, "label": label} for a, b, k, label in edges],
            }
        )
        return
    _out(render_graph(rule_base, edges, fmt))


def graph_edges(rule_base: RuleBase) -> list[tuple[str, str, str, str]]:
    """(before, after, kind, label) in execution order: a dependency points at the scenario requiring it."""
    from continuous.dsl.model import RunAction

    out: list[tuple[str, str, str, str]] = []
    for s in sorted(rule_base.scenarios.values(), key=lambda s: s.id):
        for d in s.dependencies:
            out.append((rule_base.resolve_id(d.scenario), s.id, "requires", ""))
    for rule in sorted(rule_base.rules.values(), key=lambda r: r.id):
        runs = [a for a in rule.actions if isinstance(a, RunAction)]
        triggers = {p.type for p in rule.conditions if not p.negated}
        for action in runs:
            target = rule_base.resolve_id(action.scenario)
            for s in sorted(rule_base.scenarios.values(), key=lambda s: s.id):
                if any(p.type in triggers for p in s.provides) and s.id != target:
                    out.append((s.id, target, "rule", rule.id))
    return list(dict.fromkeys(out))


def render_graph(rule_base: RuleBase, edges: list[tuple[str, str, str, str]], fmt: str) -> str:
    ids = sorted(rule_base.scenarios)
    if fmt == "dot":
        lines = ["digraph scenarios {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
        for sid in ids:
            lines.append(f'  "{sid}" [label="{sid}\\n({rule_base.scenarios[sid].object_type})"];')
        for a, b, kind, label in edges:
            style = ' [style=dashed, label="' + label + '"]' if kind == "rule" else ""
            lines.append(f'  "{a}" -> "{b}"{style};')
        lines.append("}")
        return "\n".join(lines)

    def node(sid: str) -> str:
        return "s_" + sid.replace("-", "_")

    lines = ["flowchart LR"]
    for sid in ids:
        lines.append(f'  {node(sid)}["{sid}"]')
    for a, b, kind, label in edges:
        arrow = f" -. {label} .-> " if kind == "rule" else " --> "
        lines.append(f"  {node(a)}{arrow}{node(b)}")
    return "\n".join(lines)
