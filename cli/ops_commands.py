"""Operations commands: check, tasks, docs, archive, health, enqueue, worker, jobs.

Only typer and the standard library at module level; each command imports what it needs when it runs.
"""

from __future__ import annotations

from pathlib import Path

import typer
from continuous.cli.output import command, print_json

JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")
REPO = typer.Option(None, "--repo", "-C", help="Worktree to work on (default: the current directory).")


def register(app: typer.Typer) -> None:
    app.command("check")(check_cmd)
    tasks = typer.Typer(help="Development tasks (dev_tasks) opened by checks and runs.", no_args_is_help=True)
    tasks.command("list")(tasks_list)
    tasks.command("show")(tasks_show)
    tasks.command("close")(tasks_close)
    tasks.command("reopen")(tasks_reopen)
    app.add_typer(tasks, name="tasks")
    docs = typer.Typer(
        help="Living documentation: scenario catalogue, dependency graph, inventory.", no_args_is_help=True
    )
    docs.command("build")(docs_build)
    app.add_typer(docs, name="docs")
    app.command("archive")(archive_cmd)
    app.command("health")(health_cmd)
    app.command("enqueue")(enqueue_cmd)
    app.command("worker")(worker_cmd)
    app.command("jobs")(jobs_cmd)


# ---------------------------------------------------------------------------------------------------- check


@command
def check_cmd(
    as_json: bool = JSON,
    fix: bool = typer.Option(False, "--fix", help="Apply each auto-fix as a normal, checkpointed execution."),
    standard: list[str] = typer.Option(None, "--standard", "-s", help="Only this standard (repeatable)"),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail the check too (errors always do)."),
    baseline: bool = typer.Option(
        False,
        "--baseline",
        help="Record today's violations in .continuous-baseline.json; later checks fail only on new ones.",
    ),
    no_tasks: bool = typer.Option(False, "--no-tasks", help="Do not open or close dev tasks (no database)."),
    repo: Path = REPO,
) -> None:
    """Check the repository against its standards; exit 1 when an error (with --strict: a warning) is found that
    the baseline does not hold. `continuous: ignore RULE` in a comment accepts one place (docs/standards.md)."""
    from continuous.cli.operations import check

    report = check(repo, standards=standard or None, fix=fix, tasks=not no_tasks, strict=strict, baseline=baseline)
    if as_json:
        print_json(report.to_json())
    else:
        _print_check(report)
    if report.failed:
        raise typer.Exit(1)


def _count(n: int, noun: str) -> str:
    from continuous.cli.output import count

    return count(n, noun)


def _print_check(report: object) -> None:
    from typing import Any

    r: Any = report
    for f in r.fixes:
        mark = "fixed" if f.status == "success" else f"fix {f.status}"
        ref = f" (execution {f.execution_id[:8]})" if f.execution_id else ""
        typer.echo(
            f"{f.location}: {mark}: {f.standard} via {f.scenario}{ref}"
            + (f"\n  {f.error}" if f.error and f.status != "success" else "")
        )
    for v in r.violations:
        hint = f" [fix: continuous check --fix -s {v.standard}]" if v.fixable else ""
        typer.echo(f"{v.location}: {v.severity}: {v.standard}: {v.message}{hint}")
    if r.tasks_opened or r.tasks_closed:
        typer.echo(f"tasks: {len(r.tasks_opened)} opened, {len(r.tasks_closed)} closed, {len(r.tasks_kept)} still open")
    if r.baseline_written:
        typer.echo(
            f"recorded {_count(len(r.baselined), 'violation')} in {r.baseline_written}; from now on only "
            "new ones fail `continuous check` (commit the file)"
        )
        return
    extra = []
    if r.baselined:
        extra.append(f"{len(r.baselined)} in the baseline")
    if r.ignored:
        extra.append(f"{len(r.ignored)} ignored by comments")
    if r.baseline_fixed:
        extra.append(
            f"{_count(r.baseline_fixed, 'baseline entry')} no longer found: `continuous check --baseline` drops them"
        )
    n = len(r.violations)
    summary = _count(n, "violation") if n else "no violations"
    if n and not r.failed:
        summary += " (warnings only; --strict fails on them)" if not r.strict else ""
    typer.echo(summary + (f"; {'; '.join(extra)}" if extra else ""))


# ---------------------------------------------------------------------------------------------------- tasks


