"""Engine commands: facts, run-scenario, run-plan, resume, rollback, scenario-status."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from continuous.cli.output import command, print_json


def register(app: typer.Typer) -> None:
    app.command("facts", help="Facts discovered in the repository (tables, services, apps, ports...).")(
        facts_cmd
    )
    app.command("run-scenario", help="Run a scenario and everything it needs, with a checkpoint per step.")(
        run_scenario_cmd
    )
    app.command("run-plan", help="Run a plan saved by `continuous plan --out FILE`.")(run_plan_cmd)
    app.command("resume", help="Continue an execution that was killed, from its last completed step.")(
        resume_cmd
    )
    app.command("rollback", help="Undo an execution: restore every file it touched to its earlier content.")(
        rollback_cmd
    )
    app.command("scenario-status", help="Show an execution: its plan, steps, checkpoints and artifacts.")(
        status_cmd
    )


def _parse_params(values: list[str]) -> dict[str, Any]:
    from continuous.common.errors import UserError

    out: dict[str, Any] = {}
    for raw in values:
        if "=" not in raw:
            raise UserError(f"--param {raw!r} is not NAME=VALUE", hint="e.g. --param name=user_preferences")
        key, value = raw.split("=", 1)
        key = key.strip()
        if not key:
            raise UserError(f"--param {raw!r} has no name")
        if key in out:
            raise UserError(f"--param {key} is given twice")
        out[key] = value
    return out


class _Progress:
    """A live line per step on a terminal; plain lines otherwise. Quiet under --json.

    Parameter values, step names and command output are user text: they go out as rich `Text`, never as markup,
    so `[/x]` in a description prints as itself instead of crashing the run."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        from rich.console import Console

        self.con = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
        self.status: Any = None
        self.total = 0
        self.rolling_back = False

    def _print(self, *parts: str | tuple[str, str]) -> None:
        from rich.text import Text

        self.con.print(Text.assemble(*parts))

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        if kind == "item":
            self._stop()
            params = " ".join(f"{k}={v}" for k, v in data["params"].items() if v != "")
            self._print((f"({data['index'] + 1}/{data['total']}) {data['scenario']}", "bold"), f" {params}")
            self.total = data["steps"]
        elif kind == "step":
            self._stop()
            text = f"  … {data['number']}/{self.total} {data['name']} ({data['kind']})"
            if self.con.is_terminal:
                from rich.text import Text

                self.status = self.con.status(Text(text))
                self.status.start()
        elif kind == "step_done":
            self._stop()
            self._print(
                ("  ✓", "green"),
                f" {data['number']}/{self.total} {data['name']} ",
                (f"{data['seconds']:.2f}s checkpoint {data['checkpoint'][:10]}", "dim"),
            )
        elif kind == "validated":
            self._print(("  ✓", "green"), f" {data['label']}")
        elif kind == "rollback":
            self.rolling_back = True
            self._stop()
            self._print((f"✗ {data['message']}", "red"), "\n", ("rolling back…", "yellow"))
        elif kind == "restored" and self.rolling_back:
            n = len(data["restored"]) + len(data["removed"])
            self._print(f"  restored {n} file(s)")
        elif kind == "resume":
            self._print(f"resuming {data['execution_id']} after {data['completed']} completed step(s)")

    def _stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def _finish(result: Any, as_json: bool) -> None:
    from continuous.engine.report import render_result

    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        sys.stdout.write(render_result(result))
    if not result.ok:
        raise typer.Exit(1)


def _confirm(report: Any, yes: bool, as_json: bool) -> None:
    if yes or as_json or not sys.stdin.isatty():
        return
    sys.stdout.write(report.render(diffs=False))
    if not typer.confirm("Run it?", default=True):
        raise typer.Exit(1)


