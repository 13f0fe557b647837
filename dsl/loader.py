"""Load DSL files (following imports) from their sources into one RuleBase.

Parse errors of every file are collected before raising, and so are duplicate ids, so one run of
`continuous validate` shows everything that is wrong. Sources are combined by rank (see `dsl.sources`): the
repository's own files override packs, packs override the built-in library, by id, and each override is recorded
in the rule base (`RuleBase.overrides`) so that the CLI can say so. Within one source a repeated id is an error,
and so is an id that two packs of equal rank both define (unless the repository overrides it).

What overriding means for each kind of declaration:
- scenarios, rules, standards and schedules: replaced by id; an overriding scenario renders the templates beside
  its own file, never the ones it replaced;
- aliases: an alias replaces a lower-ranked alias of the same name, and a scenario replaces a lower-ranked alias
  of its id; an alias may never take the name of a scenario (that would hide it);
- discover declarations: always added, never replaced, so that no source can make facts silently disappear.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from continuous.common.errors import Diagnostic, DslError
from continuous.dsl import model as m
from continuous.dsl.sources import (
    BUILTIN_LIBRARY,
    DSL_SUFFIX,
    PACKAGE_ROOT,
    Source,
    config_sources,
    expand_paths,
    library_files,
    path_sources,
    repository_source,
)

if TYPE_CHECKING:
    from continuous.common.config import Config

__all__ = [
    "BUILTIN_LIBRARY",
    "DSL_SUFFIX",
    "PACKAGE_ROOT",
    "build_rule_base",
    "collect_rule_base",
    "expand_paths",
    "library_files",
    "load_config_rule_base",
    "load_rule_base",
]

P = ParamSpec("P")
R = TypeVar("R")
_ID_KINDS: tuple[tuple[type, str], ...] = (
    (m.Scenario, "scenario"),
    (m.Rule, "rule"),
    (m.Standard, "standard"),
    (m.Schedule, "schedule"),
)


def load_rule_base(paths: Sequence[Path | str] | None = None, *, include_builtin: bool = True) -> m.RuleBase:
    """Parse the built-in library (unless excluded) plus the given files or directories (which override it)."""
    return build_rule_base(path_sources(paths or (), include_builtin=include_builtin))


def load_config_rule_base(config: Config, *, cached: bool = False) -> m.RuleBase:
    """A repository's rule base: the built-in library, its pinned packs and its `scenario_paths`. This is the one
    place that builds it; `cached` reads it from the disk cache (`dsl.cache`) when no file changed, for processes
    that start often and need it fast (`continuous suggest`)."""
    sources = config_sources(config)
    if cached:
        from continuous.dsl.cache import load_sources

        return load_sources(sources)
    return build_rule_base(sources)


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


def _as_sources(inputs: Sequence[Path] | Sequence[Source]) -> list[Source]:
    """A plain list of files is one source of the repository's rank, as before sources existed."""
    if all(isinstance(i, Source) for i in inputs):
        return sorted((i for i in inputs if isinstance(i, Source)), key=lambda s: s.rank)
    return [repository_source([Path(i) for i in inputs if not isinstance(i, Source)], label="files")]


@_without_gc
def build_rule_base(inputs: Sequence[Path] | Sequence[Source]) -> m.RuleBase:
    """The rule base of these files or sources; a DslError lists every problem found."""
    rule_base, diagnostics, _ = collect_rule_base(inputs)
    if diagnostics:
        raise DslError(diagnostics)
    return rule_base


def collect_rule_base(
    inputs: Sequence[Path] | Sequence[Source], *, lenient: bool = False
) -> tuple[m.RuleBase, list[Diagnostic], bool]:
    """(rule base, problems, whether every file parsed). The rule base keeps the first of every duplicate, so
    that static validation can go on after a problem. `lenient` parsing keeps what a file with semantic errors
    still declares."""
    from continuous.dsl.parser import Import  # lark: only a parse needs it, not a rule base from the cache

    diagnostics: list[Diagnostic] = []
    parsed: dict[Path, tuple[Source, list[Any]]] = {}
    parse_ok = True
    for source in _as_sources(inputs):
        queue = [f.resolve() for f in source.files]
        while queue:
            path = queue.pop(0)
            if path in parsed:
                continue
            items, ok = _parse(path, diagnostics, lenient)
            parse_ok = parse_ok and ok
            parsed[path] = (source, items)
            for item in items:
                if isinstance(item, Import):
                    target = (path.parent / item.path).resolve()
                    if not target.exists():
                        diagnostics.append(_diag(item.loc, f"imported file {item.path!r} does not exist"))
                    elif target.is_dir():
                        queue.extend(p.resolve() for p in library_files(target))
                    else:
                        queue.append(target)
    return _combine(parsed, diagnostics), diagnostics, parse_ok


def _parse(path: Path, diagnostics: list[Diagnostic], lenient: bool) -> tuple[list[Any], bool]:
    from continuous.dsl.parser import parse_file, parse_text_lenient

    if not lenient:
        try:
            return parse_file(path), True
        except DslError as exc:
            diagnostics.extend(exc.diagnostics)
            return [], False
    try:
        items, _, syntax_ok = parse_text_lenient(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError):
        return [], False
    return items, syntax_ok


