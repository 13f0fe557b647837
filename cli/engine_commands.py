"""Engine commands: facts, run-scenario, run-plan, resume, rollback, scenario-status."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from continuous.cli.output import command, print_json
from continuous.engine.run import events as ev
from continuous.engine.run.events import RunObserver

if TYPE_CHECKING:
    from continuous.engine.plan import SavedPlan


def register(app: typer.Typer) -> None:
    app.command("facts", help="Facts discovered in the repository (tables, services, apps, ports...).")(facts_cmd)
    from continuous.cli.scenario_help import ScenarioHelpCommand

    app.command(
        "run-scenario",
        cls=ScenarioHelpCommand,
        help="Run a scenario and everything it needs, with a checkpoint per step. `run-scenario ID --help` lists "
        "the scenario's parameters.",
    )(run_scenario_cmd)
    app.command("run-plan", help="Run a plan saved by `continuous plan --out FILE`.")(run_plan_cmd)
    app.command("resume", help="Continue an execution that was killed, from its last completed step.")(resume_cmd)
    app.command("rollback", help="Undo an execution: restore every file it touched to its earlier content.")(
        rollback_cmd
    )
    app.command("scenario-status", help="Show an execution: its plan, steps, checkpoints and artifacts.")(status_cmd)


def _check_message(commit: bool, message: str | None) -> None:
    from continuous.common.errors import UserError

    if message is not None and not commit:
        raise UserError("--message is the commit message of --commit", hint="add --commit, or leave --message out")


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


class _Progress(RunObserver):
    """A live line per step on a terminal; plain lines otherwise. Quiet under --json.

    Parameter values, step names and command output are user text: they go out as rich `Text`, never as markup,
    so `[/x]` in a description prints as itself instead of crashing the run."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        from rich.console import Console

        self.con = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
        self.status: Any = None
        self.total = 0
        self.rolling_back_now = False

    def _print(self, *parts: str | tuple[str, str]) -> None:
        from rich.text import Text

        self.con.print(Text.assemble(*parts))

    def item_started(self, event: ev.ItemStarted) -> None:
        if self.quiet:
            return
        self._stop()
        params = " ".join(f"{k}={v}" for k, v in event.params.items() if v != "")
        self._print((f"({event.index + 1}/{event.total}) {event.scenario}", "bold"), f" {params}")
        self.total = event.steps

    def step_started(self, event: ev.StepStarted) -> None:
        if self.quiet:
            return
        self._stop()
        text = f"  … {event.number}/{self.total} {event.name} ({event.kind})"
        if self.con.is_terminal:
            from rich.text import Text

            self.status = self.con.status(Text(text))
            self.status.start()

    def step_done(self, event: ev.StepDone) -> None:
        if self.quiet:
            return
        self._stop()
        self._print(
            ("  ✓", "green"),
            f" {event.number}/{self.total} {event.name} ",
            (f"{_duration(event.seconds)} checkpoint {event.checkpoint[:10]}", "dim"),
        )

    def validated(self, event: ev.Validated) -> None:
        if not self.quiet:
            self._print(("  ✓", "green"), f" {event.label}")

    def rolling_back(self, event: ev.RollingBack) -> None:
        if self.quiet:
            return
        self.rolling_back_now = True
        self._stop()
        self._print((f"✗ {event.message}", "red"), "\n", ("rolling back…", "yellow"))

    def restored(self, event: ev.Restored) -> None:
        if not self.quiet and self.rolling_back_now:
            self._print(f"  restored {_count(len(event.restored) + len(event.removed), 'file')}")

    def resumed(self, event: ev.Resumed) -> None:
        if not self.quiet:
            self._print(f"resuming {event.execution_id} after {_count(event.completed, 'completed step')}")

    def _stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def _count(n: int, noun: str) -> str:
    from continuous.cli.output import count

    return count(n, noun)


def _duration(seconds: float) -> str:
    from continuous.common.humanize import duration

    return duration(seconds)


def _finish(result: Any, as_json: bool) -> None:
    """Print a run's result; exit 130 when it was interrupted (resumable), 1 when it failed or its commit was
    refused."""
    from continuous.engine.report import render_result

    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        sys.stdout.write(render_result(result))
    if result.status == "interrupted":
        raise typer.Exit(130)
    if not result.ok or result.commit_error:
        raise typer.Exit(1)


