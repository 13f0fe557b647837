"""The `continuous` command.

Each command group lives in its own module under `continuous.cli` and registers itself on the one Typer app.
Command modules import only typer and the standard library at module level; everything heavy is imported inside the
command function, so `continuous --help` stays as fast as a bare Typer app.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any, NoReturn

import typer
from continuous.cli import registry
from continuous.common import worktree_state

app = typer.Typer(
    name="continuous",
    help="Declarative, checkable, recoverable development scenarios for a monorepo.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from continuous import __version__

        typer.echo(f"continuous {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of plain error messages."),
    version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    if debug:
        os.environ["CONTINUOUS_DEBUG"] = "1"


registry.register_all(app)


def run(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point: one handler turns every ContinuousError into a plain message and exit code.

    SIGTERM is handled like Ctrl-C (a run stops after its current step and stays resumable; other commands
    stop with exit 130), and a closed output pipe ends the command quietly."""
    from continuous.cli.output import BROKEN_PIPE_EXIT, quiet_broken_pipe

    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:
        os.environ["CONTINUOUS_DEBUG"] = "1"
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    code: Any = 0
    try:
        with worktree_state.memoised():  # one command: the caches keyed on a worktree share its git status
            app(args=args, prog_name="continuous", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:
        code = BROKEN_PIPE_EXIT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()
        code = code or BROKEN_PIPE_EXIT
    if code == BROKEN_PIPE_EXIT:
        quiet_broken_pipe()
    raise SystemExit(code)
