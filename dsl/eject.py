"""`continuous scenarios eject ID`: copy a built-in (or pack) scenario and the templates it renders into the
repository, where the copy overrides the original and can be changed freely.

The copy is the scenario's own text, byte for byte, with a header saying where it came from; its templates keep
their names under `templates/` beside it (the same layout as the built-in library), so the text needs no change.
Nothing existing is overwritten: a template that is already there with the same bytes is kept (two ejected
scenarios may share one), anything else that is in the way refuses the whole eject before a file is written.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from continuous.common.errors import UserError

if TYPE_CHECKING:
    from continuous.common.config import Config
    from continuous.dsl.model import RuleBase, Scenario

DEFAULT_DIR = ".continuous/scenarios"
CONFIG_NAME = ".continuous.toml"


@dataclass
class Ejected:
    scenario: str
    origin: str
    file: Path
    directory: Path
    templates: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    config_changed: bool = False


def eject(config: Config, scenario_id: str, *, to: Path | None = None) -> Ejected:
    from continuous.dsl.loader import load_config_rule_base

    root = config.root
    if root is None:
        raise UserError("eject needs a git worktree to copy the scenario into", hint="run it inside your repository")
    rule_base = load_config_rule_base(config)
    scenario = _find(rule_base, scenario_id, include_builtin=config.include_builtin)
    origin = rule_base.origins.get(scenario.id, "built-in") if scenario.id in rule_base.scenarios else "built-in"
    if origin == "repository":
        where = f"{scenario.loc.file}:{scenario.loc.line}" if scenario.loc else scenario.source
        raise UserError(
            f"scenario {scenario.id} is already the repository's own ({where})",
            hint="edit it there; delete it to go back to the one it overrides",
        )
    directory, add_path = _destination(root, config, to)
    target = directory / f"{scenario.id}.scn"
    templates = _templates(scenario)
    blocked = [target] if target.exists() else []
    copies: list[tuple[Path, Path]] = []
    kept: list[Path] = []
    for rel, source in templates:
        dest = directory / "templates" / rel
        if dest.exists():
            if dest.is_file() and dest.read_bytes() == source.read_bytes():
                kept.append(dest)
            else:
                blocked.append(dest)
        else:
            copies.append((source, dest))
    if blocked:
        raise UserError(
            "eject would overwrite " + ", ".join(str(_rel(p, root)) for p in blocked),
            hint="move or delete them first, or eject somewhere else with --to DIR",
        )
    new_config = _config_with_path(root, add_path) if add_path is not None else None
    text = _header(scenario, origin, root) + scenario_text(scenario)
    written: list[Path] = []
    config_path = root / CONFIG_NAME
    old_config = config_path.read_bytes() if config_path.exists() else None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
        for source, dest in copies:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(source.read_bytes())
            written.append(dest)
        if new_config is not None:
            config_path.write_text(new_config, encoding="utf-8")
        from continuous.common.config import load_config

        check = load_config_rule_base(load_config(root))
        if check.origins.get(scenario.id) != "repository":
            raise UserError(f"the ejected {target} does not override {scenario.id}; is {directory} in scenario_paths?")
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if new_config is not None:
            if old_config is None:
                config_path.unlink(missing_ok=True)
            else:
                config_path.write_bytes(old_config)
        raise
    return Ejected(scenario.id, origin, target, directory, [d for _, d in copies], kept, new_config is not None)


def _find(rule_base: RuleBase, scenario_id: str, *, include_builtin: bool) -> Scenario:
    from continuous.dsl.suggest import did_you_mean

    scenario = rule_base.scenario(scenario_id)
    if scenario is None and not include_builtin:
        from continuous.dsl.loader import build_rule_base
        from continuous.dsl.sources import builtin_source

        scenario = build_rule_base([builtin_source()]).scenario(scenario_id)
    if scenario is None:
        raise UserError(
            f"unknown scenario {scenario_id!r}",
            hint=did_you_mean(scenario_id, [*rule_base.scenarios, *rule_base.aliases])
            or "`continuous scenarios list` shows every scenario",
        )
    return scenario


def _rel(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return path


def _destination(root: Path, config: Config, to: Path | None) -> tuple[Path, str | None]:
    """(folder to write into, path to add to scenario_paths or None). The first configured folder, else
    `.continuous/scenarios`, which is then added to the configuration."""
    configured = [p.resolve() for p in config.scenario_paths]
    if to is not None:
        directory = to if to.is_absolute() else Path.cwd() / to
        directory = directory.resolve()
        try:
            rel = directory.relative_to(root.resolve())
        except ValueError:
            raise UserError(f"{to} is outside the repository", hint="eject into a folder of this worktree") from None
        if directory.exists() and not directory.is_dir():
            raise UserError(f"{to} is a file, not a folder")
        covered = any(directory == p or (p.is_dir() and directory.is_relative_to(p)) for p in configured)
        return directory, None if covered else rel.as_posix()
    for path in configured:
        if path.is_dir() or (not path.exists() and path.suffix != ".scn"):
            return path, None
    return (root / DEFAULT_DIR).resolve(), DEFAULT_DIR


def _templates(scenario: Scenario) -> list[tuple[str, Path]]:
    """(name under templates/, file) of every template the scenario renders. A name with a `{{ }}` part is a
    pattern: every template it could name is copied."""
    from continuous.dsl.templating import template_path

    base = template_path(scenario, "x").parent
    out: dict[str, Path] = {}
    for step in (*scenario.steps, *scenario.rollback):
        if step.kind != "render":
            continue
        name = step.template
        if "{" not in name:
            path = template_path(scenario, name)
            if not path.is_file():
                raise UserError(f"scenario {scenario.id} renders {name}, which does not exist at {path}")
            out[name] = path
            continue
        pattern = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "*", name)
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base).as_posix()
            if path.is_file() and fnmatch.fnmatch(rel, pattern):
                out[rel] = path
    return sorted(out.items())


def scenario_text(scenario: Scenario) -> str:
    """The scenario's block as written (with the comment lines right above it), from its file."""
    from continuous.dsl._lalr_driver import _TOKENS

    if scenario.loc is None:
        raise UserError(f"scenario {scenario.id} has no source location to copy from")
    text = Path(scenario.loc.file).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: scenario.loc.line - 1]) + scenario.loc.column - 1
    depth = 0
    pos = start
    end = None
    for match in _TOKENS.finditer(text, start):
        token = match.group(2)
        if not token:
            break
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                end = match.end(2)
                break
        pos = match.end()
    if end is None:
        raise UserError(f"cannot find the end of scenario {scenario.id} in {scenario.loc.file} (after {pos})")
    first = scenario.loc.line - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    line_start = sum(len(line) for line in lines[:first])
    return text[line_start:end].rstrip() + "\n"