@contextmanager
def _stop_on_signal(ex: Any, as_json: bool) -> Iterator[None]:
    """Ctrl-C or SIGTERM during a run: the first stops it after the current step (resumable, exit 130); a
    second one stops it at once (still resumable: the journal knows the step in progress)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: Any) -> None:
        if ex.stop_requested:
            raise KeyboardInterrupt
        ex.request_stop()
        if not as_json:
            sys.stderr.write(
                f"\n{signal.Signals(signum).name}: stopping after the current step "
                "(press Ctrl-C again to stop at once; the run stays resumable)\n"
            )

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _confirm(report: Any, yes: bool, as_json: bool) -> None:
    if yes or as_json or not sys.stdin.isatty():
        return
    from continuous.cli.paging import show

    show(report.render(diffs=False), pager=False)
    if not typer.confirm("Run it?", default=True):
        raise typer.Exit(1)


NO_PAGER_OPT = typer.Option(
    False, "--no-pager", help="Print the dry-run directly, without a pager (also: CONTINUOUS_PAGER=off)."
)


def complete_scenario_id(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of a scenario id or alias, with its summary."""
    from continuous.cli.scenario_help import complete_scenario_id as complete

    return complete(incomplete)


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
    sys.stdout.write(f"{_count(len(facts), 'fact')}\n")