class _Table:
    """One id namespace (scenarios, rules, ...) filled source by source, lowest rank first."""

    def __init__(self, what: str, diagnostics: list[Diagnostic], overrides: list[m.Override]) -> None:
        self.what = what
        self.items: dict[str, Any] = {}
        self.sources: dict[str, Source] = {}
        self.diagnostics = diagnostics
        self.overrides = overrides
        self.clashes: dict[str, tuple[Any, Source, Any, Source]] = {}

    def add(self, key: str, item: Any, source: Source) -> None:
        if key not in self.items:
            self.items[key] = item
            self.sources[key] = source
            return
        first, first_source = self.items[key], self.sources[key]
        if first_source == source:
            self.diagnostics.append(
                _diag(
                    item.loc,
                    f"duplicate {self.what} id {key!r} (first defined at {_where(first.loc)})",
                    hint=f"rename one of them or remove the duplicate {self.what}",
                )
            )
        elif first_source.rank == source.rank:
            self.clashes.setdefault(key, (first, first_source, item, source))
        else:
            self.overrides.append(
                m.Override(
                    kind=self.what,
                    id=key,
                    origin=source.label,
                    replaced=first_source.label,
                    loc=item.loc,
                    replaced_loc=first.loc,
                )
            )
            self.items[key] = item
            self.sources[key] = source

    def finish(self) -> None:
        """Two peers defining one id is an error only if nothing of a higher rank settles which one is meant."""
        for key, (first, first_source, item, source) in self.clashes.items():
            if self.sources[key].rank > source.rank:
                continue
            self.diagnostics.append(
                _diag(
                    item.loc,
                    f"{self.what} {key!r} is defined by both {first_source.label} ({_where(first.loc)}) and "
                    f"{source.label}",
                    hint=f"remove one of the packs, or define {self.what} {key!r} in the repository's "
                    "scenario_paths to choose",
                )
            )


def _combine(parsed: dict[Path, tuple[Source, list[Any]]], diagnostics: list[Diagnostic]) -> m.RuleBase:
    from continuous.dsl.parser import Alias

    overrides: list[m.Override] = []
    tables = {cls: _Table(what, diagnostics, overrides) for cls, what in _ID_KINDS}
    aliases = _Table("alias", diagnostics, overrides)
    discovers: list[m.Discover] = []
    packs: dict[str, str] = {}
    for source, items in parsed.values():
        if source.pack is not None and source.pin is not None:
            packs[source.pack] = source.pin
        for item in items:
            if isinstance(item, Alias):
                aliases.add(item.alias, item, source)
            elif isinstance(item, m.Discover):
                discovers.append(item)
            elif type(item) in tables:
                tables[type(item)].add(item.id, item, source)
    for table in (*tables.values(), aliases):
        table.finish()
    scenarios = tables[m.Scenario]
    for name in [a for a in aliases.items if a in scenarios.items]:
        alias, alias_source = aliases.items[name], aliases.sources[name]
        scenario_source = scenarios.sources[name]
        if scenario_source.rank > alias_source.rank:
            overrides.append(
                m.Override(
                    kind="alias",
                    id=name,
                    origin=scenario_source.label,
                    replaced=alias_source.label,
                    loc=scenarios.items[name].loc,
                    replaced_loc=alias.loc,
                )
            )
            del aliases.items[name]
        elif scenario_source == alias_source:
            diagnostics.append(_diag(alias.loc, f"alias {name} has the same name as a scenario"))
        else:
            diagnostics.append(
                _diag(
                    alias.loc,
                    f"alias {name} has the same name as the scenario {name} from {scenario_source.label} "
                    f"({_where(scenarios.items[name].loc)})",
                    hint=f"an alias cannot replace a scenario; to change {name}, define a scenario {name} "
                    f"instead (`continuous scenarios eject {name}` copies it)",
                )
            )
    return m.RuleBase(
        scenarios=scenarios.items,
        aliases={name: alias.target for name, alias in aliases.items.items()},
        rules=tables[m.Rule].items,
        discovers=tuple(discovers),
        standards=tables[m.Standard].items,
        schedules=tables[m.Schedule].items,
        files=tuple(str(p) for p in parsed),
        origins={sid: source.label for sid, source in scenarios.sources.items()},
        overrides=tuple(overrides),
        packs=packs,
    )


def _where(loc: m.Location | None) -> str:
    return f"{loc.file}:{loc.line}" if loc else "<unknown>"


def _diag(loc: m.Location | None, message: str, hint: str | None = None) -> Diagnostic:
    if loc is None:
        return Diagnostic("<unknown>", 1, 1, message, hint=hint)
    try:
        lines = Path(loc.file).read_text(encoding="utf-8").splitlines()
        source_line = lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""
    except OSError:
        source_line = ""
    return Diagnostic(loc.file, loc.line, loc.column, message, source_line, hint)