def _header(scenario: Scenario, origin: str, root: Path) -> str:
    from continuous.common.version import __version__

    where = f"{Path(scenario.loc.file).name}:{scenario.loc.line}" if scenario.loc else scenario.source
    source = f"the built-in library of continuous {__version__}" if origin == "built-in" else origin
    return (
        f"# Ejected from {source} ({where}) by `continuous scenarios eject {scenario.id}`.\n"
        f"# It overrides that scenario: change it freely. Its templates are in templates/ beside this file.\n\n"
    )


def _config_with_path(root: Path, rel: str) -> str:
    """`.continuous.toml` with `rel` appended to scenario_paths, comments and everything else kept."""
    path = root / CONFIG_NAME
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: {exc}", hint="fix the TOML syntax first") from None
    current = data.get("scenario_paths", [])
    if not isinstance(current, list):
        raise UserError(f"{path}: scenario_paths must be a list of strings")
    wanted = [*current, rel]
    rendered = "scenario_paths = [" + ", ".join(json.dumps(p) for p in wanted) + "]"
    match = re.search(r"(?m)^[ \t]*scenario_paths[ \t]*=[ \t]*\[", text)
    if match is None:
        new = rendered + "\n" + text
    else:
        end = _array_end(text, match.end())
        new = text[: match.start()] + rendered + text[end:]
    try:
        parsed = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        parsed = {}
    if parsed.get("scenario_paths") != wanted or {k: v for k, v in parsed.items() if k != "scenario_paths"} != {
        k: v for k, v in data.items() if k != "scenario_paths"
    }:
        raise UserError(
            f"cannot add {rel!r} to scenario_paths in {path} automatically",
            hint=f'add it yourself (scenario_paths = [..., "{rel}"]) and run the eject again',
        )
    return new


def _array_end(text: str, pos: int) -> int:
    """The index after the `]` that closes the TOML array opened just before `pos` (strings and comments
    skipped)."""
    depth = 1
    i = pos
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            quote = ch
            i += 1
            while i < len(text) and text[i] != quote:
                i += 2 if quote == '"' and text[i] == "\\" else 1
        elif ch == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)