@command
def tasks_list(
    status: str = typer.Option("open", "--status", help="open, closed, wontfix or all."),
    as_json: bool = JSON,
    repo: Path = REPO,
) -> None:
    """List development tasks."""
    from continuous.common.errors import UserError
    from continuous.ops.context import repo_context

    if status not in ("open", "closed", "wontfix", "all"):
        raise UserError(f"--status must be open, closed, wontfix or all, not {status!r}")
    store = repo_context(repo).open_store()
    try:
        tasks = store.list_tasks(None if status == "all" else status)
    finally:
        store.close()
    if as_json:
        print_json([t.model_dump(mode="json") for t in tasks])
        return
    if not tasks:
        typer.echo(f"no {status if status != 'all' else ''} tasks".replace("  ", " "))
    if tasks:
        from continuous.cli.output import print_table

        print_table(
            ["ID", "STATUS", "SOURCE", "TITLE"],
            [[t.id[:8], t.status, t.source, t.title] for t in tasks],
            wrap=("TITLE",),
        )


@command
def tasks_show(
    task_id: str = typer.Argument(..., help="Task id (or a unique prefix)."), as_json: bool = JSON, repo: Path = REPO
) -> None:
    """Show one task."""
    from continuous.ops.context import repo_context

    store = repo_context(repo).open_store()
    try:
        task = store.get_task(task_id)
    finally:
        store.close()
    if as_json:
        print_json(task.model_dump(mode="json"))
        return
    for key, value in task.model_dump(mode="json").items():
        if value not in (None, ""):
            typer.echo(f"{key + ':':<14}{value}")


@command
def tasks_close(
    task_id: str = typer.Argument(..., help="Task id (or a unique prefix)."),
    reason: str = typer.Option("", "--reason", help="Why it is closed."),
    wont_fix: bool = typer.Option(
        False,
        "--wont-fix",
        help="Close it for good: `continuous check` does not open it again while the violation stays.",
    ),
    as_json: bool = JSON,
    repo: Path = REPO,
) -> None:
    """Close a task (as won't fix with --wont-fix)."""
    from continuous.ops.context import repo_context

    store = repo_context(repo).open_store()
    try:
        task = store.close_task(
            task_id, reason or ("won't fix" if wont_fix else ""), status="wontfix" if wont_fix else "closed"
        )
    finally:
        store.close()
    if as_json:
        print_json(task.model_dump(mode="json"))
    else:
        typer.echo(f"closed {task.id[:8]}{' as won' + chr(39) + 't fix' if wont_fix else ''}: {task.title}")


@command
def tasks_reopen(
    task_id: str = typer.Argument(..., help="Task id (or a unique prefix)."), as_json: bool = JSON, repo: Path = REPO
) -> None:
    """Open a closed or won't-fix task again."""
    from continuous.ops.context import repo_context

    store = repo_context(repo).open_store()
    try:
        task = store.reopen_task(task_id)
    finally:
        store.close()
    if as_json:
        print_json(task.model_dump(mode="json"))
    else:
        typer.echo(f"reopened {task.id[:8]}: {task.title}")


# ---------------------------------------------------------------------------------------------------- docs


@command
def docs_build(
    check: bool = typer.Option(False, "--check", help="Do not write; exit 1 when the docs are stale"),
    out: Path = typer.Option(
        None,
        "--out",
        help="Output directory (default: docs/catalogue in continuous "
        "itself, docs/continuously-updated in a target repo).",
    ),
    as_json: bool = JSON,
    repo: Path = REPO,
) -> None:
    """Build the living docs: scenario catalogue, dependency graph (Mermaid) and repository inventory."""
    from continuous.ops.context import repo_context
    from continuous.ops.livedocs import build_docs

    ctx = repo_context(repo)
    store = None if check else ctx.open_store()
    try:
        result = build_docs(ctx.worktree, ctx.rule_base, out=out, check=check, store=store)
    finally:
        if store is not None:
            store.close()
    if as_json:
        print_json(result.to_json())
    else:
        where = result.out_dir
        for name in result.written:
            typer.echo(f"wrote {where / name}")
        for name in result.stale:
            typer.echo(f"stale: {where / name}")
        if check and not result.stale:
            typer.echo(f"docs in {where} are up to date")
        elif not check and not result.written:
            typer.echo(f"docs in {where} were already up to date")
    if result.stale:
        if not as_json:
            typer.echo("run `continuous docs build` and commit the result", err=True)
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------------- health


