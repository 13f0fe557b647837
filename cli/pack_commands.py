"""Sharing and customising scenarios: `continuous packs add|list|update|remove|install` and
`continuous scenarios eject ID`.

Only typer and the standard library at module level; the pack machinery (git, pydantic) loads inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from continuous.cli.output import command, print_json

packs_app = typer.Typer(
    help="Scenario packs: shared .scn files and templates from git, a folder or a Python package, pinned in "
    "continuous.lock.",
    no_args_is_help=True,
)

JSON_OPT = typer.Option(False, "--json", help="Print the result as JSON.")


def register(app: typer.Typer) -> None:
    from continuous.cli.dsl_commands import scenarios_app

    app.add_typer(packs_app, name="packs")
    scenarios_app.command(
        "eject",
        help="Copy a built-in (or pack) scenario and the templates it renders into the repository, where the copy "
        "overrides the original.",
    )(eject_cmd)


def _out(text: str = "") -> None:
    sys.stdout.write(text.rstrip("\n") + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def _root() -> Path:
    from continuous.common.gitinfo import locate

    return locate(Path.cwd()).worktree


def _pin_text(pin: Any) -> str:
    if pin is None:
        return "-"
    if pin.kind == "git":
        return f"{(pin.commit or '')[:12]}" + (f" ({pin.ref})" if pin.ref else "")
    if pin.kind == "python":
        return str(pin.commit)
    return pin.content_hash[7:19]


def _scenario_report(root: Path, name: str) -> list[str]:
    """What a pack brings into the rule base: its scenarios, and what it overrides."""
    from continuous.common.config import load_config
    from continuous.dsl.loader import load_config_rule_base

    rule_base = load_config_rule_base(load_config(root))
    prefix = f"pack {name}@", f"pack {name} "
    ids = sorted(sid for sid, origin in rule_base.origins.items() if origin.startswith(prefix))
    lines = [f"  scenarios: {', '.join(ids) if ids else 'none'}"]
    for o in rule_base.overrides:
        if o.origin.startswith(prefix):
            lines.append(f"  overrides the {o.replaced} {o.kind} {o.id}")
        elif o.replaced.startswith(prefix):
            lines.append(f"  its {o.kind} {o.id} is overridden by the {o.origin}")
    return lines


@packs_app.command("add", help="Fetch a pack, check it, and pin it in continuous.lock.")
@command
def add_cmd(
    source: str = typer.Argument(
        ...,
        metavar="URL|PATH[@REF]|python:NAME",
        help="A git URL or repository (optionally @branch, tag or commit), a folder, or python:ENTRY-POINT.",
    ),
    ref: str | None = typer.Option(None, "--ref", help="The branch, tag or commit to pin (same as @REF)."),
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.dsl import packs

    root = _root()
    change = packs.add(root, source, cwd=Path.cwd(), ref=ref)
    if as_json:
        print_json(change.as_json())
        return
    pin = change.after
    assert pin is not None
    _out(f"added pack {pin.name} {pin.version} ({pin.kind}, {_pin_text(pin)}), pinned in {packs.LOCK_NAME}")
    for line in _scenario_report(root, pin.name):
        _out(line)
    _out(f"commit {packs.LOCK_NAME} so that every clone uses the same pack")


@packs_app.command("list", help="List the pinned packs and whether each still matches its pin.")
@command
def list_cmd(as_json: bool = JSON_OPT) -> None:
    from continuous.dsl import packs

    root = _root()
    found = packs.statuses(root)
    extra = packs.available(root)
    if as_json:
        print_json(
            {
                "packs": [s.as_json() for s in found],
                "available": [{"entry_point": n, "distribution": d} for n, d in extra],
            }
        )
        if any(s.status != "ok" for s in found):
            raise typer.Exit(2)
        return
    if not found:
        _out(f"no packs pinned in {packs.LOCK_NAME}")
    else:
        rows = [(s.pin.name, s.pin.version, s.pin.kind, _pin_text(s.pin), s.status, s.pin.source) for s in found]
        heads = ("NAME", "VERSION", "KIND", "PIN", "STATUS", "SOURCE")
        widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(5)]
        _out("  ".join(h.ljust(w) for h, w in zip(heads[:5], widths, strict=True)) + "  " + heads[5])
        for row in rows:
            _out("  ".join(str(c).ljust(w) for c, w in zip(row[:5], widths, strict=True)) + "  " + str(row[5]))
        for s in found:
            if s.status != "ok":
                _err(f"{s.pin.name}: {s.detail}")
    if extra:
        _out("installed Python packs not added yet: " + ", ".join(f"{n} ({d})" for n, d in extra))
        _out("  add one with `continuous packs add python:NAME`")
    if any(s.status != "ok" for s in found):
        raise typer.Exit(2)


@packs_app.command("update", help="Move packs (default: all) to what their source holds now, and pin that.")
@command
def update_cmd(
    names: list[str] | None = typer.Argument(None, metavar="[NAME]...", help="Packs to update (default: all)."),
    ref: str | None = typer.Option(None, "--ref", help="Pin this branch, tag or commit instead (one git pack)."),
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.dsl import packs

    root = _root()
    changes = packs.update(root, list(names or []), ref=ref)
    if as_json:
        print_json([c.as_json() for c in changes])
        return
    if not changes:
        _out(f"no packs pinned in {packs.LOCK_NAME}")
    for c in changes:
        if c.action == "unchanged":
            _out(f"{c.name}: unchanged ({_pin_text(c.after)})")
        else:
            assert c.before is not None and c.after is not None
            _out(f"{c.name}: {c.before.version} ({_pin_text(c.before)}) -> {c.after.version} ({_pin_text(c.after)})")


@packs_app.command("remove", help="Unpin a pack: its scenarios leave the rule base.")
@command
def remove_cmd(name: str = typer.Argument(..., help="The pack's name."), as_json: bool = JSON_OPT) -> None:
    from continuous.dsl import packs

    change = packs.remove(_root(), name)
    if as_json:
        print_json(change.as_json())
        return
    _out(f"removed pack {name}")


@packs_app.command("install", help="Fetch every pinned git pack this clone lacks (after a clone or pull).")
@command
def install_cmd(as_json: bool = JSON_OPT) -> None:
    from continuous.dsl import packs

    changes = packs.install(_root())
    if as_json:
        print_json([c.as_json() for c in changes])
        return
    if not changes:
        _out(f"no packs pinned in {packs.LOCK_NAME}")
    for c in changes:
        _out(f"{c.name}: {'fetched' if c.action == 'installed' else 'present'} ({_pin_text(c.after)})")


@command
def eject_cmd(
    scenario_id: str = typer.Argument(..., metavar="ID", help="Scenario id or alias."),
    to: Path | None = typer.Option(
        None, "--to", metavar="DIR", help="Folder to copy into (default: the first scenario_paths folder)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.common.config import load_config
    from continuous.dsl.eject import CONFIG_NAME, eject

    root = _root()
    result = eject(load_config(root), scenario_id, to=to)

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(root.resolve()))
        except ValueError:
            return str(p)

    if as_json:
        print_json(
            {
                "scenario": result.scenario,
                "from": result.origin,
                "file": rel(result.file),
                "templates": [rel(p) for p in result.templates],
                "kept": [rel(p) for p in result.kept],
                "config_changed": result.config_changed,
            }
        )
        return
    _out(f"ejected {result.scenario} from the {result.origin} to {rel(result.file)}")
    for p in result.templates:
        _out(f"  template {rel(p)}")
    for p in result.kept:
        _out(f"  template {rel(p)} (already there, identical)")
    if result.config_changed:
        _out(f"  added {rel(result.directory)} to scenario_paths in {CONFIG_NAME}")
    _out(f"the copy now overrides the {result.origin} scenario; `continuous validate` checks your changes")