@command
def run_scenario_cmd(
    scenario_id: str = typer.Argument(
        ..., metavar="ID", help="Scenario id or alias.", autocompletion=complete_scenario_id
    ),
    positional: list[str] = typer.Argument(None, metavar="PARAMS", help="Positional parameters, in declared order."),
    param: list[str] = typer.Option([], "--param", "-p", help="A parameter as NAME=VALUE (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    commit: bool = typer.Option(False, "--commit", help="Make one commit of the changed files at the end."),
    message: str | None = typer.Option(None, "--message", "-m", help="The commit message for --commit."),
    no_diff: bool = typer.Option(False, "--no-diff", help="Dry-run without the unified diffs."),
    no_pager: bool = NO_PAGER_OPT,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (carries execution_id)."),
) -> None:
    from continuous.engine.executor import Request

    named = _parse_params(param)
    ex = _executor(as_json)
    try:
        if not as_json:
            from continuous.cli.dsl_commands import override_notes

            scenario = ex.rule_base.resolve_id(scenario_id)
            for line in override_notes(ex.rule_base, {scenario}):
                sys.stderr.write(line + "\n")
        named = _fill_missing(
            ex.scenario(scenario_id),
            tuple(positional or ()),
            named,
            as_json,
            ["continuous", "run-scenario", scenario_id, *(positional or ()), *_flags(dry_run)],
        )
        request = Request(scenario=scenario_id, positional=tuple(positional or ()), params=named)
        if dry_run:
            report = ex.dry_run(ex.build_plan([request]))
            if as_json:
                print_json(report.model_dump(mode="json"))
            else:
                _show(report.render(diffs=not no_diff), no_pager)
            if report.problems:
                raise typer.Exit(1)
            return
        if not (yes or as_json or not sys.stdin.isatty()):
            _confirm(ex.dry_run(ex.build_plan([request])), yes, as_json)
        _check_message(commit, message)
        plan = ex.build_plan([request], allocate_ports=True)
        with _stop_on_signal(ex, as_json):
            result = ex.run(plan, commit=commit, message=message)
    finally:
        ex.close()
    _finish(result, as_json)


def _flags(dry_run: bool) -> list[str]:
    return ["--dry-run"] if dry_run else []


def _show(text: str, no_pager: bool) -> None:
    from continuous.cli.paging import show

    show(text, pager=not no_pager)


def _fill_missing(
    scenario: Any, positional: tuple[str, ...], named: dict[str, Any], as_json: bool, argv: list[str]
) -> dict[str, Any]:
    """Ask for the required parameters nobody gave (on a terminal), or stop with the list of them (exit 2)."""
    import shlex

    from continuous.cli import prompting

    missing = prompting.missing_params(scenario, positional, named)
    if not missing:
        return named
    wanted = [(scenario.id, p) for p in missing]
    if not prompting.can_prompt(as_json):
        given = [f"--param {shlex.quote(f'{k}={v}')}" for k, v in named.items()]
        raise prompting.missing_error(wanted, command=" ".join([*map(shlex.quote, argv), *given]))
    answers = prompting.ask_all(wanted)
    return {**named, **{name: value for (_, name), value in answers.items()}}


def _executor(as_json: bool) -> Any:
    from continuous.cli.operations import executor

    return executor(observer=_Progress(quiet=as_json))


@command
def run_plan_cmd(
    file: Path = typer.Argument(..., help="A plan file written by `continuous plan --out`."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="A parameter the plan leaves open: SCENARIO.NAME=VALUE (or NAME=VALUE)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    commit: bool = typer.Option(False, "--commit", help="Make one commit of the changed files at the end."),
    no_diff: bool = typer.Option(False, "--no-diff", help="Dry-run without the unified diffs."),
    no_pager: bool = NO_PAGER_OPT,
    message: str | None = typer.Option(None, "--message", "-m", help="The commit message for --commit."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (carries execution_id)."),
) -> None:
    from continuous.engine.plan import load_saved_plan

    _check_message(commit, message)
    data = load_saved_plan(file)
    ex = _executor(as_json)
    try:
        data = _fill_plan(
            ex, data, _parse_params(param), as_json, ["continuous", "run-plan", str(file), *_flags(dry_run)]
        )
        plan = ex.plan_from_saved(data, allocate_ports=not dry_run)
        if dry_run or not (yes or as_json or not sys.stdin.isatty()):
            report = ex.dry_run(plan)
            if dry_run:
                if as_json:
                    print_json(report.model_dump(mode="json"))
                else:
                    _show(report.render(diffs=not no_diff), no_pager)
                return
            _confirm(report, yes, as_json)
        with _stop_on_signal(ex, as_json):
            result = ex.run(plan, commit=commit, message=message)
    finally:
        ex.close()
    _finish(result, as_json)


def _fill_plan(ex: Any, data: SavedPlan, given: dict[str, Any], as_json: bool, argv: list[str]) -> SavedPlan:
    """Put --param values into the saved plan's items, then ask for (or list) the required ones still open. A
    NAME=VALUE goes to every item that has that parameter and misses it; SCENARIO.NAME=VALUE to that scenario's."""
    import shlex

    from continuous.cli import prompting
    from continuous.common.errors import UserError

    items = [(ex.scenario(raw.scenario), raw.scenario, dict(raw.params)) for raw in data.items]
    used: set[str] = set()
    for sc, named, params in items:
        for key, value in given.items():
            scope, dot, name = key.rpartition(".")
            if dot and scope not in (sc.id, named):
                continue
            if sc.param(name) is not None and name not in params:
                params[name] = value
                used.add(key)
    unused = sorted(set(given) - used)
    if unused:
        raise UserError(
            f"--param {unused[0]}: no item of the plan misses that parameter",
            hint="the plan's items and parameters: "
            + "; ".join(f"{sc.id}({', '.join(p.name for p in sc.params)})" for sc, _, _ in items),
        )
    wanted = [(sc.id, p) for sc, _, params in items for p in prompting.missing_params(sc, (), params)]
    if not wanted:
        return data.with_params([params for _, _, params in items])
    if not prompting.can_prompt(as_json):
        given_args = [f"--param {shlex.quote(f'{k}={v}')}" for k, v in given.items()]
        raise prompting.missing_error(wanted, command=" ".join([*map(shlex.quote, argv), *given_args]))
    answers = prompting.ask_all(wanted)
    for sc, _, params in items:
        for (sid, name), value in answers.items():
            if sid == sc.id and name not in params:
                params[name] = value
    return data.with_params([params for _, _, params in items])


@command
def resume_cmd(
    execution_id: str = typer.Argument(..., metavar="EXEC_ID"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:

    ex = _executor(as_json)
    try:
        with _stop_on_signal(ex, as_json):
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

    ex = executor(observer=_Progress(quiet=as_json), living_docs=False)
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
    for w in result.warnings:
        sys.stdout.write(f"warning: {w}\n")


@command
def status_cmd(
    execution_id: str = typer.Argument(..., metavar="EXEC_ID"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    from continuous.cli.operations import get_execution
    from continuous.engine.report import render_status
    from continuous.store import open_store

    record = get_execution(None, execution_id)
    with open_store() as store:
        events = store.list_events(record.id)
    if record.parent_id and not as_json:
        sys.stdout.write(f"(part of run {record.parent_id})\n")
    if as_json:
        print_json({**record.model_dump(mode="json"), "events": [e.model_dump(mode="json") for e in events]})
        return
    sys.stdout.write(render_status(record, events))