@command
def health_cmd(
    as_json: bool = JSON,
    timeout: float = typer.Option(3.0, "--timeout", help="Seconds to wait for each HTTP probe."),
    script_timeout: float = typer.Option(60.0, "--script-timeout", help="Seconds for each health-check.sh."),
    repo: Path = REPO,
) -> None:
    """Probe every registered server port on 127.0.0.1 and run every pipeline's health-check.sh."""
    from continuous.ops.context import repo_context
    from continuous.ops.health import run_health
    from continuous.store.ops_models import OpsDB

    ctx = repo_context(repo)
    store = ctx.open_store()
    try:
        registered = [(p.port, p.owner) for p in store.list_ports()]
        results = run_health(
            ctx.rule_base, ctx.worktree, registered=registered, timeout=timeout, script_timeout=script_timeout
        )
        OpsDB(store.engine).record_health([r.to_json() for r in results], worktree=str(ctx.worktree))
    finally:
        store.close()
    bad = [r for r in results if not r.ok]
    if as_json:
        print_json({"results": [r.to_json() for r in results], "ok": not bad})
    else:
        for r in results:
            ms = f" {r.latency_ms}ms" if r.latency_ms is not None else ""
            typer.echo(f"{r.status:<7} {r.kind:<8} {r.target}{ms}  {r.detail}")
        typer.echo(f"{len(results) - len(bad)}/{len(results)} healthy" if results else "nothing to check")
    if bad:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------------- queue


def _named_params(param: list[str] | None) -> dict[str, str]:
    from continuous.common.errors import UserError

    out: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--param {item!r} is not NAME=VALUE", hint="e.g. --param name=Settings")
        out[key] = value
    return out


@command
def enqueue_cmd(
    scenario: str = typer.Argument(None, help="Scenario id or alias (for --kind scenario)."),
    args: list[str] = typer.Argument(None, help="Positional scenario parameters."),
    param: list[str] = typer.Option(None, "--param", "-p", help="NAME=VALUE (repeatable)."),
    kind: str = typer.Option("scenario", "--kind", help="scenario, check, docs, health or echo."),
    count: int = typer.Option(1, "--count", min=1, max=100_000, help="Enqueue this many identical jobs."),
    as_json: bool = JSON,
    repo: Path = REPO,
) -> None:
    """Queue a scenario run (or a check, docs build, health check, echo) for `continuous worker`."""
    from continuous.common.errors import UserError
    from continuous.ops.context import repo_context
    from continuous.ops.worker import validate_job
    from continuous.store.ops_models import OpsDB

    ctx = repo_context(repo)
    named = _named_params(param)
    payload: dict[str, object]
    if kind == "scenario":
        if not scenario:
            raise UserError("enqueue needs a SCENARIO", hint="e.g. continuous enqueue create-service my-thing")
        sc = ctx.rule_base.scenario(scenario)
        payload = {"scenario": sc.id if sc else scenario, "positional": list(args or []), "params": named}
    elif kind == "check":
        payload = {"standards": [scenario, *(args or [])] if scenario else None, "fix": named.get("fix") == "true"}
    elif kind == "echo":
        payload = {"message": named.get("message", scenario or ""), "sleep": float(named.get("sleep", 0) or 0)}
    else:
        payload = {}
    validate_job(kind, payload, ctx.rule_base)
    store = ctx.open_store()
    try:
        db = OpsDB(store.engine)
        if count == 1:
            job = db.enqueue(kind, payload, worktree=str(ctx.worktree))
            ids = [job.id] if job else []
        else:
            db.enqueue_many([(kind, payload)] * count, worktree=str(ctx.worktree))
            ids = []
    finally:
        store.close()
    if as_json:
        print_json({"kind": kind, "payload": payload, "count": count, "ids": ids})
    else:
        what = payload.get("scenario", kind)
        typer.echo(
            f"queued {_count(count, kind + ' job')} ({what})"
            + (f": {ids[0]}" if ids else "")
            + "; `continuous worker` runs them"
        )


@command
def worker_cmd(
    once: bool = typer.Option(False, "--once", help="Exit when no job is queued or running"),
    max_jobs: int = typer.Option(None, "--max-jobs", min=1, help="Stop after this many jobs."),
    lease: float = typer.Option(60.0, "--lease", min=0.5, help="Lease seconds (renewed while a job runs)."),
    poll: float = typer.Option(1.0, "--poll", min=0.01, help="Seconds between polls of an empty queue."),
    as_json: bool = JSON,
    repo: Path = REPO,
) -> None:
    """Run queued and scheduled jobs. Several workers may share a PostgreSQL queue; SQLite allows one."""
    from continuous.ops.context import repo_context
    from continuous.ops.worker import Worker

    ctx = repo_context(repo)
    worker = Worker(
        ctx.config.database_url,
        repo=ctx.worktree,
        rule_base=ctx.rule_base,
        lease_seconds=lease,
        poll_seconds=poll,
        max_jobs=max_jobs,
        drain=once,
    )
    worker.install_signals()
    stats = worker.run()
    if as_json:
        print_json(stats.to_json())
    else:
        stopped = f"; stopped: {stats.stopped_by}" if stats.stopped_by else ""
        typer.echo(
            f"worker {stats.name}: {stats.completed} completed, {stats.failed} failed, "
            f"{stats.lost} lost, {stats.scheduled} scheduled{stopped}"
        )


