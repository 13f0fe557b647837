"""Shared output helpers: the error handler, JSON printing and the rich console.

Every command body runs inside `handle_errors()`: a ContinuousError prints as one plain message on stderr and exits
with its code (2 bad input, 1 failed run); with --debug (or CONTINUOUS_DEBUG=1) the exception is re-raised.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")


def debug_enabled() -> bool:
    return os.environ.get("CONTINUOUS_DEBUG", "") not in ("", "0")


@contextmanager
def handle_errors() -> Iterator[None]:
    from continuous.common.errors import ContinuousError

    try:
        yield
    except ContinuousError as exc:
        if debug_enabled():
            raise
        sys.stderr.write("error: " + exc.render().rstrip() + "\n")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        if debug_enabled():
            raise
        sys.stderr.write("interrupted\n")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        quiet_broken_pipe()
        raise typer.Exit(BROKEN_PIPE_EXIT) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:  # a bug, not bad input: still one line, the traceback behind --debug
        if debug_enabled():
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "  hint: this is a bug in continuous; rerun with --debug for the traceback and report it\n"
        )
        raise typer.Exit(1) from None


BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`


def quiet_broken_pipe() -> None:
    """The reader of our output went away (`continuous facts | head`): that is how a pipe ends, not an error.
    Point stdout at /dev/null so the interpreter's last flush finds nothing to complain about."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of handle_errors for command functions."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with handle_errors():
            return fn(*args, **kwargs)

    return wrapper


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def console(stderr: bool = False) -> Any:
    """A console that never reads markup: every string printed through it is shown as written (table cells,
    titles and notes carry user and repository text). Styling is given with rich `Text`, never `[tags]`."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, markup=False, emoji=False)


def table_width() -> int | None:
    """The width tables fit: the terminal's; when piped, COLUMNS if set, else none (one line per row, for grep)."""
    import shutil

    try:
        terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if terminal:
        return shutil.get_terminal_size((100, 24)).columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def print_table(
    headers: list[str], rows: list[list[str]], *, wrap: tuple[str, ...] = (), right: tuple[str, ...] = ()
) -> None:
    """A plain table (no borders) that fits the terminal: the `wrap` columns break between words when the line
    is too long (a word is cut only when it alone is wider than its column); the others never wrap. Cells are
    printed as written (no markup)."""
    from rich.console import Console
    from rich.table import Table

    width = table_width()
    con = Console(highlight=False, markup=False, emoji=False, width=width or 100_000, soft_wrap=False)
    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    for i, h in enumerate(headers):
        if h in wrap:
            # as wide as its longest word, when the terminal allows it: words break only when they must
            longest = max((len(w) for row in rows for w in row[i].split()), default=len(h))
            table.add_column(h, overflow="fold", min_width=min(max(longest, len(h)), max((width or 0) // 3, 12)))
        else:
            table.add_column(h, no_wrap=True, justify="right" if h in right else "left")
    for row in rows:
        table.add_row(*row)
    if con.is_terminal:
        con.print(table)
        return
    with con.capture() as capture:
        con.print(table)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in capture.get().splitlines()))


def count(n: int, noun: str) -> str:
    """`1 violation`, `3 violations`, `2 baseline entries` (plurals from continuous.common.words)."""
    from continuous.common.words import count as counted

    return counted(n, noun)