@command
def facts_cmd(
    fact_type: str | None = typer.Option(None, "--type", "-t", help="Only facts of this type."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    from continuous.cli import operations

    facts = operations.facts(operations.executor(living_docs=False), fact_type)
    if as_json:
        print_json([f.to_json() for f in facts])
        return
    for f in facts:
        fields = " ".join(f"{k}={v}" for k, v in f.fields.items())
        sys.stdout.write(f"{f.type:<14} {fields}  ({f.source})\n")
    sys.stdout.write(f"{len(facts)} fact(s)\n")


@command
def run_scenario_cmd(
    scenario_id: str = typer.Argument(..., metavar="ID", help="Scenario id or alias."),
    positional: list[str] = typer.Argument(
        None, metavar="PARAMS", help="Positional parameters, in declared order."
    ),
    param: list[str] = typer.Option([], "--param", "-p", help="A parameter as NAME=VALUE (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    commit: bool = typer.Option(False, "--commit", help="Make one commit of the changed files at the end."),
    no_diff: bool = typer.Option(False, "--no-diff", help="Dry-run without the unified diffs."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (carries execution_id)."),
) -> None:
    from continuous.engine.executor import Request

    request = Request(scenario=scenario_id, positional=tuple(positional or ()), params=_parse_params(param))
    ex = _executor(as_json)
    try:
        if not as_json:
            from continuous.cli.dsl_commands import override_notes

            scenario = ex.rule_base.resolve_id(scenario_id)
            for line in override_notes(ex.rule_base, {scenario}):
                sys.stderr.write(line + "\n")
        if dry_run:
            report = ex.dry_run(ex.build_plan([request]))
            if as_json:
                print_json(report.model_dump(mode="json"))
            else:
                sys.stdout.write(report.render(diffs=not no_diff))
            if report.problems:
                raise typer.Exit(1)
            return
        if not (yes or as_json or not sys.stdin.isatty()):
            _confirm(ex.dry_run(ex.build_plan([request])), yes, as_json)
        plan = ex.build_plan([request], allocate_ports=True)
        result = ex.run(plan, commit=commit)
    finally:
        ex.close()
    _finish(result, as_json)


def _executor(as_json: bool) -> Any:
    from continuous.cli.operations import executor

    return executor(on_event=_Progress(quiet=as_json))


@command
def run_plan_cmd(
    file: Path = typer.Argument(..., help="A plan file written by `continuous plan --out`."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    commit: bool = typer.Option(False, "--commit", help="Make one commit of the changed files at the end."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (carries execution_id)."),
) -> None:
    from continuous.engine.plan import load_saved_plan

    data = load_saved_plan(file)
    ex = _executor(as_json)
    try:
        plan = ex.plan_from_saved(data, allocate_ports=not dry_run)
        if dry_run or not (yes or as_json or not sys.stdin.isatty()):
            report = ex.dry_run(plan)
            if dry_run:
                if as_json:
                    print_json(report.model_dump(mode="json"))
                else:
                    sys.stdout.write(report.render())
                return
            _confirm(report, yes, as_json)
        result = ex.run(plan, commit=commit)
    finally:
        ex.close()
    _finish(result, as_json)


@command
def resume_cmd(
    execution_id: str = typer.Argument(..., metavar="EXEC_ID"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:

    ex = _executor(as_json)
    try:
        result = ex.resume(execution_id)
    finally:
        ex.close()
    _finish(result, as_json)


@command
def rollback_cmd(
    execution_id: str = typer.Argument(..., metavar="EXEC_ID"),
    force: bool = typer.Option(False, "--force", help="Roll back even over files changed after the run."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    from continuous.cli.operations import executor

    ex = executor(on_event=_Progress(quiet=as_json), living_docs=False)
    try:
        result = ex.rollback(execution_id, force=force)
    finally:
        ex.close()
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    sys.stdout.write(
        f"Execution {result.execution_id} rolled back: {len(result.restored)} file(s) restored, "
        f"{len(result.removed)} removed\n"
    )
    for p in result.restored:
        sys.stdout.write(f"  restored {p}\n")
    for p in result.removed:
        sys.stdout.write(f"  removed  {p}\n")


@command
def status_cmd(
    execution_id: str = typer.Argument(..., metavar="EXEC_ID"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    from continuous.cli.operations import get_execution
    from continuous.engine.report import render_status

    record = get_execution(None, execution_id)
    if record.parent_id and not as_json:
        sys.stdout.write(f"(part of run {record.parent_id})\n")
    if as_json:
        print_json(record.model_dump(mode="json"))
        return
    sys.stdout.write(render_status(record))