@command
def jobs_cmd(
    status: str = typer.Option(None, "--status", help="queued, running, done or failed."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = JSON,
    repo: Path = REPO,
) -> None:
    """List background jobs, newest first."""
    from continuous.ops.context import repo_context
    from continuous.store.ops_models import OpsDB

    store = repo_context(repo).open_store()
    try:
        db = OpsDB(store.engine)
        jobs = db.list_jobs(status, limit)
        counts = db.count_jobs()
    finally:
        store.close()
    if as_json:
        print_json({"counts": counts, "jobs": [j.to_json() for j in jobs]})
        return
    if jobs:
        from continuous.cli.output import print_table

        print_table(
            ["ID", "STATUS", "KIND", "WHAT", "ATTEMPTS", "ERROR"],
            [
                [
                    j.id[:8],
                    j.status,
                    j.kind,
                    str(j.payload.get("scenario") or j.schedule_id or ""),
                    str(j.attempts),
                    j.error.splitlines()[0] if j.error else "",
                ]
                for j in jobs
            ],
            wrap=("WHAT", "ERROR"),
            right=("ATTEMPTS",),
        )
    typer.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "queue is empty")


# ---------------------------------------------------------------------------------------------------- archive


@command
def archive_cmd(
    args: list[str] = typer.Argument(..., help="PATH... | table NAME | list | restore ID"),
    reason: str = typer.Option("", "--reason", "-r", help="Why it is archived (required for PATH and table)"),
    commit: bool = typer.Option(False, "--commit", help="Commit the move when the execution succeeds."),
    as_json: bool = JSON,
    repo: Path = REPO,
) -> None:
    """Archive files or folders (into dated .archived_* folders) or a table; list or restore archived items.

    \b
    continuous archive scripts/cli-pipeline/x/old.ts --reason "replaced by new.ts"
    continuous archive table legacy_sessions --reason "unused since 2025"
    continuous archive list
    continuous archive restore 3f2a9c1e
    """
    from continuous.common.errors import UserError
    from continuous.ops import archive as ar
    from continuous.ops.context import repo_context

    ctx = repo_context(repo)
    action = args[0]
    store = ctx.open_store()
    try:
        if action == "list":
            items = store.list_archived()
            if as_json:
                print_json([i.model_dump(mode="json") for i in items])
            else:
                for i in items:
                    state = {
                        "restored": f"restored {i.restored_at:%Y-%m-%d}" if i.restored_at else "restored",
                        "rolled_back": "archiving rolled back",
                    }.get(i.state, "archived")
                    where = (i.metadata or {}).get("archived_path", "schema archived")
                    typer.echo(
                        f"{i.id[:8]}  {i.archived_at:%Y-%m-%d}  {i.item_type:<9} {i.item_path} -> "
                        f"{where}"
                        f"  [{state}] {i.reason or ''}"
                    )
                if not items:
                    typer.echo("nothing archived yet")
            return
        if action == "restore":
            if len(args) != 2:
                raise UserError("usage: continuous archive restore ID")
            outcome = ar.restore(ctx.worktree, args[1], store=store, commit=commit)
        elif action == "table":
            if len(args) != 2:
                raise UserError("usage: continuous archive table NAME --reason TEXT")
            outcome = ar.archive_table(ctx.worktree, args[1], reason=reason, store=store, commit=commit)
        else:
            outcome = ar.archive_paths(ctx.worktree, args, reason=reason, store=store, commit=commit)
    finally:
        store.close()
    if as_json:
        print_json(outcome.to_json())
    else:
        for item in outcome.items:
            if action == "restore":
                typer.echo(f"restored {item['path']}" + (f" from {item['from']}" if item.get("from") else ""))
            elif action == "table":
                typer.echo(f"archived table {item['path']} (migration written; id {item['id'][:8]})")
            else:
                typer.echo(f"archived {item['path']} -> {item['archived_path']} (id {item['id'][:8]})")
        typer.echo(
            f"execution {outcome.execution_id}: {outcome.status}" + (f": {outcome.error}" if outcome.error else "")
        )
    if outcome.status != "success":
        raise typer.Exit(1)
