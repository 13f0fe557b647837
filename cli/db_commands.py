"""The tracking store's commands: `continuous db ...`, `registry sync`, `executions list`.

Only typer and the standard library at module level; SQLAlchemy and Alembic load inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from continuous.cli.output import command, print_json

db_app = typer.Typer(help="The tracking database: schema migrations and what is in it.", no_args_is_help=True)
registry_app = typer.Typer(help="The scenario registry (sys_scenarios) in the tracking database.", no_args_is_help=True)
executions_app = typer.Typer(help="Recorded executions.", no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Print the result as JSON.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(registry_app, name="registry")
    app.add_typer(executions_app, name="executions")


def _out(text: str) -> None:
    sys.stdout.write(text.rstrip("\n") + "\n")


def _resolved() -> Any:
    from continuous.store.url import resolve_url

    resolved = resolve_url(None, repo=Path.cwd())
    if resolved.is_default:
        Path(resolved.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return resolved


@db_app.command("upgrade", help="Migrate the database schema up to REV (default: the newest).")
@command
def upgrade_cmd(revision: str = typer.Argument("head", help="Target revision."), as_json: bool = JSON_OPT) -> None:
    from continuous.common.errors import mask_url
    from continuous.store.migrate import upgrade

    resolved = _resolved()
    result = upgrade(resolved.url, revision)
    data = {"url": mask_url(resolved.url), "before": result.before, "after": result.after}
    if as_json:
        print_json(data)
    elif result.before == result.after:
        _out(f"{data['url']}: already at {result.after}")
    else:
        _out(f"{data['url']}: upgraded {result.before or 'empty'} -> {result.after}")


@db_app.command("downgrade", help="Migrate the database schema down to REV ('base' removes every table).")
@command
def downgrade_cmd(
    revision: str = typer.Argument(..., help="Target revision, or base."), as_json: bool = JSON_OPT
) -> None:
    from continuous.common.errors import mask_url
    from continuous.store.migrate import downgrade

    resolved = _resolved()
    result = downgrade(resolved.url, revision)
    data = {"url": mask_url(resolved.url), "before": result.before, "after": result.after}
    if as_json:
        print_json(data)
    else:
        _out(f"{data['url']}: downgraded {result.before or 'empty'} -> {result.after or 'base (empty)'}")


@db_app.command("current", help="Show the schema revision of the database.")
@command
def current_cmd(as_json: bool = JSON_OPT) -> None:
    from continuous.common.errors import mask_url
    from continuous.store.migrate import current, head

    resolved = _resolved()
    rev = current(resolved.url)
    data = {"url": mask_url(resolved.url), "revision": rev, "head": head(), "up_to_date": rev == head()}
    if as_json:
        print_json(data)
    else:
        state = "up to date" if rev == head() else "run `continuous db upgrade`"
        _out(f"{rev or 'empty'} (head {head()}; {state})")


@db_app.command("info", help="Which database is in use (password masked), its backend, revision and row counts.")
@command
def info_cmd(as_json: bool = JSON_OPT) -> None:
    from continuous.store.repository import describe_database

    info = describe_database(None, repo=Path.cwd())
    if as_json:
        print_json(info.model_dump(mode="json"))
        return
    lines = [
        f"database:  {info.url}",
        f"backend:   {info.backend}",
        f"selected:  {info.source}",
        f"revision:  {info.revision or 'empty'} (head {info.head})",
    ]
    if info.counts:
        width = max(len(t) for t in info.counts)
        lines.append("rows:")
        lines += [f"  {t.ljust(width)}  {n}" for t, n in info.counts.items()]
    _out("\n".join(lines))


@registry_app.command("sync", help="Upsert the rule base into sys_scenarios; archive scenarios that disappeared.")
@command
def sync_cmd(as_json: bool = JSON_OPT) -> None:
    from continuous.common.config import load_config
    from continuous.common.errors import UserError
    from continuous.common.gitinfo import locate
    from continuous.dsl.loader import load_config_rule_base
    from continuous.store import open_store

    try:
        root: Path | None = locate(Path.cwd()).worktree
    except UserError:
        root = None
    config = load_config(root)
    rule_base = load_config_rule_base(config)
    with open_store(repo=Path.cwd()) as store:
        report = store.sync_registry(rule_base)
        url = store.url_masked
    if as_json:
        print_json({"url": url, **report.model_dump()})
        return
    lines = [
        f"{url}: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.unchanged)} unchanged, {len(report.archived)} archived"
    ]
    for label, ids in (
        ("added", report.added),
        ("changed", report.changed),
        ("archived", report.archived),
        ("restored", report.restored),
    ):
        lines += [f"  {label:<9}{sid}" for sid in ids]
    _out("\n".join(lines))


@executions_app.command("list", help="Recorded executions, newest first.")
@command
def list_cmd(
    scenario: str | None = typer.Option(None, "--scenario", "-s", help="Only this scenario id."),
    status: str | None = typer.Option(None, "--status", help="running, success, failed, rolled_back, ..."),
    worktree: Path | None = typer.Option(None, "--worktree", help="Only executions in this worktree."),
    kind: str | None = typer.Option(None, "--kind", help="run (a whole plan) or scenario (one item)."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="At most this many."),
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.cli.operations import list_executions

    rows = list_executions(Path.cwd(), scenario=scenario, status=status, worktree=worktree, kind=kind, limit=limit)
    if as_json:
        print_json([r.model_dump(mode="json", exclude={"steps", "children"}) for r in rows])
        return
    if not rows:
        _out("no executions recorded yet")
        return
    from continuous.cli.output import print_table
    from continuous.common.humanize import duration

    print_table(
        ["ID", "KIND", "SCENARIO", "STATUS", "STARTED (UTC)", "TOOK", "WORKTREE"],
        [
            [
                r.id[:8],
                r.kind,
                r.scenario_id or "(plan)",
                r.status,
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                duration(r.duration_seconds, missing="-"),
                r.worktree or "",
            ]
            for r in rows
        ],
        wrap=("WORKTREE",),
        right=("TOOK",),
    )
